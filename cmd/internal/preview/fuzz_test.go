package preview

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzFreshen feeds example payloads of any shape through freshen: it must
// not panic, and what it returns must be JSON.
func FuzzFreshen(f *testing.F) {
	for _, name := range []string{"v035-firing.json", "v035-resolved.json", "v025-firing.json"} {
		f.Add(readFile(f, name))
	}
	f.Add([]byte(`{"alerts":[{"startsAt":"9999-12-31T23:59:59Z"},{"endsAt":"0001-01-01T00:00:01Z"}]}`))
	f.Add([]byte(`{"alerts":[1,"x",null,{"startsAt":7}]}`))
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := freshen(payload, now)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Errorf("freshen returned invalid JSON %q", out)
		}
	})
}

// FuzzFindElement looks for elements in blocks of any shape, as messages
// from the fake Slack (which any client can post to) may have.
func FuzzFindElement(f *testing.F) {
	var m renderedMessage
	if err := json.Unmarshal(readFile(f, "message-v035-firing-state.json"), &m); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(m.Blocks), "actions", "silence", "1h")
	f.Add([]byte(m.Blocks), "actions", "approve_restart", "")
	f.Add([]byte(customBlocks), "actions", "silence", "custom")
	f.Add([]byte(`[{"block_id":"a","elements":[{"type":"overflow","action_id":"o","option_groups":[{"options":[{"value":"v"}]}]}]}]`), "a", "o", "v")
	f.Add([]byte(`[{"elements":{}}]`), "", "", "")
	f.Add([]byte(blocksOf(json.RawMessage(previewModal))), "preview_matchers", "preview_matchers", "")
	f.Add([]byte(blocksOf(json.RawMessage(homeView))), "home_own_0", "silence_expire", "")
	f.Fuzz(func(t *testing.T, blocks []byte, blockID, actionID, value string) {
		el, ok := findElement(blocks, blockID, actionID)
		if !ok {
			return
		}
		if el.ActionID != actionID || el.Type == "" {
			t.Errorf("findElement(%q, %q) = %+v", blockID, actionID, el)
		}
		if opt, ok := el.option(value); ok && opt.Value != value {
			t.Errorf("option(%q) = %+v", value, opt)
		}
	})
}

// FuzzInputValues builds view_submission state from modals and page values
// of any shape.
func FuzzInputValues(f *testing.F) {
	raw, err := json.Marshal(testModal("meta", false))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw, "duration", "duration", "90m")
	f.Add(raw, "scope", "scope", "all")
	f.Add([]byte(`{"blocks":[{"type":"input","block_id":"b","element":{"type":"radio_buttons","action_id":"a","options":[{"value":"x"}]}}]}`), "b", "a", "x")
	f.Add([]byte(previewModal), "preview_matchers", "preview_matchers", `alertname="DiskFull"`)
	f.Add([]byte(`{"blocks":"nope"}`), "", "", "")
	f.Add([]byte(`{"blocks":[{"type":"input","block_id":"c","element":{"type":"checkboxes","action_id":"c","options":[{"value":"confirm"}]}}]}`), "c", "c", "confirm")
	f.Fuzz(func(t *testing.T, view []byte, blockID, actionID, value string) {
		got := inputValues(view, map[string]map[string]string{blockID: {actionID: value}},
			map[string]map[string][]string{blockID: {actionID: {value, value}}})
		if _, err := json.Marshal(got); err != nil {
			t.Errorf("state.values do not encode: %v", err)
		}
		if st, ok := got[blockID][actionID].(map[string]any); ok && st["type"] == "checkboxes" {
			if opts := st["selected_options"].([]option); len(opts) > 1 {
				t.Errorf("checkboxes: one value ticked twice gave %d options", len(opts))
			}
		}
	})
}
