package interact

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
	"github.com/amslack/amslack/render"
)

// previewEnv is a Handler whose Slack is the fake Slack, reached through
// one slackapi.Client as amslack runs it, so that views.open,
// views.update and users.info are Slack's calls with Slack's checks.
type previewEnv struct {
	*env
	fake *slackfake.Server
}

// bobTZ is the time zone users.info gives for bob, who clicks.
const bobTZ = "Europe/Berlin"

func newPreviewEnv(t *testing.T, o Options) *previewEnv {
	t.Helper()
	fake := slackfake.New(slackfake.SlackRateLimits())
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	api := slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL(srv.URL)))
	o.Slack = slackapi.New(slackapi.Options{API: api})
	fake.SetUser(slackfake.User{ID: "U0002BOB", Name: "bob", TZ: bobTZ})
	return &previewEnv{env: newEnv(t, o), fake: fake}
}

// open clicks action with value on the group's message as bob, with a
// trigger_id the fake issued, and returns the view it opened.
func (p *previewEnv) open(t *testing.T, action, value string) slackfake.View {
	t.Helper()
	var pl map[string]any
	if err := json.Unmarshal(payload(t, clickSpec{action: action, value: value, user: "U0002BOB", name: "bob", responseURL: p.sink.url("open")}), &pl); err != nil {
		t.Fatal(err)
	}
	pl["trigger_id"] = p.fake.NewTriggerID()
	return p.postOpening(t, pl)
}

// postOpening posts a payload that opens a view and returns the view.
func (p *previewEnv) postOpening(t *testing.T, pl map[string]any) slackfake.View {
	t.Helper()
	n := len(p.fake.Views())
	if code, _ := p.postPayload(t, pl); code != http.StatusOK {
		t.Fatalf("click answered %d", code)
	}
	return p.waitView(t, n)
}

// waitView waits for the fake to hold more than n views, and returns the
// newest.
func (p *previewEnv) waitView(t *testing.T, n int) slackfake.View {
	t.Helper()
	var vs []slackfake.View
	waitFor(t, func() bool { vs = p.fake.Views(); return len(vs) > n })
	return vs[len(vs)-1]
}

// postPayload signs and posts an interaction payload, and returns the
// answer's status and body.
func (p *previewEnv) postPayload(t *testing.T, pl any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(pl)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, signedRequest(t, formBody(b)))
	return w.Code, w.Body.Bytes()
}

// inputs are what the modal's inputs hold, by block id; the confirm
// checkbox is ticked when PreviewConfirmID is set.
type inputs map[string]string

// viewPayload is the payload of an interaction inside the view v, with the
// inputs in, as Slack sends it.
func viewPayload(v slackfake.View, typ string, in inputs) map[string]any {
	values := map[string]any{}
	for id, val := range in {
		if id == render.PreviewConfirmID {
			values[id] = map[string]any{id: map[string]any{"type": "checkboxes", "selected_options": []any{
				map[string]any{"value": val, "text": map[string]any{"type": "plain_text", "text": "Also silence"}},
			}}}
			continue
		}
		values[id] = map[string]any{id: map[string]any{"type": "plain_text_input", "value": val}}
	}
	return map[string]any{
		"type":       typ,
		"team":       map[string]any{"id": testTeam, "domain": "example"},
		"user":       map[string]any{"id": "U0002BOB", "username": "bob", "name": "bob", "team_id": testTeam},
		"api_app_id": "A0001APP",
		"view": map[string]any{
			"id": v.ID, "hash": v.Hash, "type": "modal", "callback_id": v.CallbackID,
			"private_metadata": v.PrivateMetadata, "state": map[string]any{"values": values},
		},
	}
}

// edit sends block_actions from inside v, as Enter in the input actionID
// or a press of the Refresh preview button sends them, and returns the view
// once amslack updated it.
func (p *previewEnv) edit(t *testing.T, v slackfake.View, in inputs, actionID string) slackfake.View {
	t.Helper()
	pl := viewPayload(v, "block_actions", in)
	pl["container"] = map[string]any{"type": "view", "view_id": v.ID}
	pl["trigger_id"] = p.fake.NewTriggerID()
	action := map[string]any{"action_id": actionID, "block_id": actionID, "type": "plain_text_input", "value": in[actionID],
		"action_ts": strconv.FormatInt(time.Now().UnixMicro(), 10)}
	if actionID == render.PreviewRefreshID {
		action["type"], action["block_id"], action["value"] = "button", "preview_actions", "refresh"
	}
	pl["actions"] = []any{action}
	if code, body := p.postPayload(t, pl); code != http.StatusOK || len(body) != 0 {
		t.Fatalf("block_actions answered %d %q, want an empty 200", code, body)
	}
	var cur slackfake.View
	waitFor(t, func() bool { cur, _ = p.fake.View(v.ID); return cur.Updates > v.Updates })
	return cur
}

// submit submits v with the inputs in and returns the field errors of the
// answer, nil for an empty 200.
func (p *previewEnv) submit(t *testing.T, v slackfake.View, in inputs) map[string]string {
	t.Helper()
	code, body := p.postPayload(t, viewPayload(v, "view_submission", in))
	if code != http.StatusOK {
		t.Fatalf("view_submission answered %d", code)
	}
	if len(body) == 0 {
		return nil
	}
	var r slack.ViewSubmissionResponse
	if err := json.Unmarshal(body, &r); err != nil || r.ResponseAction != slack.RAErrors {
		t.Fatalf("view_submission answer %q: %v", body, err)
	}
	return r.Errors
}

// viewBlocks returns the texts of the view's blocks by block id: an
// input's initial value, a section's text, a context's texts.
func viewBlocks(t *testing.T, v slackfake.View) map[string]string {
	t.Helper()
	var doc struct {
		Blocks []struct {
			BlockID string `json:"block_id"`
			Type    string `json:"type"`
			Text    struct {
				Text string `json:"text"`
			} `json:"text"`
			Elements []map[string]any `json:"elements"`
			Element  struct {
				InitialValue string `json:"initial_value"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(v.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, b := range doc.Blocks {
		switch b.Type {
		case "input":
			out[b.BlockID] = b.Element.InitialValue
		case "section":
			out[b.BlockID] = b.Text.Text
		case "context":
			var texts []string
			for _, e := range b.Elements {
				if text, ok := e["text"].(string); ok {
					texts = append(texts, text)
				}
			}
			out[b.BlockID] = strings.Join(texts, " ")
		}
	}
	return out
}

// previewCount reads the count of matched alerts that the view shows.
func previewCount(t *testing.T, v slackfake.View) int {
	t.Helper()
	s := viewBlocks(t, v)["preview_count"]
	if strings.HasPrefix(s, "*Matches no alert now") {
		return 0
	}
	f := strings.Fields(strings.TrimPrefix(s, "*Matches "))
	if len(f) == 0 {
		t.Fatalf("count block = %q", s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		t.Fatalf("count block = %q", s)
	}
	return n
}

// commandAs serves a signed /amslack command with text from user, whose
// response_url is the sink's and whose trigger_id the fake issued.
func (p *previewEnv) commandAs(t *testing.T, user, text string) CommandReply {
	t.Helper()
	form, err := url.ParseQuery(string(commandBody(t, text)))
	if err != nil {
		t.Fatal(err)
	}
	form.Set("user_id", user)
	form.Set("response_url", p.sink.url("command"))
	form.Set("trigger_id", p.fake.NewTriggerID())
	w := httptest.NewRecorder()
	p.h.ServeCommands(w, signedPost(t, "/slack/commands", []byte(form.Encode()), time.Now(), testSecret))
	var reply CommandReply
	if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil || w.Code != http.StatusOK {
		t.Fatalf("ServeCommands() = %d %q: %v", w.Code, w.Body.String(), err)
	}
	return reply
}

// amclientAlert is an active alert as Alertmanager lists it.
func amclientAlert(ls map[string]string, fp string) amclient.Alert {
	return amclient.Alert{Labels: ls, Fingerprint: fp, Status: amclient.AlertStatus{State: "active"}}
}
