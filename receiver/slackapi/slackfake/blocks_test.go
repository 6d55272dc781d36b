package slackfake

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// obj is a JSON object in test cases.
type obj = map[string]any

func plain(s string) obj  { return obj{"type": "plain_text", "text": s} }
func mrkdwn(s string) obj { return obj{"type": "mrkdwn", "text": s} }

func button(id, label string) obj {
	return obj{"type": "button", "action_id": id, "text": plain(label)}
}

func option(text, value string) obj { return obj{"text": plain(text), "value": value} }

func section(text string) obj { return obj{"type": "section", "text": mrkdwn(text)} }

func actions(elems ...any) obj { return obj{"type": "actions", "elements": elems} }

func confirm(title, text, yes, no string) obj {
	return obj{"title": plain(title), "text": mrkdwn(text), "confirm": plain(yes), "deny": plain(no)}
}

func with(o obj, kv ...any) obj {
	out := obj{}
	for k, v := range o {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func repeat(n int, f func(i int) any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckBlocksLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // 2 bytes, 1 character
	tests := []struct {
		name   string
		blocks []any
		want   []string
	}{
		{
			name:   "50 blocks",
			blocks: repeat(50, func(int) any { return obj{"type": "divider"} }),
		},
		{
			name:   "51 blocks",
			blocks: repeat(51, func(int) any { return obj{"type": "divider"} }),
			want:   []string{"no more than 50 items allowed [json-pointer:/blocks]"},
		},
		{
			name:   "header at 150 characters",
			blocks: []any{obj{"type": "header", "text": plain(long(150))}},
		},
		{
			name:   "header over 150 characters",
			blocks: []any{obj{"type": "header", "text": plain(long(151))}},
			want:   []string{"must be less than 151 characters [json-pointer:/blocks/0/text/text]"},
		},
		{
			name:   "header in mrkdwn",
			blocks: []any{obj{"type": "header", "text": mrkdwn("x")}},
			want:   []string{"must be plain_text [json-pointer:/blocks/0/text/type]"},
		},
		{
			name:   "section text at 3000 characters",
			blocks: []any{section(long(3000))},
		},
		{
			name:   "section text over 3000 characters",
			blocks: []any{obj{"type": "divider"}, section(long(3001))},
			want:   []string{"must be less than 3001 characters [json-pointer:/blocks/1/text/text]"},
		},
		{
			name:   "section text empty",
			blocks: []any{section("")},
			want:   []string{"must be more than 0 characters [json-pointer:/blocks/0/text/text]"},
		},
		{
			name:   "section without text or fields",
			blocks: []any{obj{"type": "section"}},
			want:   []string{"must provide text or fields [json-pointer:/blocks/0]"},
		},
		{
			name:   "section with 11 fields",
			blocks: []any{obj{"type": "section", "fields": repeat(11, func(int) any { return mrkdwn("f") })}},
			want:   []string{"no more than 10 items allowed [json-pointer:/blocks/0/fields]"},
		},
		{
			name:   "section field over 2000 characters",
			blocks: []any{obj{"type": "section", "fields": []any{mrkdwn("a"), plain(long(2001))}}},
			want:   []string{"must be less than 2001 characters [json-pointer:/blocks/0/fields/1/text]"},
		},
		{
			name:   "context with 11 elements",
			blocks: []any{obj{"type": "context", "elements": repeat(11, func(int) any { return mrkdwn("c") })}},
			want:   []string{"no more than 10 items allowed [json-pointer:/blocks/0/elements]"},
		},
		{
			name:   "context with a button",
			blocks: []any{obj{"type": "context", "elements": []any{button("a", "A")}}},
			want:   []string{`element type "button" is not allowed in a context block [json-pointer:/blocks/0/elements/0/type]`},
		},
		{
			name:   "actions with 25 elements",
			blocks: []any{actions(repeat(25, func(i int) any { return button("b"+strconv.Itoa(i), "B") })...)},
		},
		{
			name:   "actions with 26 elements",
			blocks: []any{actions(repeat(26, func(i int) any { return button("b"+strconv.Itoa(i), "B") })...)},
			want:   []string{"no more than 25 items allowed [json-pointer:/blocks/0/elements]"},
		},
		{
			name:   "block_id over 255 characters",
			blocks: []any{with(obj{"type": "divider"}, "block_id", long(256))},
			want:   []string{"must be less than 256 characters [json-pointer:/blocks/0/block_id]"},
		},
		{
			name:   "duplicate block_id",
			blocks: []any{with(section("a"), "block_id", "x"), with(section("b"), "block_id", "x")},
			want:   []string{`duplicate block_id "x" [json-pointer:/blocks/1/block_id]`},
		},
		{
			name:   "action_id over 255 characters",
			blocks: []any{actions(button(long(256), "A"))},
			want:   []string{"must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]"},
		},
		{
			name:   "duplicate action_id in a block",
			blocks: []any{actions(button("ack", "A"), button("ack", "B"))},
			want:   []string{`duplicate action_id "ack" in block [json-pointer:/blocks/0/elements/1/action_id]`},
		},
		{
			name:   "same action_id in two blocks",
			blocks: []any{actions(button("ack", "A")), actions(button("ack", "B"))},
		},
		{
			name:   "button text over 75 characters",
			blocks: []any{actions(button("a", long(76)))},
			want:   []string{"must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"},
		},
		{
			name:   "button value over 2000 characters",
			blocks: []any{actions(with(button("a", "A"), "value", long(2001)))},
			want:   []string{"must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]"},
		},
		{
			name:   "button url over 3000 characters",
			blocks: []any{actions(with(button("a", "A"), "url", "https://x/"+long(2991)))},
			want:   []string{"must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]"},
		},
		{
			name:   "button style",
			blocks: []any{actions(with(button("a", "A"), "style", "secondary"))},
			want:   []string{"must be one of primary, danger [json-pointer:/blocks/0/elements/0/style]"},
		},
		{
			name:   "confirm title over 100 characters",
			blocks: []any{actions(with(button("a", "A"), "confirm", confirm(long(101), "t", "y", "n")))},
			want:   []string{"must be less than 101 characters [json-pointer:/blocks/0/elements/0/confirm/title/text]"},
		},
		{
			name:   "confirm text over 300 characters",
			blocks: []any{actions(with(button("a", "A"), "confirm", confirm("t", long(301), "y", "n")))},
			want:   []string{"must be less than 301 characters [json-pointer:/blocks/0/elements/0/confirm/text/text]"},
		},
		{
			name:   "confirm button over 30 characters",
			blocks: []any{actions(with(button("a", "A"), "confirm", confirm("t", "t", long(31), "n")))},
			want:   []string{"must be less than 31 characters [json-pointer:/blocks/0/elements/0/confirm/confirm/text]"},
		},
		{
			name:   "deny button over 30 characters",
			blocks: []any{actions(with(button("a", "A"), "confirm", confirm("t", "t", "y", long(31))))},
			want:   []string{"must be less than 31 characters [json-pointer:/blocks/0/elements/0/confirm/deny/text]"},
		},
		{
			name: "confirm without deny",
			blocks: []any{actions(with(button("a", "A"), "confirm",
				obj{"title": plain("t"), "text": plain("t"), "confirm": plain("y")}))},
			want: []string{"missing required field: deny [json-pointer:/blocks/0/elements/0/confirm]"},
		},
		{
			name: "option text over 75 characters",
			blocks: []any{actions(obj{"type": "static_select", "action_id": "s",
				"options": []any{option(long(76), "v")}})},
			want: []string{"must be less than 76 characters [json-pointer:/blocks/0/elements/0/options/0/text/text]"},
		},
		{
			name: "option value over 150 characters",
			blocks: []any{actions(obj{"type": "static_select", "action_id": "s",
				"options": []any{option("t", long(151))}})},
			want: []string{"must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]"},
		},
		{
			name: "static_select with 101 options",
			blocks: []any{actions(obj{"type": "static_select", "action_id": "s",
				"options": repeat(101, func(i int) any { return option("t", strconv.Itoa(i)) })})},
			want: []string{"no more than 100 items allowed [json-pointer:/blocks/0/elements/0/options]"},
		},
		{
			name: "static_select placeholder over 150 characters",
			blocks: []any{actions(obj{"type": "static_select", "action_id": "s",
				"placeholder": plain(long(151)), "options": []any{option("t", "v")}})},
			want: []string{"must be less than 151 characters [json-pointer:/blocks/0/elements/0/placeholder/text]"},
		},
		{
			name: "overflow with 1 option",
			blocks: []any{obj{"type": "section", "text": plain("t"),
				"accessory": obj{"type": "overflow", "action_id": "o", "options": []any{option("a", "a")}}}},
			want: []string{"must have at least 2 items [json-pointer:/blocks/0/accessory/options]"},
		},
		{
			name: "overflow with 6 options",
			blocks: []any{obj{"type": "section", "text": plain("t"),
				"accessory": obj{"type": "overflow", "action_id": "o",
					"options": repeat(6, func(i int) any { return option("a", strconv.Itoa(i)) })}}},
			want: []string{"no more than 5 items allowed [json-pointer:/blocks/0/accessory/options]"},
		},
		{
			name:   "unknown block type",
			blocks: []any{obj{"type": "attachment"}},
			want:   []string{`unsupported block type "attachment" [json-pointer:/blocks/0/type]`},
		},
		{
			name:   "unknown element type",
			blocks: []any{actions(obj{"type": "slider", "action_id": "s"})},
			want:   []string{`unsupported element type "slider" [json-pointer:/blocks/0/elements/0/type]`},
		},
		{
			name:   "input element in actions",
			blocks: []any{actions(obj{"type": "plain_text_input", "action_id": "s"})},
			want:   []string{`element type "plain_text_input" is not allowed in a actions block [json-pointer:/blocks/0/elements/0/type]`},
		},
		{
			name:   "block without type",
			blocks: []any{obj{"text": plain("x")}},
			want:   []string{"missing required field: type [json-pointer:/blocks/0]"},
		},
		{
			name:   "block that is not an object",
			blocks: []any{"section"},
			want:   []string{"must be an object [json-pointer:/blocks/0]"},
		},
		{
			name:   "several problems",
			blocks: []any{obj{"type": "header", "text": plain("")}, obj{"type": "actions", "elements": []any{}}},
			want: []string{
				"must be more than 0 characters [json-pointer:/blocks/0/text/text]",
				"must have at least 1 items [json-pointer:/blocks/1/elements]",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := checkBlocks(mustJSON(t, tt.blocks), "/blocks", maxMessageBlocks)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rep.problems, tt.want); diff != "" {
				t.Errorf("problems (-got +want):\n%s", diff)
			}
		})
	}
}

func TestCheckBlocksFormat(t *testing.T) {
	for _, raw := range []string{`{"type":"divider"}`, `[`, `"[]"`, `[] []`, `null`} {
		t.Run(raw, func(t *testing.T) {
			_, err := checkBlocks([]byte(raw), "/blocks", maxMessageBlocks)
			if !errors.Is(err, errBlocksFormat) {
				t.Errorf("checkBlocks(%s) error = %v, want errBlocksFormat", raw, err)
			}
		})
	}
}

func TestCheckBlocksTestdata(t *testing.T) {
	tests := []struct {
		file      string
		actionIDs []string
		textRunes int
	}{
		{"firing.json", []string{"ack", "silence", "approve_restart", "runbook"}, 272},
		{"resolved.json", []string{"more"}, 120},
		{"mixed.json", []string{"hosts", "grouped", "assign", "until", "comment"}, 113},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "blocks", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := checkBlocks(raw, "/blocks", maxMessageBlocks)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.problems) > 0 {
				t.Errorf("problems: %q", rep.problems)
			}
			if diff := cmp.Diff(rep.actionIDs, tt.actionIDs); diff != "" {
				t.Errorf("action ids (-got +want):\n%s", diff)
			}
			if rep.textRunes != tt.textRunes {
				t.Errorf("text characters = %d, want %d", rep.textRunes, tt.textRunes)
			}
		})
	}
}

func TestCheckMessage(t *testing.T) {
	sections := func(n, size int) string {
		return string(mustJSON(t, repeat(n, func(int) any { return section(strings.Repeat("x", size)) })))
	}
	tests := []struct {
		name       string
		text       string
		blocks     string
		wantBlocks string
		want       *rejection
	}{
		{name: "text only", text: "hi"},
		{name: "blocks only", blocks: `[{"type":"divider"}]`, wantBlocks: `[{"type":"divider"}]`},
		{name: "empty blocks with text", text: "hi", blocks: `[]`},
		{name: "nothing", want: &rejection{code: "no_text"}},
		{name: "empty blocks only", blocks: ` [ ] `, want: &rejection{code: "no_text"}},
		{name: "text at 40000 characters", text: strings.Repeat("ü", 40000)},
		{name: "text over 40000 characters", text: strings.Repeat("ü", 40001), want: &rejection{code: "msg_too_long"}},
		{name: "blocks not JSON", text: "hi", blocks: `[{`, want: &rejection{code: "invalid_blocks_format"}},
		{name: "block text at 13000 characters", blocks: sections(5, 2600), wantBlocks: sections(5, 2600)},
		{name: "block text over 13000 characters", blocks: sections(5, 2601), want: &rejection{code: "msg_blocks_too_long"}},
		{
			name: "invalid blocks", blocks: `[{"type":"header","text":{"type":"plain_text","text":""}}]`,
			want: &rejection{code: "invalid_blocks", problems: []string{
				"must be more than 0 characters [json-pointer:/blocks/0/text/text]",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocks, rj := checkMessage(tt.text, []byte(tt.blocks))
			if diff := cmp.Diff(rj, tt.want, cmp.AllowUnexported(rejection{})); diff != "" {
				t.Errorf("rejection (-got +want):\n%s", diff)
			}
			if string(blocks) != tt.wantBlocks {
				t.Errorf("blocks = %s, want %s", blocks, tt.wantBlocks)
			}
		})
	}
}

func TestCheckView(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join("testdata", "view.json"))
	if err != nil {
		t.Fatal(err)
	}
	var base obj
	if err := json.Unmarshal(valid, &base); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		view obj
		want []string
	}{
		{name: "valid", view: base},
		{
			name: "title over 24 characters", view: with(base, "title", plain(strings.Repeat("t", 25))),
			want: []string{"must be less than 25 characters [json-pointer:/view/title/text]"},
		},
		{
			name: "submit over 24 characters", view: with(base, "submit", plain(strings.Repeat("t", 25))),
			want: []string{"must be less than 25 characters [json-pointer:/view/submit/text]"},
		},
		{
			name: "private_metadata over 3000 characters", view: with(base, "private_metadata", strings.Repeat("m", 3001)),
			want: []string{"must be less than 3001 characters [json-pointer:/view/private_metadata]"},
		},
		{
			name: "101 blocks", view: with(base, "blocks", repeat(101, func(int) any { return obj{"type": "divider"} })),
			want: []string{"no more than 100 items allowed [json-pointer:/view/blocks]"},
		},
		{
			name: "not a modal", view: with(base, "type", "home"),
			want: []string{"must be modal [json-pointer:/view/type]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems, err := checkView(mustJSON(t, tt.view))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(problems, tt.want); diff != "" {
				t.Errorf("problems (-got +want):\n%s", diff)
			}
		})
	}
}
