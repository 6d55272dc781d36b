package slackfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Limits of Block Kit as Slack documents them on docs.slack.dev (block and
// element reference pages, https://docs.slack.dev/reference/block-kit).
// The checker in this file reads the raw JSON on purpose, without the
// project's renderer types, so that it catches the renderer's mistakes
// instead of repeating them.
const (
	maxMessageBlocks  = 50
	maxModalBlocks    = 100
	maxHeaderText     = 150
	maxSectionText    = 3000
	maxSectionFields  = 10
	maxFieldText      = 2000
	maxContextElems   = 10
	maxActionsElems   = 25
	maxID             = 255
	maxButtonText     = 75
	maxButtonValue    = 2000
	maxURL            = 3000
	maxConfirmTitle   = 100
	maxConfirmText    = 300
	maxConfirmButton  = 30
	maxOptionText     = 75
	maxOptionValue    = 150
	maxSelectOptions  = 100
	maxPlaceholder    = 150
	minOverflowOpts   = 2
	maxOverflowOpts   = 5
	maxChoiceOptions  = 10 // checkboxes and radio_buttons
	maxTextObject     = 3000
	maxLabel          = 2000
	maxAltText        = 2000
	maxMarkdownBlock  = 12000
	maxModalTitle     = 24
	maxModalButton    = 24
	maxPrivateMeta    = 3000
	maxCallbackID     = 255
	maxMessageText    = 40000
	maxBlockTextRunes = 13000 // msg_blocks_too_long: undocumented, observed near 13k
)

// errBlocksFormat reports blocks that are not a JSON array of objects;
// Slack answers invalid_blocks_format for those.
var errBlocksFormat = errors.New("blocks are not a JSON array")

// blockReport is the outcome of checking one blocks array.
type blockReport struct {
	// count is the number of blocks.
	count int
	// problems are Slack-style messages, each ending in a json-pointer.
	problems []string
	// textRunes is the number of characters in all text the blocks carry,
	// which Slack caps in total (msg_blocks_too_long).
	textRunes int
	// actionIDs are all action_ids, in order, for the recording helpers.
	actionIDs []string
}

// checkBlocks parses raw as a blocks array and checks it against Block Kit's
// limits. prefix is the json-pointer of the array ("/blocks" for messages,
// "/view/blocks" for modals) and maxBlocks the surface's block cap. It
// returns errBlocksFormat when raw is not a JSON array.
func checkBlocks(raw []byte, prefix string, maxBlocks int) (blockReport, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return blockReport{}, fmt.Errorf("%w: %w", errBlocksFormat, err)
	}
	arr, ok := v.([]any)
	if !ok {
		return blockReport{}, errBlocksFormat
	}
	c := &checker{blockIDs: map[string]bool{}}
	c.blocks(arr, prefix, maxBlocks)
	return blockReport{count: len(arr), problems: c.problems, textRunes: c.textRunes, actionIDs: c.actionIDs}, nil
}

// checker walks decoded Block Kit JSON and collects problems.
type checker struct {
	problems  []string
	textRunes int
	blockIDs  map[string]bool
	actionIDs []string
}

func (c *checker) fail(ptr, format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

func (c *checker) blocks(arr []any, prefix string, maxBlocks int) {
	if len(arr) > maxBlocks {
		c.fail(prefix, "no more than %d items allowed", maxBlocks)
	}
	for i, b := range arr {
		c.block(b, prefix+"/"+strconv.Itoa(i))
	}
}

func (c *checker) block(v any, ptr string) {
	m, typ, ok := c.typedObject(v, ptr)
	if !ok {
		return
	}
	if id, ok := c.optString(m, "block_id", ptr, maxID); ok {
		if c.blockIDs[id] {
			c.fail(ptr+"/block_id", "duplicate block_id %q", id)
		}
		c.blockIDs[id] = true
	}
	switch typ {
	case "section":
		c.section(m, ptr)
	case "header":
		c.needText(m, "text", ptr, plainOnly, maxHeaderText)
	case "context":
		elems, ok := c.array(m, "elements", ptr, 1, maxContextElems)
		for i, e := range elems {
			if ok {
				c.contextElement(e, ptr+"/elements/"+strconv.Itoa(i))
			}
		}
	case "actions":
		elems, ok := c.array(m, "elements", ptr, 1, maxActionsElems)
		if ok {
			ids := map[string]bool{}
			for i, e := range elems {
				c.element(e, ptr+"/elements/"+strconv.Itoa(i), "actions", ids)
			}
		}
	case "divider":
	case "image":
		c.image(m, ptr)
		if t, ok := m["title"]; ok {
			c.text(t, ptr+"/title", plainOnly, maxLabel)
		}
	case "input":
		c.needText(m, "label", ptr, plainOnly, maxLabel)
		if e, ok := c.need(m, "element", ptr); ok {
			c.element(e, ptr+"/element", "input", map[string]bool{})
		}
		if t, ok := m["hint"]; ok {
			c.text(t, ptr+"/hint", plainOnly, maxLabel)
		}
	case "markdown":
		if t, ok := c.need(m, "text", ptr); ok {
			s, isStr := t.(string)
			if !isStr {
				c.fail(ptr+"/text", "must be a string")
				break
			}
			c.length(s, ptr+"/text", 1, maxMarkdownBlock)
			c.textRunes += utf8.RuneCountInString(s)
		}
	case "rich_text":
		// Accepted without a deeper look (amslack does not render rich
		// text, and its schema is large), but its text counts toward the
		// message total.
		c.textRunes += nestedTextRunes(m["elements"])
	case "file", "video":
		// Accepted without a deeper look: amslack does not render these.
	default:
		c.fail(ptr+"/type", "unsupported block type %q", typ)
	}
}

func (c *checker) section(m map[string]any, ptr string) {
	t, hasText := m["text"]
	f, hasFields := m["fields"]
	if !hasText && !hasFields {
		c.fail(ptr, "must provide text or fields")
	}
	if hasText {
		c.text(t, ptr+"/text", plainOrMrkdwn, maxSectionText)
	}
	if hasFields {
		fields, ok := f.([]any)
		switch {
		case !ok:
			c.fail(ptr+"/fields", "must be an array")
		case len(fields) == 0:
			c.fail(ptr+"/fields", "must have at least 1 item")
		case len(fields) > maxSectionFields:
			c.fail(ptr+"/fields", "no more than %d items allowed", maxSectionFields)
		}
		for i, fv := range fields {
			c.text(fv, ptr+"/fields/"+strconv.Itoa(i), plainOrMrkdwn, maxFieldText)
		}
	}
	if a, ok := m["accessory"]; ok {
		c.element(a, ptr+"/accessory", "section", map[string]bool{})
	}
}

func (c *checker) contextElement(v any, ptr string) {
	m, typ, ok := c.typedObject(v, ptr)
	if !ok {
		return
	}
	switch typ {
	case "plain_text", "mrkdwn":
		c.text(m, ptr, plainOrMrkdwn, maxTextObject)
	case "image":
		c.image(m, ptr)
	default:
		c.fail(ptr+"/type", "element type %q is not allowed in a context block", typ)
	}
}

// isSelectMenu reports whether typ is one of Block Kit's select menus.
func isSelectMenu(typ string) bool {
	switch typ {
	case "static_select", "external_select", "users_select", "conversations_select", "channels_select",
		"multi_static_select", "multi_external_select", "multi_users_select", "multi_conversations_select",
		"multi_channels_select":
		return true
	}
	return false
}

// isKnownElement reports whether typ is a Block Kit element type.
func isKnownElement(typ string) bool {
	switch typ {
	case "button", "checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input", "image",
		"number_input", "overflow", "plain_text_input", "radio_buttons", "rich_text_input", "timepicker",
		"url_text_input", "workflow_button":
		return true
	}
	return isSelectMenu(typ)
}

// elementAllowed reports whether Slack accepts an element of type typ in a
// block of type where (Block Kit reference, "compatible blocks" of each
// element).
func elementAllowed(where, typ string) bool {
	if isSelectMenu(typ) {
		return true
	}
	switch where {
	case "section":
		switch typ {
		case "button", "checkboxes", "datepicker", "image", "overflow", "radio_buttons", "timepicker", "workflow_button":
			return true
		}
	case "actions":
		switch typ {
		case "button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons", "rich_text_input",
			"timepicker", "workflow_button":
			return true
		}
	case "input":
		switch typ {
		case "checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input", "number_input",
			"plain_text_input", "radio_buttons", "rich_text_input", "timepicker", "url_text_input":
			return true
		}
	}
	return false
}

// element checks an interactive element. where names the containing block's
// type; ids holds the action_ids already used in that block, which Slack
// wants unique per block.
func (c *checker) element(v any, ptr, where string, ids map[string]bool) {
	m, typ, ok := c.typedObject(v, ptr)
	if !ok {
		return
	}
	if !isKnownElement(typ) {
		c.fail(ptr+"/type", "unsupported element type %q", typ)
		return
	}
	if !elementAllowed(where, typ) {
		c.fail(ptr+"/type", "element type %q is not allowed in a %s block", typ, where)
		return
	}
	if id, ok := c.optString(m, "action_id", ptr, maxID); ok {
		if ids[id] {
			c.fail(ptr+"/action_id", "duplicate action_id %q in block", id)
		}
		ids[id] = true
		c.actionIDs = append(c.actionIDs, id)
	}
	if cf, ok := m["confirm"]; ok {
		c.confirm(cf, ptr+"/confirm")
	}
	switch typ {
	case "button", "workflow_button":
		c.needText(m, "text", ptr, plainOnly, maxButtonText)
		c.optString(m, "value", ptr, maxButtonValue)
		c.optString(m, "url", ptr, maxURL)
		c.optString(m, "accessibility_label", ptr, maxButtonText)
		c.style(m, ptr)
	case "overflow":
		opts, ok := c.array(m, "options", ptr, minOverflowOpts, maxOverflowOpts)
		for i, o := range opts {
			if ok {
				c.option(o, ptr+"/options/"+strconv.Itoa(i), plainOnly)
			}
		}
	case "checkboxes", "radio_buttons":
		opts, ok := c.array(m, "options", ptr, 1, maxChoiceOptions)
		for i, o := range opts {
			if ok {
				c.option(o, ptr+"/options/"+strconv.Itoa(i), plainOrMrkdwn)
			}
		}
	case "static_select", "multi_static_select":
		c.placeholder(m, ptr)
		c.staticOptions(m, ptr)
		if o, ok := m["initial_option"]; ok {
			c.option(o, ptr+"/initial_option", plainOnly)
		}
	case "image":
		c.image(m, ptr)
	case "datetimepicker", "file_input":
	default:
		// The remaining menus, pickers and inputs carry an optional
		// placeholder and nothing amslack needs checked further.
		c.placeholder(m, ptr)
	}
}

// staticOptions checks a static select's options or option_groups; Slack
// wants exactly one of the two.
func (c *checker) staticOptions(m map[string]any, ptr string) {
	_, hasOpts := m["options"]
	_, hasGroups := m["option_groups"]
	switch {
	case hasOpts && hasGroups:
		c.fail(ptr, "must provide only one of options or option_groups")
	case hasGroups:
		groups, ok := c.array(m, "option_groups", ptr, 1, maxSelectOptions)
		for i, g := range groups {
			if !ok {
				break
			}
			gp := ptr + "/option_groups/" + strconv.Itoa(i)
			gm, isObj := c.object(g, gp)
			if !isObj {
				continue
			}
			c.needText(gm, "label", gp, plainOnly, maxOptionText)
			opts, ok := c.array(gm, "options", gp, 1, maxSelectOptions)
			for j, o := range opts {
				if ok {
					c.option(o, gp+"/options/"+strconv.Itoa(j), plainOnly)
				}
			}
		}
	default:
		opts, ok := c.array(m, "options", ptr, 1, maxSelectOptions)
		for i, o := range opts {
			if ok {
				c.option(o, ptr+"/options/"+strconv.Itoa(i), plainOnly)
			}
		}
	}
}

func (c *checker) option(v any, ptr string, kinds textKinds) {
	m, ok := c.object(v, ptr)
	if !ok {
		return
	}
	c.needText(m, "text", ptr, kinds, maxOptionText)
	if _, ok := c.need(m, "value", ptr); ok {
		c.optString(m, "value", ptr, maxOptionValue)
	}
	if d, ok := m["description"]; ok {
		c.text(d, ptr+"/description", plainOnly, maxOptionText)
	}
	c.optString(m, "url", ptr, maxURL)
}

func (c *checker) confirm(v any, ptr string) {
	m, ok := c.object(v, ptr)
	if !ok {
		return
	}
	c.needText(m, "title", ptr, plainOnly, maxConfirmTitle)
	c.needText(m, "text", ptr, plainOrMrkdwn, maxConfirmText)
	c.needText(m, "confirm", ptr, plainOnly, maxConfirmButton)
	c.needText(m, "deny", ptr, plainOnly, maxConfirmButton)
	c.style(m, ptr)
}

func (c *checker) placeholder(m map[string]any, ptr string) {
	if p, ok := m["placeholder"]; ok {
		c.text(p, ptr+"/placeholder", plainOnly, maxPlaceholder)
	}
}

// style checks a button or confirm style: Slack knows only these two, and
// the default look comes from leaving the field out.
func (c *checker) style(m map[string]any, ptr string) {
	s, ok := c.optString(m, "style", ptr, maxID)
	if ok && s != "primary" && s != "danger" {
		c.fail(ptr+"/style", "must be one of primary, danger")
	}
}

func (c *checker) image(m map[string]any, ptr string) {
	_, hasURL := m["image_url"]
	_, hasFile := m["slack_file"]
	if !hasURL && !hasFile {
		c.fail(ptr, "must provide image_url or slack_file")
	}
	c.optString(m, "image_url", ptr, maxURL)
	if _, ok := c.need(m, "alt_text", ptr); ok {
		c.optString(m, "alt_text", ptr, maxAltText)
	}
}

// nestedTextRunes counts the characters of every "text" string inside v.
func nestedTextRunes(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "text" {
				n += utf8.RuneCountInString(s)
				continue
			}
			n += nestedTextRunes(x)
		}
	case []any:
		for _, x := range v {
			n += nestedTextRunes(x)
		}
	}
	return n
}

// textKinds says which composition text object types a field accepts.
type textKinds int

const (
	plainOnly textKinds = iota
	plainOrMrkdwn
)

// text checks a composition text object whose text must have 1 to max
// characters, and counts those characters toward the message total.
func (c *checker) text(v any, ptr string, kinds textKinds, maxRunes int) {
	m, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be a text object")
		return
	}
	typ, ok := c.typeOf(m, ptr)
	if !ok {
		return
	}
	switch {
	case typ == "plain_text":
	case typ == "mrkdwn" && kinds == plainOrMrkdwn:
	case kinds == plainOnly:
		c.fail(ptr+"/type", "must be plain_text")
		return
	default:
		c.fail(ptr+"/type", "must be plain_text or mrkdwn")
		return
	}
	t, ok := c.need(m, "text", ptr)
	if !ok {
		return
	}
	s, ok := t.(string)
	if !ok {
		c.fail(ptr+"/text", "must be a string")
		return
	}
	c.length(s, ptr+"/text", 1, maxRunes)
	c.textRunes += utf8.RuneCountInString(s)
}

// length checks a string's length in characters (runes), which is how
// Slack counts.
func (c *checker) length(s, ptr string, minRunes, maxRunes int) {
	n := utf8.RuneCountInString(s)
	switch {
	case n < minRunes:
		c.fail(ptr, "must be more than %d characters", minRunes-1)
	case n > maxRunes:
		c.fail(ptr, "must be less than %d characters", maxRunes+1)
	}
}

// typeOf returns the string field "type", reporting its absence.
// object returns v as an object, failing ptr when it is not one.
func (c *checker) object(v any, ptr string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		c.fail(ptr, "must be an object")
	}
	return m, ok
}

// typedObject returns v as an object and its type, failing ptr when v is
// not an object or has no type.
func (c *checker) typedObject(v any, ptr string) (map[string]any, string, bool) {
	m, ok := c.object(v, ptr)
	if !ok {
		return nil, "", false
	}
	typ, ok := c.typeOf(m, ptr)
	return m, typ, ok
}

// needText checks the text object that m must have at key.
func (c *checker) needText(m map[string]any, key, ptr string, kinds textKinds, maxRunes int) {
	if t, ok := c.need(m, key, ptr); ok {
		c.text(t, ptr+"/"+key, kinds, maxRunes)
	}
}

func (c *checker) typeOf(m map[string]any, ptr string) (string, bool) {
	v, ok := c.need(m, "type", ptr)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		c.fail(ptr+"/type", "must be a string")
	}
	return s, ok
}

// need returns a required field, reporting its absence.
func (c *checker) need(m map[string]any, key, ptr string) (any, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		c.fail(ptr, "missing required field: %s", key)
		return nil, false
	}
	return v, true
}

// optString checks an optional string field of at most maxRunes characters.
// It reports whether the field is present and a string.
func (c *checker) optString(m map[string]any, key, ptr string, maxRunes int) (string, bool) {
	v, ok := m[key]
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		c.fail(ptr+"/"+key, "must be a string")
		return "", false
	}
	c.length(s, ptr+"/"+key, 1, maxRunes)
	return s, true
}

// array returns a required array field of minItems to maxItems entries. It
// reports whether the field is an array (problems with its length are
// recorded but do not stop the caller from checking its items).
func (c *checker) array(m map[string]any, key, ptr string, minItems, maxItems int) ([]any, bool) {
	v, ok := c.need(m, key, ptr)
	if !ok {
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		c.fail(ptr+"/"+key, "must be an array")
		return nil, false
	}
	switch {
	case len(arr) < minItems:
		c.fail(ptr+"/"+key, "must have at least %d items", minItems)
	case len(arr) > maxItems:
		c.fail(ptr+"/"+key, "no more than %d items allowed", maxItems)
	}
	return arr, true
}

// checkView checks a modal view object as views.open receives it.
func checkView(raw []byte) (map[string]any, []string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, errors.New("view is not a JSON object")
	}
	c := &checker{blockIDs: map[string]bool{}}
	const ptr = "/view"
	if typ, ok := c.typeOf(m, ptr); ok && typ != "modal" {
		c.fail(ptr+"/type", "must be modal")
	}
	c.needText(m, "title", ptr, plainOnly, maxModalTitle)
	for _, k := range []string{"submit", "close"} {
		if t, ok := m[k]; ok {
			c.text(t, ptr+"/"+k, plainOnly, maxModalButton)
		}
	}
	if s, ok := m["private_metadata"].(string); ok && utf8.RuneCountInString(s) > maxPrivateMeta {
		c.fail(ptr+"/private_metadata", "must be less than %d characters", maxPrivateMeta+1)
	}
	c.optString(m, "callback_id", ptr, maxCallbackID)
	if b, ok := c.need(m, "blocks", ptr); ok {
		if arr, ok := b.([]any); ok {
			c.blocks(arr, ptr+"/blocks", maxModalBlocks)
		} else {
			c.fail(ptr+"/blocks", "must be an array")
		}
	}
	return m, c.problems, nil
}
