package preview

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

func TestPageAndAssets(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		path        string
		status      int
		contentType string
		contains    string
	}{
		{"/preview", http.StatusOK, "text/html", "amslack local preview — no Slack workspace involved"},
		{"/preview/", http.StatusOK, "text/html", `data-role="user-switcher"`},
		{"/preview/static/preview.css", http.StatusOK, "text/css", ".btn-danger"},
		{"/preview/static/preview.js", http.StatusOK, "text/javascript", "/preview/api/events"},
		{"/preview/static/missing.js", http.StatusNotFound, "", ""},
		{"/preview/nothing", http.StatusNotFound, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(e.srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type = %q, want %q", ct, tt.contentType)
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
}

// TestAssetsLoadNothingFromOutside keeps the page working on a machine
// without internet: no CDN, no web fonts, no remote images.
func TestAssetsLoadNothingFromOutside(t *testing.T) {
	for _, name := range []string{"assets/index.html", "assets/preview.css", "assets/preview.js"} {
		b, err := assets.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{`src="http`, `href="http`, "url(", "@import", "//cdn", "fonts.googleapis"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := http.Get(e.srv.URL + "/preview/api/click")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET click = %d, want 405", resp.StatusCode)
	}
}

// rawJSON compares JSON by value, not by its bytes.
var rawJSON = cmp.Transformer("json", func(r json.RawMessage) any {
	if r == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(r, &v); err != nil {
		return string(r)
	}
	return v
})

func TestState(t *testing.T) {
	e := newEnv(t, nil)
	golden := goldenMessage(t)
	first := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "text": {golden.Text}, "blocks": {string(golden.Blocks)}})
	reply := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "thread_ts": {first}, "text": {"Silenced by <@U0PREVIEWA>"}})
	e.post(t, "chat.update", url.Values{"channel": {testChannel}, "ts": {first}, "text": {"updated"}})
	second := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "text": {"second"}})
	gone := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "text": {"to delete"}})
	other := e.post(t, "chat.postMessage", url.Values{"channel": {"C0OTHER"}, "text": {"elsewhere"}})
	ephA := e.post(t, "chat.postEphemeral", url.Values{"channel": {testChannel}, "user": {alice}, "text": {"for alice"}})
	ephB := e.post(t, "chat.postEphemeral", url.Values{"channel": {testChannel}, "user": {bob}, "text": {"for bob, to be replaced"}})

	respond := func(ru string, body string) {
		t.Helper()
		resp, err := http.Post(ru, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("response_url answered %d", resp.StatusCode)
		}
	}
	respond(e.fake.NewResponseURL(e.fakeURL, testChannel, alice, gone), `{"delete_original":true}`)
	respond(e.fake.NewResponseURL(e.fakeURL, testChannel, bob, ""), `{"replace_original":true,"text":"bob's replacement"}`)
	replaced := e.fake.Ephemerals(testChannel)[2].TS

	opts := cmp.Options{rawJSON, cmpopts.IgnoreFields(message{}, "Posted"), cmpopts.IgnoreFields(ephemeral{}, "Time")}
	msgs := []channel{
		{ID: testChannel, Messages: []message{
			{TS: first, Text: "updated", Blocks: golden.Blocks, Edited: true, Replies: []message{
				{TS: reply, ThreadTS: first, Text: "Silenced by <@U0PREVIEWA>", Replies: []message{}},
			}},
			{TS: second, Text: "second", Replies: []message{}},
		}},
		{ID: "C0OTHER", Messages: []message{{TS: other, Text: "elsewhere", Replies: []message{}}}, Ephemerals: []ephemeral{}},
	}
	tests := []struct {
		user       string
		ephemerals []ephemeral
	}{
		{alice, []ephemeral{{TS: ephA, Text: "for alice"}}},
		{bob, []ephemeral{{TS: replaced, Text: "bob's replacement"}}},
		{"U0PREVIEWC", []ephemeral{}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			want := state{
				User:  e.h.users[slices.IndexFunc(e.h.users, func(u slackfake.User) bool { return u.ID == tt.user })],
				Users: DefaultUsers(), Examples: []string{"v035-firing", "v035-resolved"},
				Channels: slices.Clone(msgs), Views: []view{},
			}
			want.Channels[0].Ephemerals = tt.ephemerals
			if diff := cmp.Diff(e.state(t, tt.user), want, opts); diff != "" {
				t.Errorf("state (-got +want):\n%s", diff)
			}
		})
	}
	_ = ephB

	t.Run("default user", func(t *testing.T) {
		if got := e.state(t, "").User.ID; got != alice {
			t.Errorf("user = %s, want the first, %s", got, alice)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		resp, err := http.Get(e.srv.URL + "/preview/api/state?user=U0NOBODY")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status = %d, want 404", resp.StatusCode)
		}
	})
}

func TestUsersAreKnownToFake(t *testing.T) {
	e := newEnv(t, nil)
	u, err := e.api.GetUserInfo(bob)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "bob" {
		t.Errorf("users.info name = %q, want bob", u.Name)
	}
}

func TestClick(t *testing.T) {
	e := newEnv(t, nil)
	golden := goldenMessage(t)
	ts := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "text": {golden.Text}, "blocks": {string(golden.Blocks)}})
	replyBlocks := `[{"type":"actions","block_id":"retry","elements":[{"type":"button","action_id":"again","text":{"type":"plain_text","text":"Again"},"value":"r1","style":"primary"}]}]`
	reply := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "thread_ts": {ts}, "text": {"reply"}, "blocks": {replyBlocks}})
	eph := e.post(t, "chat.postEphemeral", url.Values{"channel": {testChannel}, "user": {alice}, "text": {"only alice"}, "blocks": {replyBlocks}})

	type want struct {
		user, ts, threadTS, actionType, blockID, actionID, value, selected string
		ephemeral, hasMessage                                              bool
	}
	tests := []struct {
		name string
		req  clickRequest
		want want
	}{
		{
			name: "button",
			req:  clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "unack", User: bob},
			want: want{user: bob, ts: ts, actionType: "button", blockID: "actions", actionID: "unack", value: "v1", hasMessage: true},
		},
		{
			name: "danger button with confirm",
			req:  clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "approve_restart", User: alice},
			want: want{user: alice, ts: ts, actionType: "button", blockID: "actions", actionID: "approve_restart", value: "v1", hasMessage: true},
		},
		{
			name: "select by selected_option",
			req: clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "silence", User: alice,
				SelectedOption: &struct {
					Value string `json:"value"`
				}{"1h"}},
			want: want{user: alice, ts: ts, actionType: "static_select", blockID: "actions", actionID: "silence", selected: "1h", hasMessage: true},
		},
		{
			name: "select by value",
			req:  clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "silence", Value: "24h", User: "U0PREVIEWC"},
			want: want{user: "U0PREVIEWC", ts: ts, actionType: "static_select", blockID: "actions", actionID: "silence", selected: "24h", hasMessage: true},
		},
		{
			name: "thread reply",
			req:  clickRequest{Channel: testChannel, TS: reply, BlockID: "retry", ActionID: "again", User: bob},
			want: want{user: bob, ts: reply, threadTS: ts, actionType: "button", blockID: "retry", actionID: "again", value: "r1", hasMessage: true},
		},
		{
			name: "ephemeral",
			req:  clickRequest{Channel: testChannel, TS: eph, BlockID: "retry", ActionID: "again", User: alice, Ephemeral: true},
			want: want{user: alice, ts: eph, actionType: "button", blockID: "retry", actionID: "again", value: "r1", ephemeral: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.inter.received())
			var res apiResult
			if status := e.call(t, "/preview/api/click", tt.req, &res); status != http.StatusOK || res.Status != http.StatusOK {
				t.Fatalf("click = %d %+v, want 200", status, res)
			}
			got := e.inter.received()
			if len(got) != before+1 {
				t.Fatalf("interactions received %d, want %d", len(got), before+1)
			}
			in := got[len(got)-1]
			if in.verifyErr != nil {
				t.Errorf("signature does not verify: %v", in.verifyErr)
			}
			if in.contentType != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type = %q", in.contentType)
			}
			cb := in.cb
			if len(cb.ActionCallback.BlockActions) != 1 {
				t.Fatalf("actions = %d, want 1", len(cb.ActionCallback.BlockActions))
			}
			a := cb.ActionCallback.BlockActions[0]
			gotWant := want{
				user: cb.User.ID, ts: cb.Container.MessageTs, threadTS: cb.Container.ThreadTs,
				actionType: string(a.Type), blockID: a.BlockID, actionID: a.ActionID, value: a.Value,
				selected: a.SelectedOption.Value, ephemeral: cb.Container.IsEphemeral, hasMessage: cb.Message.Timestamp != "",
			}
			if diff := cmp.Diff(gotWant, tt.want, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("payload (-got +want):\n%s", diff)
			}
			if cb.Type != slack.InteractionTypeBlockActions || cb.Team.ID != slackfake.TeamID ||
				cb.Channel.ID != testChannel || cb.Container.ChannelID != testChannel || cb.APIAppID == "" ||
				cb.User.Name == "" || cb.User.Name != cb.User.Username || a.ActionTs == "" {
				t.Errorf("payload envelope = type %q team %q channel %q/%q app %q user %+v action_ts %q",
					cb.Type, cb.Team.ID, cb.Channel.ID, cb.Container.ChannelID, cb.APIAppID, cb.User, a.ActionTs)
			}
			if tt.want.hasMessage && len(cb.Message.Blocks.BlockSet) == 0 {
				t.Error("payload message has no blocks")
			}
			if tt.want.selected != "" {
				st := cb.BlockActionState
				if st == nil || st.Values["actions"]["silence"].SelectedOption.Value != tt.want.selected {
					t.Errorf("state.values = %+v, want the selected option", st)
				}
				if a.SelectedOption.Text == nil || a.SelectedOption.Text.Text == "" {
					t.Errorf("selected_option has no text: %+v", a.SelectedOption)
				}
			}

			// The trigger_id opens a modal once; the response_url posts
			// into the clicker's view of the channel.
			if _, err := e.api.OpenView(cb.TriggerID, testModal("t", false)); err != nil {
				t.Errorf("views.open with the payload's trigger_id: %v", err)
			}
			resp, err := http.Post(cb.ResponseURL, "application/json", strings.NewReader(`{"text":"done"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("response_url answered %d", resp.StatusCode)
			}
			ephs := e.fake.Ephemerals(testChannel)
			if last := ephs[len(ephs)-1]; last.User != tt.want.user || last.Text != "done" {
				t.Errorf("response_url posted %+v, want an ephemeral for %s", last, tt.want.user)
			}
		})
	}
}

func TestClickErrors(t *testing.T) {
	e := newEnv(t, nil)
	golden := goldenMessage(t)
	ts := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "text": {golden.Text}, "blocks": {string(golden.Blocks)}})
	eph := e.post(t, "chat.postEphemeral", url.Values{"channel": {testChannel}, "user": {alice}, "text": {"only alice"}, "blocks": {string(golden.Blocks)}})
	tests := []struct {
		name   string
		body   any
		status int
	}{
		{"bad JSON", []byte(`{"channel":`), http.StatusBadRequest},
		{"no ts", clickRequest{Channel: testChannel, ActionID: "ack"}, http.StatusBadRequest},
		{"unknown user", clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "unack", User: "U0NOBODY"}, http.StatusBadRequest},
		{"unknown message", clickRequest{Channel: testChannel, TS: "1.000001", BlockID: "actions", ActionID: "unack"}, http.StatusNotFound},
		{"unknown action", clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "nope"}, http.StatusNotFound},
		{"wrong block", clickRequest{Channel: testChannel, TS: ts, BlockID: "status", ActionID: "unack"}, http.StatusNotFound},
		{"unknown option", clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "silence", Value: "99y"}, http.StatusBadRequest},
		{"someone else's ephemeral", clickRequest{Channel: testChannel, TS: eph, BlockID: "actions", ActionID: "unack", User: bob, Ephemeral: true}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res apiError
			if status := e.call(t, "/preview/api/click", tt.body, &res); status != tt.status {
				t.Errorf("status = %d (%s), want %d", status, res.Error, tt.status)
			}
			if res.Error == "" {
				t.Error("answer has no error message")
			}
		})
	}
	if n := len(e.inter.received()); n != 0 {
		t.Errorf("interactions received %d payloads for invalid clicks", n)
	}
}

// TestClickPassesStatusOn shows amslack's answer to the page as it came.
func TestClickPassesStatusOn(t *testing.T) {
	e := newEnv(t, nil)
	e.inter.react = func(slack.InteractionCallback) (int, string) { return http.StatusServiceUnavailable, "overloaded" }
	golden := goldenMessage(t)
	ts := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "text": {golden.Text}, "blocks": {string(golden.Blocks)}})
	var res apiResult
	status := e.call(t, "/preview/api/click", clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "unack"}, &res)
	if diff := cmp.Diff(res, apiResult{Status: http.StatusServiceUnavailable, Body: "overloaded"}); status != http.StatusServiceUnavailable || diff != "" {
		t.Errorf("status %d, answer (-got +want):\n%s", status, diff)
	}
}

// TestClickPayloadShape compares the payload's fields with a block_actions
// payload captured from Slack.
func TestClickPayloadShape(t *testing.T) {
	e := newEnv(t, nil)
	golden := goldenMessage(t)
	ts := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "text": {golden.Text}, "blocks": {string(golden.Blocks)}})
	for _, tt := range []struct {
		fixture string
		req     clickRequest
	}{
		{"block-actions-button.json", clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "unack"}},
		{"block-actions-select.json", clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "silence", Value: "1h"}},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			if status := e.call(t, "/preview/api/click", tt.req, nil); status != http.StatusOK {
				t.Fatalf("click = %d", status)
			}
			got := e.inter.received()
			var ours, slacks map[string]any
			if err := json.Unmarshal(got[len(got)-1].raw, &ours); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(readFile(t, tt.fixture), &slacks); err != nil {
				t.Fatal(err)
			}
			// The verification token is deprecated; amslack does not read it.
			delete(slacks, "token")
			for _, path := range [][]string{nil, {"user"}, {"container"}, {"channel"}, {"team"}, {"state"}} {
				if diff := cmp.Diff(keysAt(ours, path), keysAt(slacks, path)); diff != "" {
					t.Errorf("keys of %v (-ours +Slack's):\n%s", path, diff)
				}
			}
			oursAction := ours["actions"].([]any)[0].(map[string]any)
			slacksAction := slacks["actions"].([]any)[0].(map[string]any)
			if diff := cmp.Diff(slices.Sorted(maps.Keys(oursAction)), slices.Sorted(maps.Keys(slacksAction))); diff != "" {
				t.Errorf("keys of the action (-ours +Slack's):\n%s", diff)
			}
		})
	}
}

func keysAt(m map[string]any, path []string) []string {
	for _, p := range path {
		m, _ = m[p].(map[string]any)
	}
	return slices.Sorted(maps.Keys(m))
}

func TestSign(t *testing.T) {
	var v struct {
		Secret    string `json:"signing_secret"`
		Timestamp string `json:"timestamp"`
		Body      string `json:"body"`
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal(readFile(t, "signing-vector.json"), &v); err != nil {
		t.Fatal(err)
	}
	if got := sign(v.Secret, v.Timestamp, []byte(v.Body)); got != v.Signature {
		t.Errorf("sign = %s, want Slack's %s", got, v.Signature)
	}
}

// testModal is a modal like amslack's custom silence dialog.
func testModal(meta string, notify bool) slack.ModalViewRequest {
	plain := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	duration := slack.NewPlainTextInputBlockElement(plain("2h, 1d, 90m"), "duration").WithInitialValue("2h")
	comment := slack.NewPlainTextInputBlockElement(plain("Why?"), "comment")
	comment.Multiline = true
	choice := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Pick"), "scope",
		slack.NewOptionBlockObject("group", plain("This group"), nil),
		slack.NewOptionBlockObject("all", plain("Everything"), nil))
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: "amslack_silence", Title: plain("Silence alerts"),
		Submit: plain("Silence"), Close: plain("Cancel"), PrivateMetadata: meta, NotifyOnClose: notify,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("duration", plain("Duration"), plain("Up to 30d"), duration),
			slack.NewInputBlock("comment", plain("Comment"), nil, comment).WithOptional(true),
			slack.NewInputBlock("scope", plain("Scope"), nil, choice).WithOptional(true),
		}},
	}
}

// customBlocks is a message whose select opens a modal, as amslack's
// "Custom…" silence option does.
const customBlocks = `[{"type":"actions","block_id":"actions","elements":[{"type":"static_select","action_id":"silence",` +
	`"placeholder":{"type":"plain_text","text":"Silence for…"},"options":[` +
	`{"text":{"type":"plain_text","text":"1 hour"},"value":"1h"},` +
	`{"text":{"type":"plain_text","text":"Custom…"},"value":"custom"},` +
	`{"text":{"type":"plain_text","text":"Custom, told on close"},"value":"custom-notify"}]}]}]`

// opensModals makes the fake interaction handler open a modal for the
// custom options, and check the duration of submitted modals.
func opensModals(t *testing.T, e *env) {
	e.inter.react = func(cb slack.InteractionCallback) (int, string) {
		switch cb.Type {
		case slack.InteractionTypeBlockActions:
			a := cb.ActionCallback.BlockActions[0]
			if v := a.SelectedOption.Value; strings.HasPrefix(v, "custom") {
				if _, err := e.api.OpenView(cb.TriggerID, testModal(cb.Container.MessageTs, v == "custom-notify")); err != nil {
					t.Errorf("views.open: %v", err)
				}
			}
		case slack.InteractionTypeViewSubmission:
			if cb.View.State.Values["duration"]["duration"].Value == "eventually" {
				return http.StatusOK, `{"response_action":"errors","errors":{"duration":"not a duration"}}`
			}
		}
		return http.StatusOK, ""
	}
}

// openCustomSilence posts a message with customBlocks and picks its
// Custom… option as alice. It returns the message's ts and the modal that
// opens, the one she then sees.
func (e *env) openCustomSilence(t testing.TB) (string, view) {
	t.Helper()
	ts := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "text": {"alert"}, "blocks": {customBlocks}})
	if status := e.call(t, "/preview/api/click", clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "silence", Value: "custom", User: alice}, nil); status != http.StatusOK {
		t.Fatalf("click = %d", status)
	}
	views := e.state(t, alice).Views
	if len(views) != 1 {
		t.Fatalf("alice sees %d modals, want 1", len(views))
	}
	return ts, views[0]
}

func TestViewSubmit(t *testing.T) {
	e := newEnv(t, nil)
	opensModals(t, e)
	ts, opened := e.openCustomSilence(t)
	id := opened.ID
	if n := len(e.state(t, bob).Views); n != 0 {
		t.Errorf("bob sees %d modals of alice's", n)
	}

	values := map[string]map[string]string{
		"duration": {"duration": "eventually"},
		"comment":  {"comment": ""},
		"scope":    {"scope": "all"},
		"unknown":  {"x": "ignored"},
	}
	var res apiResult
	if status := e.call(t, "/preview/api/view-submit", viewRequest{ViewID: id, User: bob, Values: values}, &res); status != http.StatusForbidden {
		t.Errorf("bob submitting alice's modal = %d, want 403", status)
	}
	status := e.call(t, "/preview/api/view-submit", viewRequest{ViewID: id, User: alice, Values: values}, &res)
	if diff := cmp.Diff(res.Errors, map[string]string{"duration": "not a duration"}); status != http.StatusOK || diff != "" {
		t.Errorf("submit with a bad duration = %d, errors (-got +want):\n%s", status, diff)
	}
	if n := len(e.state(t, alice).Views); n != 1 {
		t.Errorf("after field errors alice sees %d modals, want 1", n)
	}

	values["duration"]["duration"] = "90m"
	res = apiResult{}
	if status := e.call(t, "/preview/api/view-submit", viewRequest{ViewID: id, User: alice, Values: values}, &res); status != http.StatusOK || res.Errors != nil {
		t.Fatalf("submit = %d %+v", status, res)
	}
	if n := len(e.state(t, alice).Views); n != 0 {
		t.Errorf("after submitting alice sees %d modals, want 0", n)
	}
	got := e.inter.received()
	in := got[len(got)-1]
	if in.verifyErr != nil {
		t.Errorf("signature does not verify: %v", in.verifyErr)
	}
	cb := in.cb
	if cb.Type != slack.InteractionTypeViewSubmission || cb.User.ID != alice || cb.View.ID != id ||
		cb.View.CallbackID != "amslack_silence" || cb.View.PrivateMetadata != ts || cb.Team.ID != slackfake.TeamID {
		t.Errorf("payload = type %q user %q view %q callback %q metadata %q", cb.Type, cb.User.ID, cb.View.ID, cb.View.CallbackID, cb.View.PrivateMetadata)
	}
	st := cb.View.State.Values
	gotValues := map[string]string{
		"duration": st["duration"]["duration"].Value,
		"comment":  st["comment"]["comment"].Value,
		"scope":    st["scope"]["scope"].SelectedOption.Value,
	}
	if diff := cmp.Diff(gotValues, map[string]string{"duration": "90m", "comment": "", "scope": "all"}); diff != "" {
		t.Errorf("state.values (-got +want):\n%s", diff)
	}
	if _, ok := st["unknown"]; ok {
		t.Error("state.values has a block the modal lacks")
	}
	if typ := st["duration"]["duration"].Type; typ != "plain_text_input" {
		t.Errorf("duration type = %q", typ)
	}

	if status := e.call(t, "/preview/api/view-submit", viewRequest{ViewID: id, User: alice}, nil); status != http.StatusNotFound {
		t.Errorf("submitting a closed modal = %d, want 404", status)
	}
}

func TestViewClose(t *testing.T) {
	e := newEnv(t, nil)
	opensModals(t, e)
	ts := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "text": {"alert"}, "blocks": {customBlocks}})
	for _, tt := range []struct {
		value  string
		notify bool
	}{{"custom", false}, {"custom-notify", true}} {
		t.Run(tt.value, func(t *testing.T) {
			if status := e.call(t, "/preview/api/click", clickRequest{Channel: testChannel, TS: ts, BlockID: "actions", ActionID: "silence", Value: tt.value, User: bob}, nil); status != http.StatusOK {
				t.Fatalf("click = %d", status)
			}
			views := e.state(t, bob).Views
			if len(views) != 1 {
				t.Fatalf("bob sees %d modals, want 1", len(views))
			}
			before := len(e.inter.received())
			if status := e.call(t, "/preview/api/view-close", viewRequest{ViewID: views[0].ID, User: bob}, nil); status != http.StatusOK {
				t.Fatalf("close = %d", status)
			}
			if n := len(e.state(t, bob).Views); n != 0 {
				t.Errorf("after closing bob sees %d modals", n)
			}
			got := e.inter.received()[before:]
			if !tt.notify {
				if len(got) != 0 {
					t.Errorf("closing sent %d payloads without notify_on_close", len(got))
				}
				return
			}
			if len(got) != 1 || got[0].cb.Type != slack.InteractionTypeViewClosed || got[0].cb.View.ID != views[0].ID || got[0].verifyErr != nil {
				t.Errorf("closing sent %+v, want one signed view_closed", got)
			}
		})
	}
}

// TestViewOfUnknownOpener shows a modal opened with a trigger_id that the
// preview did not issue to every user.
func TestViewOfUnknownOpener(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.api.OpenView("12345.98765.abcdef", testModal("", false)); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{alice, bob} {
		if n := len(e.state(t, u).Views); n != 1 {
			t.Errorf("%s sees %d modals, want 1", u, n)
		}
	}
}

func TestSendExample(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	e := newEnv(t, func() time.Time { return now })
	tests := []struct {
		name   string
		status int
		// times are the alerts' startsAt and endsAt after the send.
		times [][2]string
	}{
		{"v035-firing", http.StatusOK, [][2]string{
			{"2030-01-02T03:04:04.987575881Z", "0001-01-01T00:00:00Z"},
			{"2030-01-02T03:04:05Z", "0001-01-01T00:00:00Z"},
		}},
		{"v035-resolved", http.StatusServiceUnavailable, [][2]string{
			{"2030-01-02T03:03:43.058774892Z", "2030-01-02T03:04:05Z"},
			{"2030-01-02T03:03:43.071199011Z", "2030-01-02T03:04:05Z"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.hook.status = tt.status
			var res apiResult
			if status := e.call(t, "/preview/api/send-example", exampleRequest{Name: tt.name}, &res); status != tt.status || res.Status != tt.status || res.Body != "ok" {
				t.Errorf("send = %d %+v, want %d", status, res, tt.status)
			}
			e.hook.mu.Lock()
			body, header := e.hook.bodies[len(e.hook.bodies)-1], e.hook.headers[len(e.hook.headers)-1]
			e.hook.mu.Unlock()
			if ct := header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var got, orig map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(readFile(t, tt.name+".json"), &orig); err != nil {
				t.Fatal(err)
			}
			var times [][2]string
			for i, a := range got["alerts"].([]any) {
				al := a.(map[string]any)
				times = append(times, [2]string{al["startsAt"].(string), al["endsAt"].(string)})
				o := orig["alerts"].([]any)[i].(map[string]any)
				o["startsAt"], o["endsAt"] = al["startsAt"], al["endsAt"]
			}
			if diff := cmp.Diff(times, tt.times); diff != "" {
				t.Errorf("times (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(got, orig); diff != "" {
				t.Errorf("fields other than times changed (-got +want):\n%s", diff)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		if status := e.call(t, "/preview/api/send-example", exampleRequest{Name: "nope"}, nil); status != http.StatusNotFound {
			t.Errorf("status = %d, want 404", status)
		}
	})
}

func TestFreshen(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"not JSON", `{"alerts":`, "", true},
		{"not an object", `[1,2]`, "", true},
		{"null", `null`, "", true},
		{"no alerts", `{"status":"firing"}`, `{"status":"firing"}`, false},
		{"no times", `{"alerts":[{"startsAt":"soon"}]}`, `{"alerts":[{"startsAt":"soon"}]}`, false},
		{
			"numbers kept",
			`{"truncatedAlerts":12345678901234567890,"alerts":[{"startsAt":"2020-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z"}]}`,
			`{"alerts":[{"endsAt":"0001-01-01T00:00:00Z","startsAt":"2030-01-02T03:04:05Z"}],"truncatedAlerts":12345678901234567890}`,
			false,
		},
		{
			"offsets kept",
			`{"alerts":[{"startsAt":"2020-01-01T00:00:00Z","endsAt":"2020-01-01T00:10:00Z"},{"startsAt":"2020-01-01T00:05:00+01:00"}]}`,
			`{"alerts":[{"endsAt":"2030-01-02T03:04:05Z","startsAt":"2030-01-02T02:54:05Z"},{"startsAt":"2030-01-02T01:59:05Z"}]}`,
			false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := freshen([]byte(tt.in), now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(string(got), tt.want); diff != "" {
				t.Errorf("freshen (-got +want):\n%s", diff)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	e := newEnv(t, nil)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL+"/preview/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	next := func() string {
		t.Helper()
		var lines []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return "error: " + err.Error()
			}
			if line == "\n" {
				return strings.Join(lines, "|")
			}
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
	}
	if got := next(); got != "event: tick|data: hello" {
		t.Errorf("first event = %q", got)
	}
	ts := e.post(t, "chat.postMessage", url.Values{"channel": {testChannel}, "text": {"hi"}})
	if got := next(); got != "event: tick|data: post" {
		t.Errorf("event after a post = %q", got)
	}
	e.post(t, "chat.update", url.Values{"channel": {testChannel}, "ts": {ts}, "text": {"edited"}})
	if got := next(); got != "event: tick|data: update" {
		t.Errorf("event after an update = %q", got)
	}
	e.h.Close()
	if got := next(); got != "error: EOF" {
		t.Errorf("after Close the stream gave %q, want its end", got)
	}
}
