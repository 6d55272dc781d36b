package render

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

func section(id, text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID(id))
}

func button(id, text string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(id, "v", plainText(text))
}

func option(text, value string) *slack.OptionBlockObject {
	return slack.NewOptionBlockObject(value, plainText(text), nil)
}

func options(n int) []*slack.OptionBlockObject {
	var out []*slack.OptionBlockObject
	for i := range n {
		out = append(out, option("o", strings.Repeat("v", i%5+1)+string(rune('a'+i%26))))
	}
	return out
}

func actionsOf(els ...slack.BlockElement) *slack.ActionBlock {
	return slack.NewActionBlock("actions", els...)
}

func msg(blocks ...slack.Block) Message {
	return Message{Text: "fallback", Blocks: slack.Blocks{BlockSet: blocks}}
}

func withConfirm(title, text, confirm, deny string) *slack.ButtonBlockElement {
	b := button("b", "B")
	b.Confirm = slack.NewConfirmationBlockObject(plainText(title), plainText(text), plainText(confirm), plainText(deny))
	return b
}

func TestValidate(t *testing.T) {
	x := strings.Repeat
	tests := []struct {
		name string
		msg  Message
		want []string // problems, in order; none for a valid message
	}{
		{name: "valid", msg: msg(
			slack.NewHeaderBlock(plainText(x("🔥", maxHeaderText))), // runes, not bytes
			section("s", x("é", maxSectionText)),
			slack.NewContextBlock("c", mrkdwn("a")),
			actionsOf(button("a", "A"), button("b", "B")),
			slack.NewActionBlock("more", button("a", "A")), // action_id repeats in another block only
			slack.NewDividerBlock(),
			slack.NewDividerBlock(), // no block_id: Slack assigns one
		)},
		{name: "text empty", msg: Message{}, want: []string{"text: empty; Slack needs a text fallback"}},
		{name: "text too long", msg: Message{Text: x("ü", 4001)}, want: []string{"text: 4001 characters, limit 4000"}},
		{
			name: "too many blocks",
			msg: msg(func() []slack.Block {
				b := make([]slack.Block, 51)
				for i := range b {
					b[i] = slack.NewDividerBlock()
				}
				return b
			}()...),
			want: []string{"blocks: 51 blocks, limit 50"},
		},
		{name: "nil block", msg: msg(nil, (*slack.SectionBlock)(nil)), want: []string{"blocks[0]: missing block", "blocks[1]: missing block"}},
		{
			name: "header too long",
			msg:  msg(slack.NewHeaderBlock(plainText(x("h", 151)))),
			want: []string{"blocks[0].text: 151 characters, limit 150"},
		},
		{
			name: "header mrkdwn",
			msg:  msg(slack.NewHeaderBlock(mrkdwn("h"))),
			want: []string{"blocks[0].text.type: mrkdwn, must be plain_text"},
		},
		{
			name: "header value type",
			msg:  msg(slack.HeaderBlock{Type: slack.MBTHeader, Text: plainText(x("h", 151))}),
			want: []string{"blocks[0].text: 151 characters, limit 150"},
		},
		{
			name: "section text too long",
			msg:  msg(section("a", "ok"), section("b", "ok"), section("c", "ok"), section("d", x("s", 3412))),
			want: []string{"blocks[3].text: 3412 characters, limit 3000"},
		},
		{name: "section text empty", msg: msg(section("s", "")), want: []string{"blocks[0].text: empty text, at least 1 character"}},
		{
			name: "section without text or fields",
			msg:  msg(slack.NewSectionBlock(nil, nil, nil)),
			want: []string{"blocks[0]: neither text nor fields"},
		},
		{
			name: "section fields",
			msg: msg(slack.NewSectionBlock(nil, []*slack.TextBlockObject{
				mrkdwn("1"), mrkdwn("2"), mrkdwn("3"), mrkdwn("4"), mrkdwn("5"), mrkdwn("6"),
				mrkdwn("7"), mrkdwn("8"), mrkdwn("9"), mrkdwn("10"), mrkdwn(x("f", 2001)),
			}, nil)),
			want: []string{"blocks[0].fields: 11 fields, limit 10", "blocks[0].fields[10]: 2001 characters, limit 2000"},
		},
		{
			name: "text type unknown, emoji on mrkdwn",
			msg: msg(
				section("a", "x"),
				slack.NewSectionBlock(&slack.TextBlockObject{Type: "markdown", Text: "x"}, nil, nil),
				slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "x", false, false), nil, nil),
				slack.NewSectionBlock(&slack.TextBlockObject{Type: "mrkdwn", Text: "x", Emoji: new(bool)}, nil, nil),
			),
			want: []string{
				`blocks[1].text.type: "markdown", must be plain_text or mrkdwn`,
				"blocks[3].text.emoji: set on mrkdwn text, allowed on plain_text only",
			},
		},
		{
			name: "context elements",
			msg: msg(slack.NewContextBlock("c",
				mrkdwn("1"), mrkdwn("2"), mrkdwn("3"), mrkdwn("4"), mrkdwn("5"), mrkdwn("6"),
				mrkdwn("7"), mrkdwn("8"), mrkdwn("9"), mrkdwn("10"), mrkdwn(x("c", 3001)),
			)),
			want: []string{"blocks[0].elements: 11 elements, limit 10", "blocks[0].elements[10]: 3001 characters, limit 3000"},
		},
		{name: "context empty", msg: msg(slack.NewContextBlock("c")), want: []string{"blocks[0].elements: empty, at least 1 element"}},
		{
			name: "actions elements",
			msg: msg(actionsOf(func() []slack.BlockElement {
				var els []slack.BlockElement
				for i := range 26 {
					els = append(els, button(string(rune('a'+i)), "B"))
				}
				return els
			}()...)),
			want: []string{"blocks[0].elements: 26 elements, limit 25"},
		},
		{name: "actions empty", msg: msg(actionsOf()), want: []string{"blocks[0].elements: empty, at least 1 element"}},
		{
			name: "block_id too long and repeated",
			msg:  msg(section(x("i", 256), "a"), section("s", "b"), section("s", "c")),
			want: []string{
				"blocks[0].block_id: 256 characters, limit 255",
				`blocks[2].block_id: "s" repeats blocks[1].block_id`,
			},
		},
		{
			name: "action_id too long and repeated",
			msg:  msg(actionsOf(button(x("a", 256), "A"), button("b", "B"), button("b", "B2"))),
			want: []string{
				"blocks[0].elements[0].action_id: 256 characters, limit 255",
				`blocks[0].elements[2].action_id: "b" repeats elements[1].action_id`,
			},
		},
		{
			name: "button",
			msg: msg(actionsOf(
				button("a", x("t", 76)),
				&slack.ButtonBlockElement{Type: slack.METButton, ActionID: "b", Text: plainText("B"), Value: x("v", 2001)},
				&slack.ButtonBlockElement{Type: slack.METButton, ActionID: "c", Text: plainText("C"), URL: "https://x/" + x("u", 2991)},
				button("d", "D").WithStyle("warning"),
				button("e", "E").WithStyle(slack.StyleDanger),
				&slack.ButtonBlockElement{Type: slack.METButton, ActionID: "f", Text: mrkdwn("F")},
			)),
			want: []string{
				"blocks[0].elements[0].text: 76 characters, limit 75",
				"blocks[0].elements[1].value: 2001 characters, limit 2000",
				"blocks[0].elements[2].url: 3001 characters, limit 3000",
				`blocks[0].elements[3].style: "warning", must be primary or danger`,
				"blocks[0].elements[5].text.type: mrkdwn, must be plain_text",
			},
		},
		{
			name: "confirm",
			msg:  msg(actionsOf(withConfirm(x("t", 101), x("x", 301), x("c", 31), x("d", 31)))),
			want: []string{
				"blocks[0].elements[0].confirm.title: 101 characters, limit 100",
				"blocks[0].elements[0].confirm.text: 301 characters, limit 300",
				"blocks[0].elements[0].confirm.confirm: 31 characters, limit 30",
				"blocks[0].elements[0].confirm.deny: 31 characters, limit 30",
			},
		},
		{
			name: "confirm within limits",
			msg:  msg(actionsOf(withConfirm(x("t", 100), x("x", 300), x("c", 30), x("d", 30)))),
		},
		{
			name: "option",
			msg: msg(actionsOf(slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("p"), "s",
				option(x("o", 76), "1"), option("o", x("v", 76))))),
			want: []string{
				"blocks[0].elements[0].options[0].text: 76 characters, limit 75",
				"blocks[0].elements[0].options[1].value: 76 characters, limit 75",
			},
		},
		{
			name: "static_select options and placeholder",
			msg: msg(actionsOf(
				slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText(x("p", 151)), "s", options(101)...),
				slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("p"), "t"),
			)),
			want: []string{
				"blocks[0].elements[0].placeholder: 151 characters, limit 150",
				"blocks[0].elements[0].options: 101 options, limit 100",
				"blocks[0].elements[1].options: empty, at least 1 option",
			},
		},
		{
			name: "overflow options",
			msg: msg(actionsOf(
				slack.NewOverflowBlockElement("a", options(1)...),
				slack.NewOverflowBlockElement("b", options(6)...),
				slack.NewOverflowBlockElement("c", options(2)...),
				slack.NewOverflowBlockElement("d", options(5)...),
			)),
			want: []string{
				"blocks[0].elements[0].options: 1 options, must be 2 to 5",
				"blocks[0].elements[1].options: 6 options, must be 2 to 5",
			},
		},
		{
			name: "section accessory",
			msg:  msg(slack.NewSectionBlock(mrkdwn("s"), nil, slack.NewAccessory(button("a", x("t", 76))))),
			want: []string{"blocks[0].accessory.text: 76 characters, limit 75"},
		},
		{
			name: "total block text",
			msg: msg(section("a", x("a", 3000)), section("b", x("b", 3000)), section("c", x("c", 3000)),
				section("d", x("d", 3000)), section("e", "e")),
			want: []string{"blocks: 12001 characters of text, limit 12000"},
		},
		{
			name: "total block text counts buttons and confirms",
			msg: msg(section("a", x("a", 3000)), section("b", x("b", 3000)), section("c", x("c", 3000)),
				section("d", x("d", 2800)), actionsOf(withConfirm(x("t", 100), x("x", 100), "c", "d"))),
			want: []string{"blocks: 12003 characters of text, limit 12000"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.msg)
			var got []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var le *LimitError
					if !errors.Is(e, ErrLimit) || !errors.As(e, &le) {
						t.Errorf("%v is not a *LimitError wrapping ErrLimit", e)
					}
					got = append(got, e.Error())
				}
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("Validate problems (-got +want):\n%s", diff)
			}
		})
	}
}
