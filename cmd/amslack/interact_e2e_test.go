package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

const signingSecret = "e2e-signing-secret"

// slackUser is who clicks.
type slackUser struct{ ID, Name string }

var (
	alice = slackUser{"U0ALICE001", "alice"}
	bob   = slackUser{"U0BOB00001", "bob"}
	carol = slackUser{"U0CAROL001", "carol"}
)

// clicker sends Slack's block_actions payloads for the messages in the fake
// Slack, signed as Slack signs them.
type clicker struct {
	t        testing.TB
	fake     *slackfake.Server
	slackURL string
	amslack  string
}

// click sends a click on action_id in the message, as user. selected is the
// option value for a select, "" for a button.
func (c *clicker) click(msg slackfake.Message, user slackUser, actionID, selected string) int {
	c.t.Helper()
	var blocks []map[string]any
	if err := json.Unmarshal(msg.Blocks, &blocks); err != nil {
		c.t.Fatal(err)
	}
	var action map[string]any
	for _, b := range blocks {
		els, _ := b["elements"].([]any)
		for _, e := range els {
			el, _ := e.(map[string]any)
			if el["action_id"] != actionID {
				continue
			}
			action = map[string]any{
				"type": el["type"], "action_id": actionID, "block_id": b["block_id"],
				"action_ts": strconv.FormatInt(time.Now().UnixMicro(), 10),
			}
			if selected != "" {
				action["selected_option"] = map[string]any{"text": map[string]any{"type": "plain_text", "text": selected}, "value": selected}
			} else {
				action["value"] = el["value"]
				action["text"] = el["text"]
			}
		}
	}
	if action == nil {
		c.t.Fatalf("no action_id %q in the message; it has %v", actionID, msg.ActionIDs())
	}
	payload := map[string]any{
		"type":       "block_actions",
		"team":       map[string]any{"id": slackfake.TeamID, "domain": "example"},
		"user":       map[string]any{"id": user.ID, "username": user.Name, "name": user.Name, "team_id": slackfake.TeamID},
		"api_app_id": "A0AMSLACK1",
		"container":  map[string]any{"type": "message", "message_ts": msg.TS, "channel_id": msg.Channel, "is_ephemeral": false},
		"trigger_id": c.fake.NewTriggerID(),
		"channel":    map[string]any{"id": msg.Channel, "name": "alerts"},
		"message": map[string]any{
			"type": "message", "subtype": "bot_message", "ts": msg.TS, "text": msg.Text, "blocks": json.RawMessage(msg.Blocks),
		},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": c.fake.NewResponseURL(c.slackURL, msg.Channel, user.ID, msg.TS),
		"actions":      []any{action},
	}
	code, _ := c.post(payload)
	return code
}

// post sends payload to amslack's interactions endpoint, signed as Slack
// signs it, and returns amslack's status and body.
func (c *clicker) post(payload any) (int, string) {
	c.t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		c.t.Fatal(err)
	}
	body := url.Values{"payload": {string(b)}}.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, c.amslack+"/slack/interactions", strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", interact.SlackSignature(signingSecret, ts, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// startActionServer runs the example internal action server with the
// secret in dir/action.secret, and returns its address and log.
func startActionServer(t testing.TB, dir string) (string, *proc) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "action.secret"), "shared-action-secret\n")
	addr := freeAddr(t)
	srv := exec.Command(actionServer, "--listen", addr, "--secret-file", filepath.Join(dir, "action.secret"))
	log := &proc{done: make(chan struct{})}
	srv.Stdout, srv.Stderr = log, log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	return addr, log
}

// TestInteractionsEndToEnd runs a real Alertmanager, amslack, the fake Slack
// and the example action server, and clicks every button of a message.
func TestInteractionsEndToEnd(t *testing.T) {
	amtest.Require(t)
	fake, slackURL := fakeSlack(t, slackfake.SlackRateLimits())
	dir := t.TempDir()

	actionAddr, srvLog := startActionServer(t, dir)

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
routes: [{name: default, channel: %s, silence_durations: [1h, 4h]}]
interactions: {reconcile_interval: 1s, ack_duration: 10m, resolve_timeout: 1s}
actions:
  - id: approve_restart
    label: Approve restart
    url: http://%s/restart
    style: danger
    confirm: {title: "Restart?", text: "This restarts the database.", confirm: Restart, deny: Cancel}
    allow: {users: [%s, %s]}
    matchers: ['alertname="DiskFull"']
    approvals: 2
    secret_file: action.secret
`, slackURL, signingSecret, am.URL, testChannel, actionAddr, alice.ID, bob.ID))
	p := startAmslackFile(t, cfg, filepath.Join(dir, "data"), addr)
	t.Cleanup(func() {
		if t.Failed() {
			audit, _ := os.ReadFile(filepath.Join(dir, "data", "audit.log"))
			t.Logf("audit log:\n%s\nresponse_url posts: %+v", audit, fake.ResponsePosts())
		}
	})
	c := &clicker{t: t, fake: fake, slackURL: slackURL, amslack: p.URL}

	labels := map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-1", "severity": "critical"}
	am.PostAlerts(t, amtest.Alert{Labels: labels, Annotations: map[string]string{"summary": "Disk almost full"}})
	var msg slackfake.Message
	current := func() slackfake.Message {
		m, _ := fake.Message(testChannel, msg.TS)
		return m
	}
	waitFor(t, fake, 30*time.Second, "the firing message", func() bool {
		ms := fake.Messages(testChannel)
		if len(ms) > 0 {
			msg = ms[0]
		}
		return len(ms) > 0
	})
	if !slices.Contains(msg.ActionIDs(), "approve_restart") {
		t.Fatalf("runbook button missing: %v", msg.ActionIDs())
	}

	// Silence for 1h.
	if code := c.click(msg, alice, "silence", "1h"); code != 200 {
		t.Fatalf("silence click answered %d", code)
	}
	var silenceID string
	waitFor(t, fake, 20*time.Second, "an active silence in Alertmanager", func() bool {
		for _, s := range am.ActiveSilences(t) {
			if strings.Contains(s.CreatedBy, alice.ID) && !strings.HasPrefix(s.Comment, "ACK!") {
				silenceID = s.ID
				return true
			}
		}
		return false
	})
	sil := am.Silence(t, silenceID)
	got := map[string]string{}
	for _, m := range sil.Matchers {
		if m.IsRegex {
			t.Errorf("matcher %+v is a regex", m)
		}
		got[m.Name] = m.Value
	}
	for k, v := range labels {
		if got[k] != v {
			t.Errorf("silence matchers %v lack %s=%q", got, k, v)
		}
	}
	if d := sil.EndsAt.Sub(sil.StartsAt); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("silence lasts %s, want 1h", d)
	}
	waitFor(t, fake, 20*time.Second, "the message to show the silence, and a note in its thread", func() bool {
		m := current()
		return strings.Contains(allText(t, m), "Silenced") && slices.Contains(m.ActionIDs(), "unsilence") &&
			slices.ContainsFunc(m.Replies, func(r slackfake.Message) bool { return strings.Contains(r.Text, "Silenced by <@"+alice.ID+">") })
	})

	// Unsilence.
	c.click(current(), alice, "unsilence", "")
	waitFor(t, fake, 20*time.Second, "the silence to expire", func() bool {
		return am.Silence(t, silenceID).Status.State == "expired" && !slices.Contains(current().ActionIDs(), "unsilence")
	})

	// Acknowledge, twice in a row: one ACK! silence.
	m := current()
	c.click(m, bob, "ack", "")
	c.click(m, bob, "ack", "")
	var ackID string
	waitFor(t, fake, 20*time.Second, "an ACK! silence and the acknowledged message", func() bool {
		var acks []string
		for _, s := range am.ActiveSilences(t) {
			if strings.HasPrefix(s.Comment, "ACK!") {
				acks = append(acks, s.ID)
			}
		}
		if len(acks) > 1 {
			t.Fatalf("%d ACK! silences for a double click", len(acks))
		}
		if len(acks) == 1 {
			ackID = acks[0]
		}
		return ackID != "" && slices.Contains(current().ActionIDs(), "unack")
	})

	// Approve restart: alice twice, then carol (not allowed), then bob.
	c.click(current(), alice, "approve_restart", "")
	waitFor(t, fake, 20*time.Second, "approval progress 1/2", func() bool { return strings.Contains(allText(t, current()), "1/2") })
	c.click(current(), alice, "approve_restart", "")
	c.click(current(), carol, "approve_restart", "")
	waitFor(t, fake, 20*time.Second, "carol's denial", func() bool {
		for _, r := range fake.ResponsePosts() {
			if r.User == carol.ID {
				return true
			}
		}
		return false
	})
	if n := strings.Count(srvLog.Output(), `"action run"`); n != 0 {
		t.Fatalf("the action ran after %d approvals", 1)
	}
	c.click(current(), bob, "approve_restart", "")
	waitFor(t, fake, 20*time.Second, "the action's result on the message", func() bool {
		return strings.Count(srvLog.Output(), `"action run"`) == 1 && strings.Contains(allText(t, current()), "restart scheduled")
	})
	if strings.Contains(srvLog.Output(), "rejected call") {
		t.Errorf("the action server rejected a call:\n%s", srvLog.Output())
	}

	// The alert resolves while acknowledged: the message resolves and the
	// ACK! silence is expired.
	am.ResolveAlerts(t, labels)
	waitFor(t, fake, 30*time.Second, "the resolved message and the expired ACK! silence", func() bool {
		return strings.Contains(strings.ToLower(current().HeaderText()), "resolved") && am.Silence(t, ackID).Status.State == "expired"
	})
	if n := strings.Count(srvLog.Output(), `"action run"`); n != 1 {
		t.Errorf("the action ran %d times, want 1", n)
	}
	if v := fake.Violations(); len(v) != 0 {
		t.Errorf("rate-limit violations: %+v", v)
	}
}
