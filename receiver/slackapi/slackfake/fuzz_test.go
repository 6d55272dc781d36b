package slackfake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seeds returns the JSON documents under testdata matching pattern.
func seeds(f *testing.F, pattern string) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzCheckBlocks checks that the block checker never panics, always points
// at the offending place, and judges a document the same after a JSON round
// trip.
func FuzzCheckBlocks(f *testing.F) {
	for _, b := range seeds(f, "blocks/*.json") {
		f.Add(b)
	}
	f.Add([]byte(`[{"type":"header","text":{"type":"mrkdwn","text":""}},{"type":"actions","elements":[{"type":"overflow","options":[]}]}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rep, err := checkBlocks(raw, "/blocks", maxMessageBlocks)
		if err != nil {
			return
		}
		for _, p := range rep.problems {
			if !strings.Contains(p, " [json-pointer:/blocks") || !strings.HasSuffix(p, "]") {
				t.Errorf("problem without a json-pointer: %q", p)
			}
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("accepted blocks do not parse: %v", err)
		}
		again, err := checkBlocks(mustJSON(t, v), "/blocks", maxMessageBlocks)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if diff := cmp.Diff(again, rep, cmp.AllowUnexported(blockReport{})); diff != "" && len(rep.problems) == 0 {
			t.Errorf("round trip changed the verdict (-again +first):\n%s", diff)
		}
	})
}

// FuzzCheckView checks that views.open's view checker never panics and
// always points at the offending place.
func FuzzCheckView(f *testing.F) {
	for _, b := range seeds(f, "view.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"type":"home","blocks":{}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, problems, err := checkView(raw)
		if err != nil {
			return
		}
		for _, p := range problems {
			if !strings.Contains(p, " [json-pointer:/view") {
				t.Errorf("problem without a json-pointer: %q", p)
			}
		}
	})
}

// FuzzPostMessage sends arbitrary bodies to chat.postMessage, as a form or as
// JSON, and to an incoming webhook: every answer must be well formed, and
// whatever was accepted must pass the block checker.
func FuzzPostMessage(f *testing.F) {
	for _, b := range seeds(f, "blocks/*.json") {
		f.Add([]byte("channel=C1&token=x&text=hi&blocks="+string(b)), false)
		f.Add(mustJSON(f, map[string]any{"channel": "C1", "token": "x", "text": "hi", "blocks": json.RawMessage(b)}), true)
	}
	f.Add([]byte(`channel=C1&token=x&thread_ts=1.2&reply_broadcast=1&text=%ff`), false)
	f.Add([]byte(`{"channel":["C1"],"token":1,"blocks":"[]"}`), true)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		s := New(Options{})
		req := httptest.NewRequest(http.MethodPost, "/api/chat.postMessage", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if isJSON {
			req.Header.Set("Content-Type", "application/json")
		}
		res := do(t, s, req)
		if res.status != http.StatusOK || res.body == nil {
			t.Fatalf("answer %d %q", res.status, res.plain)
		}
		hook := httptest.NewRequest(http.MethodPost, pathOf(t, s.WebhookURL("http://fake", "C1")), bytes.NewReader(body))
		if res := do(t, s, hook); res.status >= 500 {
			t.Fatalf("webhook answer %d %q", res.status, res.plain)
		}
		for _, m := range s.Messages("C1") {
			if m.Blocks == nil {
				continue
			}
			rep, err := checkBlocks(m.Blocks, "/blocks", maxMessageBlocks)
			if err != nil || len(rep.problems) > 0 || rep.textRunes > maxBlockTextRunes {
				t.Errorf("accepted invalid blocks %s: %v %q", m.Blocks, err, rep.problems)
			}
		}
	})
}
