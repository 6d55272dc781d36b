package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
	"github.com/amslack/amslack/render"
)

// viewPost sends an interaction from inside the modal v as user, with the
// inputs values by block id (PreviewConfirmID ticks the checkbox), signed
// as Slack signs it, and returns amslack's answer. typ is block_actions,
// with actionID the input or button acted on, or view_submission.
func (c *clicker) viewPost(v slackfake.View, user slackUser, typ, actionID string, values map[string]string) (int, string) {
	c.t.Helper()
	state := map[string]any{}
	for id, val := range values {
		if id == render.PreviewConfirmID {
			state[id] = map[string]any{id: map[string]any{"type": "checkboxes", "selected_options": []any{
				map[string]any{"value": val, "text": map[string]any{"type": "plain_text", "text": "Also silence"}},
			}}}
			continue
		}
		state[id] = map[string]any{id: map[string]any{"type": "plain_text_input", "value": val}}
	}
	payload := map[string]any{
		"type":       typ,
		"team":       map[string]any{"id": slackfake.TeamID, "domain": "example"},
		"user":       map[string]any{"id": user.ID, "username": user.Name, "name": user.Name, "team_id": slackfake.TeamID},
		"api_app_id": "A0AMSLACK1",
		"view": map[string]any{
			"id": v.ID, "hash": v.Hash, "type": "modal", "callback_id": v.CallbackID,
			"private_metadata": v.PrivateMetadata, "state": map[string]any{"values": state},
		},
	}
	if typ == "block_actions" {
		payload["container"] = map[string]any{"type": "view", "view_id": v.ID}
		payload["trigger_id"] = c.fake.NewTriggerID()
		action := map[string]any{"type": "plain_text_input", "action_id": actionID, "block_id": actionID, "value": values[actionID],
			"action_ts": strconv.FormatInt(time.Now().UnixMicro(), 10)}
		if actionID == render.PreviewRefreshID {
			action["type"], action["block_id"], action["value"] = "button", "preview_actions", "refresh"
		}
		payload["actions"] = []any{action}
	}
	return c.post(payload)
}

// viewSection returns the text of the section of v with the block id.
func viewSection(t testing.TB, v slackfake.View, blockID string) string {
	t.Helper()
	var doc struct {
		Blocks []struct {
			BlockID string `json:"block_id"`
			Text    struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(v.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, b := range doc.Blocks {
		if b.BlockID == blockID {
			return b.Text.Text
		}
	}
	return ""
}

// TestSilencePreviewEndToEnd runs a real Alertmanager, amslack and the fake
// Slack. A click on Custom silence… opens the preview; widening the
// matchers refreshes it through views.update with a warning, and the
// submission is refused until confirmed; narrowing them to one alert and
// submitting creates a silence that Alertmanager then applies to that
// alert alone, and the message shows it. The Slack calls the flow makes
// are counted.
func TestSilencePreviewEndToEnd(t *testing.T) {
	amtest.Require(t)
	fake, slackURL := fakeSlack(t, slackfake.SlackRateLimits())
	fake.SetUser(slackfake.User{ID: alice.ID, Name: alice.Name, TZ: "America/New_York"})
	dir := t.TempDir()
	addr := freeAddr(t)
	am := amtest.StartConfig(t, amtest.Config{
		WebhookURL: "http://" + addr + "/webhook",
		Receiver:   "team-db",
		GroupBy:    []string{"alertname", "cluster"},
	})
	cfg := filepath.Join(dir, "amslack.yml")
	writeFile(t, cfg, fmt.Sprintf(`
slack: {api_url: %s/api/, bot_token: xoxb-e2e, signing_secret: %s}
alertmanager: {url: %s}
routes:
  - name: default
    channel: %s
    silence_durations: [1h, 4h]
    business_hours: {time_zone: Europe/Berlin, start: "09:00", end: "18:00", days: [mon, tue, wed, thu, fri]}
`, slackURL, signingSecret, am.URL, testChannel))
	p := startAmslackFile(t, cfg, filepath.Join(dir, "data"), addr)
	c := &clicker{t: t, fake: fake, slackURL: slackURL, amslack: p.URL}

	db1 := map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-1", "severity": "critical"}
	db2 := map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-2", "severity": "critical"}
	staging := map[string]string{"alertname": "DiskFull", "cluster": "staging", "instance": "db-9", "severity": "warning"}
	am.PostAlerts(t, amtest.Alert{Labels: db1}, amtest.Alert{Labels: db2}, amtest.Alert{Labels: staging})
	var msg slackfake.Message
	waitFor(t, fake, 30*time.Second, "the prod group's message with both alerts", func() bool {
		for _, m := range fake.Messages(testChannel) {
			if strings.Contains(allText(t, m), "db-2") && strings.Contains(allText(t, m), "db-1") {
				msg = m
				return true
			}
		}
		return false
	})
	current := func() slackfake.Message { m, _ := fake.Message(testChannel, msg.TS); return m }
	var selectValues []string
	for _, b := range blocksOf(t, msg) {
		for _, e := range b.Elements {
			if e.ActionID == interact.ActionSilence {
				for _, o := range e.Options {
					selectValues = append(selectValues, o.Value)
				}
			}
		}
	}
	if !slices.Contains(selectValues, interact.UntilBusiness) {
		t.Errorf("the silence select offers %v, want %q on a route with business hours", selectValues, interact.UntilBusiness)
	}
	before := slackCalls(fake)

	// Open the preview.
	if code := c.click(msg, alice, interact.ActionSilenceCustom, ""); code != http.StatusOK {
		t.Fatalf("click answered %d", code)
	}
	var v slackfake.View
	waitFor(t, fake, 20*time.Second, "the silence preview", func() bool {
		vs := fake.Views()
		if len(vs) > 0 {
			v = vs[0]
		}
		return len(vs) > 0
	})
	if v.CallbackID != render.PreviewViewID || !strings.HasPrefix(viewSection(t, v, "preview_count"), "*Matches 2 alerts now*") {
		t.Fatalf("opened %s: %s", v.CallbackID, v.Raw)
	}
	if ends := viewSection(t, v, "preview_ends"); !strings.Contains(ends, "America/New_York (your time)") {
		t.Errorf("end = %q, want it on alice's clock", ends)
	}

	// Widen the matchers: the preview warns, and refuses the submission
	// until the checkbox is ticked.
	wide := map[string]string{render.PreviewMatchersID: `alertname="DiskFull"`, render.PreviewEndID: "2h"}
	refresh := func(values map[string]string, actionID string) {
		t.Helper()
		n := v.Updates
		if code, body := c.viewPost(v, alice, "block_actions", actionID, values); code != http.StatusOK || body != "" {
			t.Fatalf("block_actions answered %d %q", code, body)
		}
		waitFor(t, fake, 20*time.Second, "the preview's update", func() bool { v, _ = fake.View(v.ID); return v.Updates > n })
	}
	refresh(wide, render.PreviewMatchersID)
	if got := viewSection(t, v, "preview_count"); !strings.HasPrefix(got, "*Matches 3 alerts now*") {
		t.Errorf("count after widening = %q", got)
	}
	if got := viewSection(t, v, "preview_warning"); !strings.Contains(got, "outside this alert group") {
		t.Errorf("warning = %q", got)
	}
	code, body := c.viewPost(v, alice, "view_submission", "", wide)
	if code != http.StatusOK || !strings.Contains(body, `"response_action":"errors"`) || !strings.Contains(body, render.PreviewConfirmID) {
		t.Errorf("unconfirmed submission answered %d %s, want an error on the checkbox", code, body)
	}

	// Narrow them to db-1 with the Refresh preview button, and submit.
	one := map[string]string{render.PreviewMatchersID: `alertname="DiskFull", instance="db-1"`, render.PreviewEndID: "90m", render.PreviewCommentID: "replacing the disk"}
	refresh(one, render.PreviewRefreshID)
	if got := viewSection(t, v, "preview_count"); !strings.HasPrefix(got, "*Matches 1 alert now*") {
		t.Errorf("count after narrowing = %q", got)
	}
	if code, body := c.viewPost(v, alice, "view_submission", "", one); code != http.StatusOK || body != "" {
		t.Fatalf("submission answered %d %q, want an empty 200", code, body)
	}
	var silenceID string
	waitFor(t, fake, 20*time.Second, "the silence in Alertmanager, applied to db-1 alone", func() bool {
		for _, s := range am.ActiveSilences(t) {
			if strings.Contains(s.CreatedBy, alice.ID) {
				silenceID = s.ID
			}
		}
		if silenceID == "" {
			return false
		}
		states := map[string]string{}
		for _, a := range am.Alerts(t, `alertname="DiskFull"`) {
			states[a.Labels["instance"]] = a.Status.State
		}
		return states["db-1"] == "suppressed" && states["db-2"] == "active" && states["db-9"] == "active"
	})
	if s := am.Silence(t, silenceID); !strings.HasSuffix(s.Comment, "\nreplacing the disk") {
		t.Errorf("silence comment = %q", s.Comment)
	}
	waitFor(t, fake, 20*time.Second, "the message and its thread to show the silence", func() bool {
		m := current()
		return strings.Contains(allText(t, m), "1 of 2 silenced") &&
			slices.ContainsFunc(m.Replies, func(r slackfake.Message) bool {
				return strings.Contains(r.Text, "Silenced 1 of 2 alerts by <@"+alice.ID+">")
			})
	})

	// The Slack calls of the flow, beyond the message's update and thread
	// note, which the sender makes: one views.open, one views.update per
	// refresh, and one users.info, whose answer is cached.
	calls := slackCalls(fake)
	for method, want := range map[string]int{"views.open": 1, "views.update": 2, "users.info": 1} {
		if got := calls[method] - before[method]; got != want {
			t.Errorf("%s calls = %d, want %d", method, got, want)
		}
	}
	if v := fake.Violations(); len(v) != 0 {
		t.Errorf("rate-limit violations: %+v", v)
	}
}

// slackCalls counts the fake's answered requests by method.
func slackCalls(fake *slackfake.Server) map[string]int {
	out := map[string]int{}
	for _, r := range fake.Requests() {
		out[r.Method]++
	}
	return out
}
