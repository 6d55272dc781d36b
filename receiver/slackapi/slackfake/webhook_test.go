package slackfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/slackapi"
)

func TestWebhook(t *testing.T) {
	type answer struct {
		Status int
		Plain  string
		Body   map[string]any
	}
	tests := []struct {
		name  string
		setup func(s *Server)
		path  func(t *testing.T, s *Server) string
		body  string
		want  answer
	}{
		{
			name: "text",
			body: `{"text":"hello"}`,
			want: answer{Status: 200, Plain: "ok"},
		},
		{
			name: "blocks",
			body: `{"text":"fb","blocks":` + headerBlocks + `}`,
			want: answer{Status: 200, Plain: "ok"},
		},
		{
			name: "unknown webhook",
			path: func(*testing.T, *Server) string { return "/webhook/T0/B0/nothing" },
			body: `{"text":"hello"}`,
			want: answer{Status: 404, Plain: "channel_not_found"},
		},
		{
			name:  "channel gone",
			setup: func(s *Server) { s.SetChannels("C9") },
			body:  `{"text":"hello"}`,
			want:  answer{Status: 404, Plain: "channel_not_found"},
		},
		{
			name: "not JSON",
			body: `text=hello`,
			want: answer{Status: 400, Plain: "invalid_payload"},
		},
		{
			name: "no text",
			body: `{"blocks":[]}`,
			want: answer{Status: 400, Plain: "no_text"},
		},
		{
			name: "invalid blocks",
			body: `{"blocks":[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]}`,
			want: answer{Status: 400, Plain: "invalid_blocks"},
		},
		{
			name: "unknown thread",
			body: `{"text":"x","thread_ts":"1.000001"}`,
			want: answer{Status: 404, Plain: "thread_not_found"},
		},
		{
			name:  "injected failure",
			setup: func(s *Server) { s.FailNext(MethodWebhook, 1, 500, "") },
			body:  `{"text":"hello"}`,
			want:  answer{Status: 500, Plain: "internal_error"},
		},
		{
			name:  "injected rate limit",
			setup: func(s *Server) { s.FailNext(MethodWebhook, 1, 429, "") },
			body:  `{"text":"hello"}`,
			want:  answer{Status: 429, Body: map[string]any{"ok": false, "error": "rate_limited", "retry_after": float64(1)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Now: fixedClock})
			path := pathOf(t, s.WebhookURL("http://fake/", "C1"))
			if tt.path != nil {
				path = tt.path(t, s)
			}
			if tt.setup != nil {
				tt.setup(s)
			}
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			res := do(t, s, req)
			got := answer{Status: res.status, Plain: res.plain, Body: res.body}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("answer (-got +want):\n%s", diff)
			}
			wantMsgs := 0
			if tt.want.Plain == "ok" {
				wantMsgs = 1
			}
			if got := len(s.Messages("C1")); got != wantMsgs {
				t.Errorf("messages in C1 = %d, want %d", got, wantMsgs)
			}
		})
	}
}

func TestWebhookURL(t *testing.T) {
	s := New(Options{})
	a := s.WebhookURL("http://fake/", "C1")
	if b := s.WebhookURL("http://fake", "C1"); a != b {
		t.Errorf("second URL for C1 = %q, want %q", b, a)
	}
	if c := s.WebhookURL("http://fake", "C2"); c == a {
		t.Errorf("C2 shares C1's webhook %q", a)
	}
	if !strings.HasPrefix(a, "http://fake/webhook/") {
		t.Errorf("URL = %q, want it under http://fake/webhook/", a)
	}
}

func TestWebhookThreadsAndRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{WebhookPerSecond: 1})
		hook := pathOf(t, s.WebhookURL("http://fake", "C1"))
		parent := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "p")).body["ts"].(string)

		if res := postJSON(t, s, hook, map[string]any{"text": "r", "thread_ts": parent}); res.plain != "ok" {
			t.Fatalf("reply: %d %q", res.status, res.plain)
		}
		res := postJSON(t, s, hook, map[string]any{"text": "too soon"})
		want := map[string]any{"ok": false, "error": "rate_limited", "retry_after": float64(1)}
		if diff := cmp.Diff(res.body, want); diff != "" || res.status != 429 || res.header.Get("Retry-After") != "1" {
			t.Errorf("second post: %d Retry-After %q (-got +want):\n%s", res.status, res.header.Get("Retry-After"), diff)
		}
		postJSON(t, s, hook, map[string]any{"text": "ignoring Retry-After"})
		time.Sleep(time.Second)
		if res := postJSON(t, s, hook, map[string]any{"text": "later"}); res.plain != "ok" {
			t.Errorf("after waiting: %d %q", res.status, res.plain)
		}

		msgs := s.Messages("C1")
		if len(msgs) != 2 || len(msgs[0].Replies) != 1 || msgs[0].Replies[0].Source != MethodWebhook || msgs[1].Text != "later" {
			t.Errorf("messages = %+v", msgs)
		}
		id := strings.TrimPrefix(hook, "/webhook/")
		wantV := []Violation{{Time: time.Now().Add(-time.Second), Scope: slackapi.WebhookScope(id), Method: MethodWebhook, Channel: "C1", Until: time.Now()}}
		if diff := cmp.Diff(s.Violations(), wantV); diff != "" {
			t.Errorf("violations (-got +want):\n%s", diff)
		}
	})
}

func TestResponseURL(t *testing.T) {
	type step struct {
		body       string
		wantStatus int
		wantBody   map[string]any
	}
	okBody := map[string]any{"ok": true}
	tests := []struct {
		name           string
		messageTS      bool // issue the URL for the posted message
		steps          []step
		wantMessages   func(ts string) []Message
		wantEphemerals []Ephemeral
	}{
		{
			name:  "ephemeral by default",
			steps: []step{{body: `{"text":"Acked"}`, wantStatus: 200, wantBody: okBody}},
			wantEphemerals: []Ephemeral{{
				Channel: "C1", User: "U1", TS: "1764425522.000101", Text: "Acked", Source: MethodResponseURL, Time: t0,
			}},
		},
		{
			name:  "in channel, in a thread",
			steps: []step{{body: `{"text":"Silenced","response_type":"in_channel","thread_ts":"` + ts0 + `"}`, wantStatus: 200, wantBody: okBody}},
			wantMessages: func(ts string) []Message {
				return []Message{{
					Channel: "C1", TS: ts, Text: "orig", Source: "chat.postMessage", Posted: t0, History: []Message{},
					Replies: []Message{{
						Channel: "C1", TS: "1764425522.000101", ThreadTS: ts, Text: "Silenced", Source: MethodResponseURL,
						Posted: t0, History: []Message{}, Replies: []Message{},
					}},
				}}
			},
		},
		{
			name:      "replace original",
			messageTS: true,
			steps:     []step{{body: `{"text":"Acked by alice","replace_original":true,"blocks":` + headerBlocks + `}`, wantStatus: 200, wantBody: okBody}},
			wantMessages: func(ts string) []Message {
				return []Message{{
					Channel: "C1", TS: ts, Text: "Acked by alice", Blocks: json.RawMessage(headerBlocks), Source: "chat.postMessage",
					Posted: t0, Edited: t0, Edits: 1, Replies: []Message{},
					History: []Message{{Channel: "C1", TS: ts, Text: "orig", Source: "chat.postMessage", Posted: t0}},
				}}
			},
		},
		{
			name:  "replace an ephemeral source",
			steps: []step{{body: `{"text":"Done","replace_original":"true"}`, wantStatus: 200, wantBody: okBody}},
			wantEphemerals: []Ephemeral{{
				Channel: "C1", User: "U1", TS: "1764425522.000101", Text: "Done", Source: MethodResponseURL,
				Replaced: true, Time: t0,
			}},
		},
		{
			name:      "delete original",
			messageTS: true,
			steps: []step{
				{body: `{"delete_original":true}`, wantStatus: 200, wantBody: okBody},
				{body: `{"text":"again","replace_original":true}`, wantStatus: 404, wantBody: slackErr("message_not_found")},
			},
			wantMessages: func(ts string) []Message {
				return []Message{{
					Channel: "C1", TS: ts, Text: "orig", Source: "chat.postMessage", Posted: t0, Deleted: true,
					History: []Message{}, Replies: []Message{},
				}}
			},
		},
		{
			name: "five uses",
			steps: []step{
				{body: `{"text":"1"}`, wantStatus: 200, wantBody: okBody},
				{body: `{"text":""}`, wantStatus: 400, wantBody: slackErr("no_text")}, // refused: not a use
				{body: `{"text":"2"}`, wantStatus: 200, wantBody: okBody},
				{body: `{"text":"3"}`, wantStatus: 200, wantBody: okBody},
				{body: `{"text":"4"}`, wantStatus: 200, wantBody: okBody},
				{body: `{"text":"5"}`, wantStatus: 200, wantBody: okBody},
				{body: `{"text":"6"}`, wantStatus: 404, wantBody: slackErr("used_url")},
			},
			wantEphemerals: func() []Ephemeral {
				var out []Ephemeral
				for i, ts := range []string{"101", "102", "103", "104", "105"} {
					out = append(out, Ephemeral{
						Channel: "C1", User: "U1", TS: "1764425522.000" + ts, Text: string(rune('1' + i)),
						Source: MethodResponseURL, Time: t0,
					})
				}
				return out
			}(),
		},
		{
			name: "bad payloads",
			steps: []step{
				{body: `not json`, wantStatus: 400, wantBody: slackErr("invalid_payload")},
				{body: `{"text":"x","blocks":[{"type":"divider","block_id":""}]}`, wantStatus: 400, wantBody: map[string]any{
					"ok": false, "error": "invalid_blocks",
					"errors":            []any{"must be more than 0 characters [json-pointer:/blocks/0/block_id]"},
					"response_metadata": map[string]any{"messages": []any{"[ERROR] must be more than 0 characters [json-pointer:/blocks/0/block_id]"}},
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Now: fixedClock})
			ts := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "orig")).body["ts"].(string)
			source := ""
			if tt.messageTS {
				source = ts
			}
			path := pathOf(t, s.NewResponseURL("http://fake", "C1", "U1", source))
			for i, st := range tt.steps {
				res := postJSON(t, s, path, []byte(st.body))
				if res.status != st.wantStatus {
					t.Errorf("step %d: status %d, want %d", i, res.status, st.wantStatus)
				}
				if diff := cmp.Diff(res.body, st.wantBody); diff != "" {
					t.Errorf("step %d: body (-got +want):\n%s", i, diff)
				}
			}
			wantMsgs := []Message{{
				Channel: "C1", TS: ts, Text: "orig", Source: "chat.postMessage", Posted: t0,
				History: []Message{}, Replies: []Message{},
			}}
			if tt.wantMessages != nil {
				wantMsgs = tt.wantMessages(ts)
			}
			if diff := cmp.Diff(s.Messages("C1"), wantMsgs); diff != "" {
				t.Errorf("messages (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(s.Ephemerals("C1"), tt.wantEphemerals); diff != "" {
				t.Errorf("ephemerals (-got +want):\n%s", diff)
			}
		})
	}
}

func TestResponseURLRecordsPosts(t *testing.T) {
	s := New(Options{Now: fixedClock})
	ts := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "orig")).body["ts"].(string)
	path := pathOf(t, s.NewResponseURL("http://fake", "C1", "U1", ts))
	postJSON(t, s, path, map[string]any{"text": "hi", "blocks": json.RawMessage(headerBlocks)})
	postJSON(t, s, path, map[string]any{"text": "new", "replace_original": true})
	want := []ResponsePost{
		{Time: t0, Channel: "C1", User: "U1", MessageTS: ts, ResponseType: "ephemeral", Text: "hi", Blocks: json.RawMessage(headerBlocks)},
		{Time: t0, Channel: "C1", User: "U1", MessageTS: ts, ResponseType: "ephemeral", ReplaceOriginal: true, Text: "new"},
	}
	if diff := cmp.Diff(s.ResponsePosts(), want); diff != "" {
		t.Errorf("response posts (-got +want):\n%s", diff)
	}
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Method != MethodResponseURL || last.Channel != "C1" || last.TS != ts {
		t.Errorf("last request = %+v", last)
	}
}

func TestResponseURLExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{})
		path := pathOf(t, s.NewResponseURL("http://fake", "C1", "U1", ""))
		time.Sleep(30 * time.Minute)
		if res := postJSON(t, s, path, map[string]any{"text": "at 30m"}); res.status != 200 {
			t.Errorf("at 30 minutes: %d %v", res.status, res.body)
		}
		time.Sleep(time.Nanosecond)
		res := postJSON(t, s, path, map[string]any{"text": "late"})
		if diff := cmp.Diff(res.body, slackErr("expired_url")); diff != "" || res.status != 404 {
			t.Errorf("after 30 minutes: status %d (-got +want):\n%s", res.status, diff)
		}
		res = postJSON(t, s, "/response/unknown", map[string]any{"text": "x"})
		if diff := cmp.Diff(res.body, slackErr("expired_url")); diff != "" || res.status != 404 {
			t.Errorf("unknown URL: status %d (-got +want):\n%s", res.status, diff)
		}
	})
}
