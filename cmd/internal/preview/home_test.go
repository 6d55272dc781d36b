package preview

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// eventSink stands in for amslack's Events API handler: it checks the
// signature and parses the body with slack-go, as amslack does.
type eventSink struct {
	// mu guards got and bad.
	mu  sync.Mutex
	got []slackevents.EventsAPIEvent
	bad int
}

func (s *eventSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sv, err := slack.NewSecretsVerifier(r.Header, testSecret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	var ev slackevents.EventsAPIEvent
	if err == nil && r.Header.Get("Content-Type") == "application/json" {
		ev, err = slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	s.got = append(s.got, ev)
}

func (s *eventSink) received() ([]slackevents.EventsAPIEvent, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackevents.EventsAPIEvent(nil), s.got...), s.bad
}

// homeView is a Home tab with an Expire button, as amslack publishes.
const homeView = `{"type":"home","blocks":[{"type":"header","block_id":"home_firing","text":{"type":"plain_text","text":"Firing (1)"}},` +
	`{"type":"section","block_id":"home_own_0","text":{"type":"mrkdwn","text":"Your silence"},` +
	`"accessory":{"type":"button","action_id":"silence_expire","text":{"type":"plain_text","text":"Expire"},"value":"4a7c1e","style":"danger"}}]}`

func TestOpenHome(t *testing.T) {
	sink := &eventSink{}
	e := newEnvWith(t, nil, func(o *Options) { o.Events = sink })

	if st := e.state(t, alice); !st.HomeEnabled || st.Home != nil {
		t.Fatalf("before any publish: home_enabled %v, home %+v; want enabled and none", st.HomeEnabled, st.Home)
	}
	open := func(user string) {
		t.Helper()
		var res apiResult
		if status := e.call(t, "/preview/api/home-open", homeRequest{User: user}, &res); status != http.StatusOK || res.Status != http.StatusOK {
			t.Fatalf("home-open = %d %+v", status, res)
		}
	}
	open(alice)
	e.post(t, "views.publish", url.Values{"user_id": {alice}, "view": {homeView}})
	open(alice)

	got, bad := sink.received()
	if bad != 0 || len(got) != 2 {
		t.Fatalf("events handler got %d events and %d bad requests, want 2 and none", len(got), bad)
	}
	var ids []string
	for i, ev := range got {
		cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
		inner, ok2 := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
		if ev.Type != slackevents.CallbackEvent || !ok || !ok2 {
			t.Fatalf("event %d = %s %T, want an app_home_opened callback", i, ev.Type, ev.InnerEvent.Data)
		}
		if inner.User != alice || inner.Tab != "home" || cb.TeamID != slackfake.TeamID || cb.EventID == "" {
			t.Errorf("event %d: user %q tab %q team %q id %q", i, inner.User, inner.Tab, cb.TeamID, cb.EventID)
		}
		ids = append(ids, cb.EventID)
		// The first opening has no view yet; the second carries the
		// one published, as Slack sends it.
		viewType := ""
		if inner.View != nil {
			viewType = string(inner.View.Type)
		}
		if want := map[int]string{0: "", 1: "home"}[i]; viewType != want {
			t.Errorf("event %d view type = %q, want %q", i, viewType, want)
		}
	}
	if ids[0] == ids[1] {
		t.Errorf("two openings share event_id %s; amslack drops the second", ids[0])
	}

	st := e.state(t, alice)
	if st.Home == nil || !strings.HasPrefix(st.Home.ID, "VH") || !strings.Contains(string(st.Home.View), "silence_expire") {
		t.Errorf("alice's home = %+v, want the published view", st.Home)
	}
	if len(st.Views) != 0 {
		t.Errorf("the Home tab shows as %d modals", len(st.Views))
	}
	if st := e.state(t, bob); st.Home != nil {
		t.Errorf("bob sees alice's Home %s", st.Home.ID)
	}
	if status := e.call(t, "/preview/api/home-open", homeRequest{User: "U0NOBODY"}, nil); status != http.StatusBadRequest {
		t.Errorf("home-open for an unknown user = %d, want 400", status)
	}
}

func TestOpenHomeWithoutEvents(t *testing.T) {
	e := newEnv(t, nil)
	var res apiError
	if status := e.call(t, "/preview/api/home-open", homeRequest{User: alice}, &res); status != http.StatusInternalServerError || !strings.Contains(res.Error, "event handler") {
		t.Errorf("home-open without an events handler = %d %+v, want 500 naming the events handler", status, res)
	}
	if e.state(t, alice).HomeEnabled {
		t.Error("home_enabled without an events handler")
	}
}

// TestViewActionInHome clicks the Expire button of a user's Home: the
// block_actions payload names the Home view, has no message and no
// response_url, and the button's own value.
func TestViewActionInHome(t *testing.T) {
	e := newEnv(t, nil)
	e.post(t, "views.publish", url.Values{"user_id": {alice}, "view": {homeView}})
	id := e.state(t, alice).Home.ID

	click := viewActionRequest{ViewID: id, User: alice, BlockID: "home_own_0", ActionID: "silence_expire", Value: "forged"}
	if status := e.call(t, "/preview/api/view-action", click, nil); status != http.StatusOK {
		t.Fatalf("view-action = %d", status)
	}
	got := e.inter.received()
	if len(got) != 1 || got[0].verifyErr != nil {
		t.Fatalf("interactions = %+v, want one signed payload", got)
	}
	cb := got[0].cb
	a := cb.ActionCallback.BlockActions[0]
	if diff := cmp.Diff(
		[]string{string(cb.Type), cb.User.ID, cb.Container.Type, cb.Container.ViewID, cb.View.ID, string(cb.View.Type), cb.ResponseURL, cb.Message.Timestamp, a.ActionID, a.Value},
		[]string{"block_actions", alice, "view", id, id, "home", "", "", "silence_expire", "4a7c1e"},
	); diff != "" {
		t.Errorf("payload (-got +want):\n%s", diff)
	}

	bobClick := click
	bobClick.User = bob
	if status := e.call(t, "/preview/api/view-action", bobClick, nil); status != http.StatusNotFound {
		t.Errorf("bob clicking in alice's Home = %d, want 404", status)
	}
	if status := e.call(t, "/preview/api/view-submit", viewRequest{ViewID: id, User: alice}, nil); status != http.StatusNotFound {
		t.Errorf("submitting a Home tab = %d, want 404", status)
	}
	if n := len(e.inter.received()); n != 1 {
		t.Errorf("interactions = %d, want only alice's click", n)
	}
}

// previewModal is a modal like amslack's silence preview: inputs that send
// their actions on Enter, a Refresh button and a confirming checkbox.
const previewModal = `{"type":"modal","callback_id":"silence_preview","private_metadata":"meta",` +
	`"title":{"type":"plain_text","text":"Silence preview"},"submit":{"type":"plain_text","text":"Silence"},"blocks":[` +
	`{"type":"input","block_id":"preview_matchers","dispatch_action":true,"label":{"type":"plain_text","text":"Matchers"},` +
	`"element":{"type":"plain_text_input","action_id":"preview_matchers","initial_value":"alertname=\"DiskFull\"","dispatch_action_config":{"trigger_actions_on":["on_enter_pressed"]}}},` +
	`{"type":"actions","block_id":"preview_actions","elements":[{"type":"button","action_id":"preview_refresh","value":"refresh","text":{"type":"plain_text","text":"Refresh preview"}}]},` +
	`{"type":"section","block_id":"preview_count","text":{"type":"mrkdwn","text":"*Matches 2 alerts now*"}},` +
	`{"type":"input","block_id":"preview_confirm","optional":true,"label":{"type":"plain_text","text":"Confirm"},` +
	`"element":{"type":"checkboxes","action_id":"preview_confirm","options":[{"value":"confirm","text":{"type":"plain_text","text":"Also silence"}}]}}]}`

// TestViewActionInModal sends Enter in a matchers input and a click on
// Refresh from inside a modal: the payload carries the view with its
// current hash and the state of every input, as amslack's views.update
// needs.
func TestViewActionInModal(t *testing.T) {
	e := newEnv(t, nil)
	e.inter.react = func(cb slack.InteractionCallback) (int, string) {
		if cb.Type == slack.InteractionTypeBlockActions && cb.Container.Type == "message" {
			resp, err := http.PostForm(e.fakeURL+"/api/views.open", url.Values{"token": {"xoxb-test"}, "trigger_id": {cb.TriggerID}, "view": {previewModal}})
			if err != nil {
				t.Errorf("views.open: %v", err)
				return http.StatusOK, ""
			}
			var out struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || !out.OK {
				t.Errorf("views.open: %v %s", err, out.Error)
			}
			resp.Body.Close()
		}
		return http.StatusOK, ""
	}
	_, opened := e.openCustomSilence(t)
	id := opened.ID
	// amslack updates the modal once: the payloads must carry the new hash.
	e.post(t, "views.update", url.Values{"view_id": {id}, "hash": {opened.Hash}, "view": {previewModal}})
	hash := e.state(t, alice).Views[0].Hash
	if hash == opened.Hash {
		t.Fatalf("views.update left the hash %q", hash)
	}

	values := map[string]map[string]string{"preview_matchers": {"preview_matchers": `alertname="DiskFull", instance="db-1"`}}
	checked := map[string]map[string][]string{"preview_confirm": {"preview_confirm": {"confirm", "not-an-option"}}}
	for _, req := range []viewActionRequest{
		{ViewID: id, User: alice, BlockID: "preview_matchers", ActionID: "preview_matchers", Value: values["preview_matchers"]["preview_matchers"], Values: values, Checked: checked},
		{ViewID: id, User: alice, BlockID: "preview_actions", ActionID: "preview_refresh", Values: values},
	} {
		if status := e.call(t, "/preview/api/view-action", req, nil); status != http.StatusOK {
			t.Fatalf("view-action %s = %d", req.ActionID, status)
		}
	}
	got := e.inter.received()[1:]
	if len(got) != 2 {
		t.Fatalf("interactions after the click = %d, want 2", len(got))
	}
	for i, in := range got {
		cb := in.cb
		if in.verifyErr != nil || cb.Type != slack.InteractionTypeBlockActions || cb.Container.Type != "view" || cb.Container.ViewID != id ||
			cb.View.ID != id || cb.View.Hash != hash || cb.View.CallbackID != "silence_preview" || cb.View.PrivateMetadata != "meta" {
			t.Errorf("payload %d: verify %v, type %s, container %+v, view %s hash %q callback %q metadata %q",
				i, in.verifyErr, cb.Type, cb.Container, cb.View.ID, cb.View.Hash, cb.View.CallbackID, cb.View.PrivateMetadata)
		}
		if got := cb.View.State.Values["preview_matchers"]["preview_matchers"].Value; got != `alertname="DiskFull", instance="db-1"` {
			t.Errorf("payload %d: matchers in state = %q", i, got)
		}
	}
	enter := got[0].cb
	if a := enter.ActionCallback.BlockActions[0]; a.Type != "plain_text_input" || a.Value != `alertname="DiskFull", instance="db-1"` {
		t.Errorf("Enter action = %s %q", a.Type, a.Value)
	}
	opts := enter.View.State.Values["preview_confirm"]["preview_confirm"].SelectedOptions
	if len(opts) != 1 || opts[0].Value != "confirm" {
		t.Errorf("ticked options = %+v, want confirm alone", opts)
	}
	if refresh := got[1].cb.ActionCallback.BlockActions[0]; refresh.Type != "button" || refresh.Value != "refresh" {
		t.Errorf("Refresh action = %s %q", refresh.Type, refresh.Value)
	}
	if opts := got[1].cb.View.State.Values["preview_confirm"]["preview_confirm"].SelectedOptions; len(opts) != 0 {
		t.Errorf("unticked checkbox sent %+v", opts)
	}

	for _, tt := range []struct {
		name string
		req  viewActionRequest
		want int
	}{
		{"bob in alice's modal", viewActionRequest{ViewID: id, User: bob, BlockID: "preview_actions", ActionID: "preview_refresh"}, http.StatusForbidden},
		{"no such element", viewActionRequest{ViewID: id, User: alice, BlockID: "preview_actions", ActionID: "nothing"}, http.StatusNotFound},
		{"no such view", viewActionRequest{ViewID: "V0NONE", User: alice, BlockID: "preview_actions", ActionID: "preview_refresh"}, http.StatusNotFound},
		{"no view id", viewActionRequest{User: alice, ActionID: "preview_refresh"}, http.StatusBadRequest},
		{"checkboxes send no actions here", viewActionRequest{ViewID: id, User: alice, BlockID: "preview_confirm", ActionID: "preview_confirm"}, http.StatusBadRequest},
	} {
		if status := e.call(t, "/preview/api/view-action", tt.req, nil); status != tt.want {
			t.Errorf("%s: view-action = %d, want %d", tt.name, status, tt.want)
		}
	}
	if n := len(e.inter.received()); n != 3 {
		t.Errorf("refused actions reached amslack: %d interactions, want 3", n)
	}
}
