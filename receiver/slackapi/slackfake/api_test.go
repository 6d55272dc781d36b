package slackfake

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

const headerBlocks = `[{"type":"header","block_id":"h","text":{"type":"plain_text","text":"DiskFull firing"}},` +
	`{"type":"actions","elements":[{"type":"button","action_id":"ack","text":{"type":"plain_text","text":"Ack"}}]}]`

func wireMsg(text, ts string, extra ...any) map[string]any {
	m := map[string]any{
		"type": "message", "text": text, "ts": ts, "user": BotUserID, "bot_id": BotID, "team": TeamID,
	}
	for i := 0; i < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPostMessage(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *Server)
		call  func(t *testing.T, s *Server) result
		want  map[string]any
	}{
		{
			name: "form with text",
			call: func(t *testing.T, s *Server) result {
				return postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "hello"))
			},
			want: map[string]any{"ok": true, "channel": "C1", "ts": ts0, "message": wireMsg("hello", ts0)},
		},
		{
			name: "form with blocks",
			call: func(t *testing.T, s *Server) result {
				return postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "fb", "blocks", headerBlocks))
			},
			want: map[string]any{
				"ok": true, "channel": "C1", "ts": ts0,
				"message": wireMsg("fb", ts0, "blocks", decode(t, headerBlocks)),
			},
		},
		{
			name: "JSON body with bearer token",
			call: func(t *testing.T, s *Server) result {
				return postJSON(t, s, "/api/chat.postMessage", map[string]any{
					"channel": "C1", "text": "fb", "blocks": json.RawMessage(headerBlocks),
				})
			},
			want: map[string]any{
				"ok": true, "channel": "C1", "ts": ts0,
				"message": wireMsg("fb", ts0, "blocks", decode(t, headerBlocks)),
			},
		},
		{
			name: "missing channel",
			call: func(t *testing.T, s *Server) result {
				return postForm(t, s, "chat.postMessage", form("text", "hello"))
			},
			want: slackErr("channel_not_found"),
		},
		{
			name:  "unknown channel",
			setup: func(s *Server) { s.SetChannels("C1") },
			call: func(t *testing.T, s *Server) result {
				return postForm(t, s, "chat.postMessage", form("channel", "C2", "text", "hello"))
			},
			want: slackErr("channel_not_found"),
		},
		{
			name: "no text",
			call: func(t *testing.T, s *Server) result {
				return postForm(t, s, "chat.postMessage", form("channel", "C1"))
			},
			want: slackErr("no_text"),
		},
		{
			name: "blocks not JSON",
			call: func(t *testing.T, s *Server) result {
				return postForm(t, s, "chat.postMessage", form("channel", "C1", "blocks", "[{"))
			},
			want: slackErr("invalid_blocks_format"),
		},
		{
			name: "invalid blocks",
			call: func(t *testing.T, s *Server) result {
				blocks := `[{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("a", 3001) + `"}}]`
				return postForm(t, s, "chat.postMessage", form("channel", "C1", "blocks", blocks))
			},
			want: map[string]any{
				"ok": false, "error": "invalid_blocks",
				"errors": []any{"must be less than 3001 characters [json-pointer:/blocks/0/text/text]"},
				"response_metadata": map[string]any{"messages": []any{
					"[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
				}},
			},
		},
		{
			name: "blocks too long in total",
			call: func(t *testing.T, s *Server) result {
				var b strings.Builder
				b.WriteString("[")
				for i := range 5 {
					if i > 0 {
						b.WriteString(",")
					}
					b.WriteString(`{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("a", 2700) + `"}}`)
				}
				b.WriteString("]")
				return postForm(t, s, "chat.postMessage", form("channel", "C1", "blocks", b.String()))
			},
			want: slackErr("msg_blocks_too_long"),
		},
		{
			name: "text too long",
			call: func(t *testing.T, s *Server) result {
				return postForm(t, s, "chat.postMessage", form("channel", "C1", "text", strings.Repeat("a", 40001)))
			},
			want: slackErr("msg_too_long"),
		},
		{
			name: "unknown thread",
			call: func(t *testing.T, s *Server) result {
				return postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "r", "thread_ts", "1.000001"))
			},
			want: slackErr("thread_not_found"),
		},
		{
			name: "body not JSON",
			call: func(t *testing.T, s *Server) result {
				return postJSON(t, s, "/api/chat.postMessage", []byte(`{"channel":`))
			},
			want: slackErr("invalid_json"),
		},
		{
			name: "unknown method",
			call: func(t *testing.T, s *Server) result {
				return postForm(t, s, "chat.postMessages", form("channel", "C1", "text", "x"))
			},
			want: slackErr("unknown_method"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Token: testToken, Now: fixedClock})
			if tt.setup != nil {
				tt.setup(s)
			}
			res := tt.call(t, s)
			if res.status != http.StatusOK {
				t.Errorf("status = %d, want 200", res.status)
			}
			if diff := cmp.Diff(res.body, tt.want); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name       string
		serverTok  string
		formTok    string
		bearer     string
		wantErrStr string
	}{
		{name: "token in form", serverTok: testToken, formTok: testToken},
		{name: "token as bearer", serverTok: testToken, bearer: testToken},
		{name: "missing token", serverTok: testToken, wantErrStr: "not_authed"},
		{name: "wrong token in form", serverTok: testToken, formTok: "xoxb-other", wantErrStr: "invalid_auth"},
		{name: "wrong bearer", serverTok: testToken, bearer: "xoxb-other", wantErrStr: "invalid_auth"},
		{name: "any token accepted", formTok: "xoxb-whatever"},
		{name: "any token but none given", wantErrStr: "not_authed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Token: tt.serverTok, Now: fixedClock})
			f := form("channel", "C1", "text", "hi")
			if tt.formTok != "" {
				f.Set("token", tt.formTok)
			}
			req := httptest.NewRequest(http.MethodPost, "/api/chat.postMessage", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			res := do(t, s, req)
			if res.status != http.StatusOK {
				t.Errorf("status = %d, want 200", res.status)
			}
			want := map[string]any{"ok": true, "channel": "C1", "ts": ts0, "message": wireMsg("hi", ts0)}
			if tt.wantErrStr != "" {
				want = slackErr(tt.wantErrStr)
			}
			if diff := cmp.Diff(res.body, want); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
		})
	}
}

func TestThreadsAndTimestamps(t *testing.T) {
	s := New(Options{Now: fixedClock})
	post := func(kv ...string) string {
		t.Helper()
		res := postForm(t, s, "chat.postMessage", form(kv...))
		if res.body["ok"] != true {
			t.Fatalf("post: %v", res.body)
		}
		return res.body["ts"].(string)
	}
	parent := post("channel", "C1", "text", "parent", "blocks", headerBlocks)
	reply := post("channel", "C1", "text", "reply", "thread_ts", parent)
	nested := post("channel", "C1", "text", "reply to reply", "thread_ts", reply)
	broadcast := post("channel", "C1", "text", "broadcast", "thread_ts", parent, "reply_broadcast", "true")
	other := post("channel", "C2", "text", "other")
	gotTS := []string{parent, reply, nested, broadcast, other}
	wantTS := []string{"1764425522.000100", "1764425522.000101", "1764425522.000102", "1764425522.000103", "1764425522.000104"}
	if diff := cmp.Diff(gotTS, wantTS); diff != "" {
		t.Errorf("timestamps (-got +want):\n%s", diff)
	}
	replyMsg := func(text, ts string, broadcast bool) Message {
		return Message{
			Channel: "C1", TS: ts, ThreadTS: parent, Text: text, Source: "chat.postMessage", Posted: t0,
			Broadcast: broadcast, History: []Message{}, Replies: []Message{},
		}
	}
	want := []Message{{
		Channel: "C1", TS: parent, Text: "parent", Blocks: json.RawMessage(headerBlocks),
		Source: "chat.postMessage", Posted: t0, History: []Message{},
		Replies: []Message{
			replyMsg("reply", reply, false),
			replyMsg("reply to reply", nested, false),
			replyMsg("broadcast", broadcast, true),
		},
	}}
	if diff := cmp.Diff(s.Messages("C1"), want); diff != "" {
		t.Errorf("messages (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(s.Channels(), []string{"C1", "C2"}); diff != "" {
		t.Errorf("channels (-got +want):\n%s", diff)
	}
	m := s.Messages("C1")[0]
	if got, want := m.HeaderText(), "DiskFull firing"; got != want {
		t.Errorf("HeaderText() = %q, want %q", got, want)
	}
	if diff := cmp.Diff(m.ActionIDs(), []string{"ack"}); diff != "" {
		t.Errorf("ActionIDs() (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(m.BlockIDs(), []string{"h", ""}); diff != "" {
		t.Errorf("BlockIDs() (-got +want):\n%s", diff)
	}
	if got, ok := s.Message("C1", nested); !ok || got.Text != "reply to reply" {
		t.Errorf("Message(C1, %s) = %+v, %v", nested, got, ok)
	}
}

func TestTimestampsIncreaseWithTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{})
		var got []string
		for range 3 {
			res := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "x"))
			got = append(got, res.body["ts"].(string))
			time.Sleep(1500 * time.Millisecond)
		}
		// synctest's clock starts at 2000-01-01T00:00:00Z.
		want := []string{"946684800.000000", "946684801.500000", "946684803.000000"}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("timestamps (-got +want):\n%s", diff)
		}
	})
}

func TestUpdate(t *testing.T) {
	s := New(Options{Now: fixedClock})
	res := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "v1", "blocks", headerBlocks))
	ts := res.body["ts"].(string)
	reply := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "r1", "thread_ts", ts)).body["ts"].(string)

	steps := []struct {
		name string
		form []string
		want map[string]any
	}{
		{
			name: "text only keeps blocks",
			form: []string{"channel", "C1", "ts", ts, "text", "v2"},
			want: map[string]any{
				"ok": true, "channel": "C1", "ts": ts, "text": "v2",
				"message": wireMsg("v2", ts, "blocks", decode(t, headerBlocks),
					"edited", map[string]any{"user": BotUserID, "ts": ts}),
			},
		},
		{
			name: "empty blocks remove them",
			form: []string{"channel", "C1", "ts", ts, "text", "v3", "blocks", "[]"},
			want: map[string]any{
				"ok": true, "channel": "C1", "ts": ts, "text": "v3",
				"message": wireMsg("v3", ts, "edited", map[string]any{"user": BotUserID, "ts": ts}),
			},
		},
		{
			name: "reply",
			form: []string{"channel", "C1", "ts", reply, "text", "r2"},
			want: map[string]any{
				"ok": true, "channel": "C1", "ts": reply, "text": "r2",
				"message": wireMsg("r2", reply, "thread_ts", ts, "edited", map[string]any{"user": BotUserID, "ts": reply}),
			},
		},
		{name: "unknown ts", form: []string{"channel", "C1", "ts", "1.000002", "text", "x"}, want: slackErr("message_not_found")},
		{name: "wrong channel", form: []string{"channel", "C2", "ts", ts, "text", "x"}, want: slackErr("message_not_found")},
		{name: "nothing to change", form: []string{"channel", "C1", "ts", ts}, want: slackErr("no_text")},
		{
			name: "invalid blocks",
			form: []string{"channel", "C1", "ts", ts, "blocks", `[{"type":"actions","elements":[]}]`},
			want: map[string]any{
				"ok": false, "error": "invalid_blocks",
				"errors":            []any{"must have at least 1 items [json-pointer:/blocks/0/elements]"},
				"response_metadata": map[string]any{"messages": []any{"[ERROR] must have at least 1 items [json-pointer:/blocks/0/elements]"}},
			},
		},
	}
	for _, st := range steps {
		res := postForm(t, s, "chat.update", form(st.form...))
		if diff := cmp.Diff(res.body, st.want); diff != "" {
			t.Errorf("%s: body (-got +want):\n%s", st.name, diff)
		}
	}

	want := Message{
		Channel: "C1", TS: ts, Text: "v3", Source: "chat.postMessage", Posted: t0, Edited: t0, Edits: 2,
		History: []Message{
			{Channel: "C1", TS: ts, Text: "v1", Blocks: json.RawMessage(headerBlocks), Source: "chat.postMessage", Posted: t0},
			{
				Channel: "C1", TS: ts, Text: "v2", Blocks: json.RawMessage(headerBlocks), Source: "chat.postMessage",
				Posted: t0, Edited: t0, Edits: 1,
			},
		},
		Replies: []Message{{
			Channel: "C1", TS: reply, ThreadTS: ts, Text: "r2", Source: "chat.postMessage", Posted: t0, Edited: t0,
			Edits: 1, History: []Message{{Channel: "C1", TS: reply, ThreadTS: ts, Text: "r1", Source: "chat.postMessage", Posted: t0}},
			Replies: []Message{},
		}},
	}
	if diff := cmp.Diff(s.Messages("C1"), []Message{want}); diff != "" {
		t.Errorf("messages (-got +want):\n%s", diff)
	}
}

func TestPostEphemeral(t *testing.T) {
	s := New(Options{Now: fixedClock})
	s.SetChannels("C1")
	tests := []struct {
		form []string
		want map[string]any
	}{
		{form: []string{"channel", "C1", "user", "U1", "text", "only you", "blocks", headerBlocks}, want: map[string]any{"ok": true, "message_ts": ts0}},
		{form: []string{"channel", "C1", "text", "no user"}, want: slackErr("user_not_found")},
		{form: []string{"channel", "C9", "user", "U1", "text", "x"}, want: slackErr("channel_not_found")},
		{form: []string{"channel", "C1", "user", "U1"}, want: slackErr("no_text")},
	}
	for _, tt := range tests {
		res := postForm(t, s, "chat.postEphemeral", form(tt.form...))
		if diff := cmp.Diff(res.body, tt.want); diff != "" {
			t.Errorf("%q: body (-got +want):\n%s", tt.form, diff)
		}
	}
	want := []Ephemeral{{
		Channel: "C1", User: "U1", TS: ts0, Text: "only you", Blocks: json.RawMessage(headerBlocks),
		Source: "chat.postEphemeral", Time: t0,
	}}
	if diff := cmp.Diff(s.Ephemerals("C1"), want); diff != "" {
		t.Errorf("ephemerals (-got +want):\n%s", diff)
	}
	if len(s.Messages("C1")) != 0 {
		t.Errorf("ephemeral message became a channel message")
	}
}

func TestViewsOpen(t *testing.T) {
	view, err := os.ReadFile(filepath.Join("testdata", "view.json"))
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{Token: testToken})
		start := time.Now()
		open := func(trigger string, view json.RawMessage) result {
			return postJSON(t, s, "/api/views.open", map[string]any{"trigger_id": trigger, "view": view})
		}

		issued := s.NewTriggerID()
		res := open(issued, view)
		if res.body["ok"] != true {
			t.Fatalf("views.open: %v", res.body)
		}
		got := res.body["view"].(map[string]any)
		if got["id"] != "V0000000002" || got["callback_id"] != "silence_modal" {
			t.Errorf("view = %v", got)
		}
		if diff := cmp.Diff(open(issued, view).body, slackErr("exchanged_trigger_id")); diff != "" {
			t.Errorf("second use (-got +want):\n%s", diff)
		}

		late := s.NewTriggerID()
		time.Sleep(3*time.Second + time.Millisecond)
		if diff := cmp.Diff(open(late, view).body, slackErr("expired_trigger_id")); diff != "" {
			t.Errorf("late use (-got +want):\n%s", diff)
		}

		// A trigger from an interaction payload the fake did not issue.
		if res := open("1111111111.2222222222.abc", view); res.body["ok"] != true {
			t.Errorf("foreign trigger: %v", res.body)
		}

		bad := strings.Replace(string(view), "Silence DiskFull", strings.Repeat("t", 25), 1)
		want := map[string]any{"ok": false, "error": "invalid_arguments", "response_metadata": map[string]any{
			"messages": []any{"[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"},
		}}
		if diff := cmp.Diff(open(s.NewTriggerID(), json.RawMessage(bad)).body, want); diff != "" {
			t.Errorf("long title (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(postJSON(t, s, "/api/views.open", map[string]any{"view": view}).body, slackErr("invalid_arguments")); diff != "" {
			t.Errorf("no trigger (-got +want):\n%s", diff)
		}

		views := s.Views()
		if len(views) != 2 {
			t.Fatalf("views = %d, want 2", len(views))
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, view); err != nil {
			t.Fatal(err)
		}
		wantView := View{
			ID: "V0000000002", TriggerID: issued, CallbackID: "silence_modal", Title: "Silence DiskFull",
			PrivateMetadata: "group=abc", Raw: json.RawMessage(compact.Bytes()), Time: start, Hash: "V0000000002.hash",
		}
		if diff := cmp.Diff(views[0], wantView); diff != "" {
			t.Errorf("recorded view (-got +want):\n%s", diff)
		}
	})
}

func TestUsersAndGroups(t *testing.T) {
	s := New(Options{})
	s.SetUser(User{ID: "U1", Name: "alice", RealName: "Alice Liddell"})
	s.SetUserGroup("S1", []string{"U1", "U2"})
	tests := []struct {
		method string
		form   []string
		want   map[string]any
	}{
		{"usergroups.users.list", []string{"usergroup", "S1"}, map[string]any{"ok": true, "users": []any{"U1", "U2"}}},
		{"usergroups.users.list", []string{"usergroup", "S2"}, slackErr("no_such_subteam")},
		{"users.info", []string{"user", "U1"}, map[string]any{"ok": true, "user": map[string]any{
			"id": "U1", "team_id": TeamID, "name": "alice", "real_name": "Alice Liddell", "deleted": false, "is_bot": false,
			"profile": map[string]any{"real_name": "Alice Liddell", "display_name": "alice"},
		}}},
		{"users.info", []string{"user", "U9"}, slackErr("user_not_found")},
		{"auth.test", nil, map[string]any{
			"ok": true, "url": "https://slackfake.invalid/", "team": "slackfake", "user": "amslack",
			"team_id": TeamID, "user_id": BotUserID, "bot_id": BotID,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+strings.Join(tt.form, "="), func(t *testing.T) {
			res := postForm(t, s, tt.method, form(tt.form...))
			if diff := cmp.Diff(res.body, tt.want); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	post := func(t *testing.T, s *Server) result {
		return postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "x"))
	}
	okBody := func(ts string) map[string]any {
		return map[string]any{"ok": true, "channel": "C1", "ts": ts, "message": wireMsg("x", ts)}
	}
	type answer struct {
		Status     int
		RetryAfter string
		Body       map[string]any
	}
	tests := []struct {
		name  string
		setup func(s *Server)
		want  []answer
	}{
		{
			name:  "server error",
			setup: func(s *Server) { s.FailNext("chat.postMessage", 2, 500, "") },
			want: []answer{
				{Status: 500, Body: slackErr("internal_error")},
				{Status: 500, Body: slackErr("internal_error")},
				{Status: 200, Body: okBody(ts0)},
			},
		},
		{
			name:  "slack error",
			setup: func(s *Server) { s.FailNext("chat.postMessage", 1, 200, "channel_not_found") },
			want:  []answer{{Status: 200, Body: slackErr("channel_not_found")}, {Status: 200, Body: okBody(ts0)}},
		},
		{
			name: "queued in order",
			setup: func(s *Server) {
				s.FailNext("chat.postMessage", 1, 503, "")
				s.FailNext("chat.postMessage", 1, 0, "is_archived")
			},
			want: []answer{
				{Status: 503, Body: slackErr("internal_error")},
				{Status: 200, Body: slackErr("is_archived")},
				{Status: 200, Body: okBody(ts0)},
			},
		},
		{
			name:  "other method unaffected",
			setup: func(s *Server) { s.FailNext("chat.update", 1, 500, "") },
			want:  []answer{{Status: 200, Body: okBody(ts0)}},
		},
		{
			name:  "rate limit",
			setup: func(s *Server) { s.FailNext("chat.postMessage", 1, 429, "") },
			want:  []answer{{Status: 429, RetryAfter: "1", Body: slackErr("ratelimited")}},
		},
		{
			name:  "outage",
			setup: func(s *Server) { s.SetOutage(true) },
			want: []answer{
				{Status: 503, Body: slackErr("service_unavailable")},
				{Status: 503, Body: slackErr("service_unavailable")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Now: fixedClock})
			tt.setup(s)
			var got []answer
			for range tt.want {
				res := post(t, s)
				got = append(got, answer{Status: res.status, RetryAfter: res.header.Get("Retry-After"), Body: res.body})
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("answers (-got +want):\n%s", diff)
			}
		})
	}
}

func TestOutageCoversEveryRoute(t *testing.T) {
	s := New(Options{Now: fixedClock})
	hook := pathOf(t, s.WebhookURL("http://fake", "C1"))
	resp := pathOf(t, s.NewResponseURL("http://fake", "C1", "U1", ""))
	s.SetOutage(true)
	calls := map[string]func() result{
		"api":      func() result { return postForm(t, s, "users.info", form("user", "U1")) },
		"webhook":  func() result { return postJSON(t, s, hook, map[string]any{"text": "x"}) },
		"response": func() result { return postJSON(t, s, resp, map[string]any{"text": "x"}) },
	}
	for name, call := range calls {
		if res := call(); res.status != http.StatusServiceUnavailable {
			t.Errorf("%s during outage: status %d, want 503", name, res.status)
		}
	}
	s.SetOutage(false)
	for name, call := range calls {
		if res := call(); res.status != http.StatusOK {
			t.Errorf("%s after outage: status %d, want 200", name, res.status)
		}
	}
}

func TestLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{})
		s.SetLatency(2 * time.Second)
		start := time.Now()
		postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "x"))
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("answered after %v, want 2s", got)
		}
		reqs := s.Requests()
		if len(reqs) != 1 || !reqs[0].Time.Equal(start.Add(2*time.Second)) {
			t.Errorf("requests = %+v", reqs)
		}
	})
}

func TestRequests(t *testing.T) {
	s := New(Options{Token: testToken, Now: fixedClock})
	parent := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "p")).body["ts"].(string)
	reply := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "r", "thread_ts", parent)).body["ts"].(string)
	postForm(t, s, "chat.update", form("channel", "C1", "ts", parent, "text", "p2"))
	postForm(t, s, "chat.update", form("channel", "C1", "ts", parent, "text", "p2", "token", "bad"))
	s.FailNext("chat.postMessage", 1, 502, "")
	postForm(t, s, "chat.postMessage", form("channel", "C2", "text", "x"))
	want := []Request{
		{Time: t0, Method: "chat.postMessage", Channel: "C1", Status: 200, TS: parent},
		{Time: t0, Method: "chat.postMessage", Channel: "C1", Status: 200, ThreadTS: parent, TS: reply},
		{Time: t0, Method: "chat.update", Channel: "C1", Status: 200, TS: parent},
		{Time: t0, Method: "chat.update", Channel: "C1", Status: 200, Error: "invalid_auth", TS: parent},
		{Time: t0, Method: "chat.postMessage", Channel: "C2", Status: 502, Error: "internal_error"},
	}
	if diff := cmp.Diff(s.Requests(), want); diff != "" {
		t.Errorf("requests (-got +want):\n%s", diff)
	}
}

func TestSubscribe(t *testing.T) {
	s := New(Options{Now: fixedClock})
	events, cancel := s.Subscribe()
	parent := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "p")).body["ts"].(string)
	reply := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "r", "thread_ts", parent)).body["ts"].(string)
	postForm(t, s, "chat.update", form("channel", "C1", "ts", parent, "text", "p2"))
	eph := postForm(t, s, "chat.postEphemeral", form("channel", "C1", "user", "U1", "text", "e")).body["message_ts"].(string)
	postForm(t, s, "chat.postMessage", form("channel", "C1")) // refused: no event
	s.Reset()
	cancel()
	cancel() // a second cancel is harmless

	var got []Event
	for ev := range events {
		got = append(got, ev)
	}
	want := []Event{
		{Kind: EventPost, Channel: "C1", TS: parent},
		{Kind: EventReply, Channel: "C1", TS: reply, ThreadTS: parent},
		{Kind: EventUpdate, Channel: "C1", TS: parent},
		{Kind: EventEphemeral, Channel: "C1", TS: eph, User: "U1"},
		{Kind: EventReset},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("events (-got +want):\n%s", diff)
	}
}

func TestReset(t *testing.T) {
	s := New(Options{Now: fixedClock, ChannelPerSecond: 1})
	s.SetChannels("C1")
	s.SetUser(User{ID: "U1", Name: "alice"})
	hook := pathOf(t, s.WebhookURL("http://fake", "C1"))
	postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "a"))
	postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "b")) // 429
	postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "c")) // violation
	s.FailNext("users.info", 1, 500, "")
	s.SetOutage(true)

	s.Reset()

	if n := len(s.Messages("C1")) + len(s.Requests()) + len(s.Violations()) + len(s.Channels()); n != 0 {
		t.Errorf("records survived Reset: %d", n)
	}
	res := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "after"))
	if res.status != http.StatusOK || res.body["ts"] != "1764425522.000101" {
		t.Errorf("post after Reset: %d %v (rate limit, outage or ts reuse)", res.status, res.body)
	}
	if res := postForm(t, s, "users.info", form("user", "U1")); res.body["ok"] != true {
		t.Errorf("users.info after Reset: %v", res.body)
	}
	if res := postForm(t, s, "chat.postMessage", form("channel", "C2", "text", "x")); res.body["error"] != "channel_not_found" {
		t.Errorf("channels forgotten by Reset: %v", res.body)
	}
	if res := postJSON(t, s, hook, map[string]any{"text": "x"}); res.plain != "ok" {
		t.Errorf("webhook after Reset: %d %q", res.status, res.plain)
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	s := New(Options{Token: "xoxb-very-secret", Now: fixedClock, Logger: logger})
	postForm(t, s, "chat.postMessage", form("token", "xoxb-very-secret", "channel", "C1", "text", "x", "blocks", headerBlocks))
	postForm(t, s, "chat.update", form("token", "xoxb-very-secret", "channel", "C1", "ts", ts0, "text", "y"))
	postForm(t, s, "chat.postMessage", form("token", "xoxb-wrong-secret", "channel", "C1", "text", "x"))
	want := `{"level":"INFO","msg":"message posted","source":"chat.postMessage","channel":"C1","ts":"1764425522.000100","thread_ts":"","header":"DiskFull firing"}
{"level":"INFO","msg":"message updated","source":"chat.postMessage","channel":"C1","ts":"1764425522.000100","thread_ts":"","header":"DiskFull firing"}
`
	if diff := cmp.Diff(buf.String(), want); diff != "" {
		t.Errorf("log (-got +want):\n%s", diff)
	}
}

func TestRoutes(t *testing.T) {
	s := New(Options{})
	mux := http.NewServeMux()
	mux.Handle("/slack/", http.StripPrefix("/slack", s))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	if got, want := s.APIURL(srv.URL+"/slack/"), srv.URL+"/slack/api/"; got != want {
		t.Errorf("APIURL = %q, want %q", got, want)
	}
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/slack/api/auth.test?token=x", 200},
		{http.MethodGet, "/slack/api/auth.test?token=x", 200},
		{http.MethodPut, "/slack/api/auth.test", 405},
		{http.MethodGet, "/slack/webhook/x", 405},
		{http.MethodPost, "/slack/nothing", 404},
		{http.MethodPost, "/slack/api/", 404},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}
}
