package render

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/slack-go/slack"
)

// ErrLimit is wrapped by every problem Validate reports.
var ErrLimit = errors.New("slack block kit limit exceeded")

// LimitError is one broken limit: where in the message, and what is wrong.
type LimitError struct {
	// Path points into the message, e.g. "blocks[3].text".
	Path string
	// Problem says what is wrong, e.g. "3412 characters, limit 3000".
	Problem string
}

// Error returns the path and the problem, e.g.
// "blocks[3].text: 3412 characters, limit 3000".
func (e *LimitError) Error() string { return e.Path + ": " + e.Problem }

// Unwrap makes errors.Is(err, ErrLimit) hold.
func (e *LimitError) Unwrap() error { return ErrLimit }

// Validate checks m against Slack's Block Kit limits and returns every
// problem, joined; each one is a *LimitError wrapping ErrLimit. Lengths are
// counted in runes, as Slack counts characters. Besides the documented
// limits it bounds the text of all blocks together to 12000 runes, below the
// undocumented threshold of msg_blocks_too_long.
func Validate(m Message) error {
	var c checker
	if m.Text == "" {
		c.fail("text", "empty; Slack needs a text fallback")
	}
	c.maxRunes("text", m.Text, maxText)

	blocks := m.Blocks.BlockSet
	if len(blocks) > maxBlocks {
		c.fail("blocks", "%d blocks, limit %d", len(blocks), maxBlocks)
	}
	ids := map[string]int{}
	total := 0
	for i, b := range blocks {
		p := fmt.Sprintf("blocks[%d]", i)
		if isNil(b) {
			c.fail(p, "missing block")
			continue
		}
		if id := b.ID(); id != "" {
			c.maxRunes(p+".block_id", id, maxID)
			if j, ok := ids[id]; ok {
				c.fail(p+".block_id", "%q repeats blocks[%d].block_id", clip(id, 40), j)
			} else {
				ids[id] = i
			}
		}
		total += blockText(b)
		switch b := asPointer(b).(type) {
		case *slack.HeaderBlock:
			c.header(p, b)
		case *slack.SectionBlock:
			c.section(p, b)
		case *slack.ContextBlock:
			c.context(p, b)
		case *slack.ActionBlock:
			c.actions(p, b)
		}
	}
	if total > maxBlockText {
		c.fail("blocks", "%d characters of text, limit %d", total, maxBlockText)
	}
	return errors.Join(c.errs...)
}

// isNil reports whether v is nil or a nil pointer, on which the value
// methods of slack-go's types would panic.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}

// asPointer turns the block types Validate knows from values into
// pointers, the form slack-go decodes them to, so that one case serves both.
func asPointer(b slack.Block) slack.Block {
	switch b := b.(type) {
	case slack.HeaderBlock:
		return &b
	case slack.SectionBlock:
		return &b
	case slack.ContextBlock:
		return &b
	case slack.ActionBlock:
		return &b
	}
	return b
}

type checker struct {
	errs []error
}

func (c *checker) fail(path, format string, args ...any) {
	c.errs = append(c.errs, &LimitError{Path: path, Problem: fmt.Sprintf(format, args...)})
}

func (c *checker) maxRunes(path, s string, limit int) {
	if n := runes(s); n > limit {
		c.fail(path, "%d characters, limit %d", n, limit)
	}
}

// text checks a text object: present, of a known type (plain_text only
// where Slack requires it), not empty and at most limit runes.
func (c *checker) text(path string, t *slack.TextBlockObject, limit int, plainOnly bool) {
	if t == nil {
		c.fail(path, "missing text")
		return
	}
	switch {
	case t.Type == slack.MarkdownType && plainOnly:
		c.fail(path+".type", "mrkdwn, must be plain_text")
	case t.Type == slack.MarkdownType && t.Emoji != nil:
		c.fail(path+".emoji", "set on mrkdwn text, allowed on plain_text only")
	case t.Type != slack.MarkdownType && t.Type != slack.PlainTextType:
		c.fail(path+".type", "%q, must be plain_text or mrkdwn", clip(t.Type, 40))
	}
	if t.Text == "" {
		c.fail(path, "empty text, at least 1 character")
	}
	c.maxRunes(path, t.Text, limit)
}

func (c *checker) header(p string, b *slack.HeaderBlock) {
	c.text(p+".text", b.Text, maxHeaderText, true)
}

func (c *checker) section(p string, b *slack.SectionBlock) {
	if b.Text == nil && len(b.Fields) == 0 {
		c.fail(p, "neither text nor fields")
	}
	if b.Text != nil {
		c.text(p+".text", b.Text, maxSectionText, false)
	}
	if len(b.Fields) > maxSectionFields {
		c.fail(p+".fields", "%d fields, limit %d", len(b.Fields), maxSectionFields)
	}
	for i, f := range b.Fields {
		c.text(fmt.Sprintf("%s.fields[%d]", p, i), f, maxFieldText, false)
	}
	if a := b.Accessory; a != nil {
		p += ".accessory"
		switch {
		case a.ButtonElement != nil:
			c.element(p, a.ButtonElement)
		case a.OverflowElement != nil:
			c.element(p, a.OverflowElement)
		case a.SelectElement != nil:
			c.element(p, a.SelectElement)
		}
	}
}

func (c *checker) context(p string, b *slack.ContextBlock) {
	els := b.ContextElements.Elements
	if len(els) == 0 {
		c.fail(p+".elements", "empty, at least 1 element")
	}
	if len(els) > maxContextElements {
		c.fail(p+".elements", "%d elements, limit %d", len(els), maxContextElements)
	}
	for i, e := range els {
		switch t := e.(type) {
		case *slack.TextBlockObject:
			c.text(fmt.Sprintf("%s.elements[%d]", p, i), t, maxTextObject, false)
		case slack.TextBlockObject:
			c.text(fmt.Sprintf("%s.elements[%d]", p, i), &t, maxTextObject, false)
		}
	}
}

func (c *checker) actions(p string, b *slack.ActionBlock) {
	var els []slack.BlockElement
	if b.Elements != nil {
		els = b.Elements.ElementSet
	}
	if len(els) == 0 {
		c.fail(p+".elements", "empty, at least 1 element")
	}
	if len(els) > maxActionElements {
		c.fail(p+".elements", "%d elements, limit %d", len(els), maxActionElements)
	}
	ids := map[string]int{}
	for i, e := range els {
		ep := fmt.Sprintf("%s.elements[%d]", p, i)
		if isNil(e) {
			c.fail(ep, "missing element")
			continue
		}
		if id := actionID(e); id != "" {
			if j, ok := ids[id]; ok {
				c.fail(ep+".action_id", "%q repeats elements[%d].action_id", clip(id, 40), j)
			} else {
				ids[id] = i
			}
		}
		c.element(ep, e)
	}
}

// actionID returns an interactive element's action_id.
func actionID(e slack.BlockElement) string {
	switch e := e.(type) {
	case *slack.ButtonBlockElement:
		return e.ActionID
	case *slack.SelectBlockElement:
		return e.ActionID
	case *slack.OverflowBlockElement:
		return e.ActionID
	}
	return ""
}

func (c *checker) element(p string, e slack.BlockElement) {
	c.maxRunes(p+".action_id", actionID(e), maxID)
	switch e := e.(type) {
	case *slack.ButtonBlockElement:
		c.text(p+".text", e.Text, maxButtonText, true)
		c.maxRunes(p+".value", e.Value, maxButtonValue)
		c.maxRunes(p+".url", e.URL, maxButtonURL)
		if s := e.Style; s != slack.StyleDefault && s != slack.StylePrimary && s != slack.StyleDanger {
			c.fail(p+".style", "%q, must be primary or danger", clip(string(s), 40))
		}
		c.confirm(p+".confirm", e.Confirm)
	case *slack.SelectBlockElement:
		if e.Placeholder != nil {
			c.text(p+".placeholder", e.Placeholder, maxPlaceholder, true)
		}
		if e.Type == slack.OptTypeStatic {
			if len(e.Options) == 0 && len(e.OptionGroups) == 0 {
				c.fail(p+".options", "empty, at least 1 option")
			}
			if len(e.Options) > maxSelectOptions {
				c.fail(p+".options", "%d options, limit %d", len(e.Options), maxSelectOptions)
			}
			if len(e.OptionGroups) > maxSelectOptions {
				c.fail(p+".option_groups", "%d groups, limit %d", len(e.OptionGroups), maxSelectOptions)
			}
		}
		c.options(p+".options", e.Options)
		for i, og := range e.OptionGroups {
			if og != nil {
				c.options(fmt.Sprintf("%s.option_groups[%d].options", p, i), og.Options)
			}
		}
		c.confirm(p+".confirm", e.Confirm)
	case *slack.OverflowBlockElement:
		if n := len(e.Options); n < minOverflowOptions || n > maxOverflowOptions {
			c.fail(p+".options", "%d options, must be %d to %d", n, minOverflowOptions, maxOverflowOptions)
		}
		c.options(p+".options", e.Options)
		c.confirm(p+".confirm", e.Confirm)
	}
}

func (c *checker) options(p string, opts []*slack.OptionBlockObject) {
	for i, o := range opts {
		op := fmt.Sprintf("%s[%d]", p, i)
		if o == nil {
			c.fail(op, "missing option")
			continue
		}
		c.text(op+".text", o.Text, maxOptionText, true)
		c.maxRunes(op+".value", o.Value, maxOptionValue)
	}
}

func (c *checker) confirm(p string, cf *slack.ConfirmationBlockObject) {
	if cf == nil {
		return
	}
	c.text(p+".title", cf.Title, maxConfirmTitle, true)
	c.text(p+".text", cf.Text, maxConfirmText, false)
	c.text(p+".confirm", cf.Confirm, maxConfirmButton, true)
	if cf.Deny != nil {
		c.text(p+".deny", cf.Deny, maxConfirmButton, true)
	}
}

// blockText counts the runes of every text object in b: the measure that
// the 12000-rune total applies to. Block ids, values and URLs outside text
// do not count.
func blockText(b slack.Block) int {
	if isNil(b) {
		return 0
	}
	n := 0
	switch b := asPointer(b).(type) {
	case *slack.HeaderBlock:
		n += textRunes(b.Text)
	case *slack.SectionBlock:
		n += textRunes(b.Text)
		for _, f := range b.Fields {
			n += textRunes(f)
		}
		if a := b.Accessory; a != nil {
			for _, e := range []slack.BlockElement{a.ButtonElement, a.OverflowElement, a.SelectElement} {
				n += elementText(e)
			}
		}
	case *slack.ContextBlock:
		for _, e := range b.ContextElements.Elements {
			switch t := e.(type) {
			case *slack.TextBlockObject:
				n += textRunes(t)
			case slack.TextBlockObject:
				n += runes(t.Text)
			}
		}
	case *slack.ActionBlock:
		if b.Elements != nil {
			for _, e := range b.Elements.ElementSet {
				n += elementText(e)
			}
		}
	}
	return n
}

// elementText counts the runes of every text object in an element,
// confirmation dialog included.
func elementText(e slack.BlockElement) int {
	if isNil(e) {
		return 0
	}
	n := 0
	switch e := e.(type) {
	case *slack.ButtonBlockElement:
		n += textRunes(e.Text) + confirmText(e.Confirm)
	case *slack.SelectBlockElement:
		n += textRunes(e.Placeholder) + optionsText(e.Options) + confirmText(e.Confirm)
		for _, og := range e.OptionGroups {
			if og != nil {
				n += textRunes(og.Label) + optionsText(og.Options)
			}
		}
	case *slack.OverflowBlockElement:
		n += optionsText(e.Options) + confirmText(e.Confirm)
	}
	return n
}

func optionsText(opts []*slack.OptionBlockObject) int {
	n := 0
	for _, o := range opts {
		if o != nil {
			n += textRunes(o.Text) + textRunes(o.Description)
		}
	}
	return n
}

func confirmText(c *slack.ConfirmationBlockObject) int {
	if c == nil {
		return 0
	}
	return textRunes(c.Title) + textRunes(c.Text) + textRunes(c.Confirm) + textRunes(c.Deny)
}

func textRunes(t *slack.TextBlockObject) int {
	if t == nil {
		return 0
	}
	return runes(t.Text)
}
