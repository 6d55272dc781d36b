package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/cmd/internal/app"
	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// oncallPassWait bounds the wait for something that a periodic pass of
// amslack does, with interactions.follow_up_interval at 1s: the latest
// escalation step of these tests, and a few passes more for a loaded
// machine.
const oncallPassWait = 20 * time.Second

// startOncallStack runs a real Alertmanager that sends its notifications to
// an amslack run on the configuration that config returns for the fake
// Slack's API URL and Alertmanager's URL.
func startOncallStack(t *testing.T, config func(slackAPI, amURL string) string) (*slackfake.Server, string, *amtest.Alertmanager, *proc) {
	t.Helper()
	amtest.Require(t)
	fake, slackURL := fakeSlack(t, slackfake.SlackRateLimits())
	// amslack's address must be known before Alertmanager's configuration
	// is written, and Alertmanager's before amslack's.
	addr := freeAddr(t)
	am := amtest.StartConfig(t, amtest.Config{
		WebhookURL: "http://" + addr + "/webhook",
		Receiver:   "team-db",
		GroupBy:    []string{"alertname", "cluster"},
	})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	writeFile(t, cfg, config(slackURL+"/api/", am.URL))
	p := startAmslackFile(t, cfg, filepath.Join(dir, "data"), addr)
	return fake, slackURL, am, p
}

// messageWith waits for the top-level message of channel whose header
// names alertname and returns it.
func messageWith(t *testing.T, fake *slackfake.Server, channel, alertname string) slackfake.Message {
	t.Helper()
	var msg slackfake.Message
	waitFor(t, fake, 30*time.Second, "the message of "+alertname+" in "+channel, func() bool {
		for _, m := range fake.Messages(channel) {
			if strings.Contains(m.HeaderText(), alertname) {
				msg = m
				return true
			}
		}
		return false
	})
	return msg
}

// repliesWith returns the thread replies of the message at ts in channel
// whose text contains s, in order.
func repliesWith(fake *slackfake.Server, channel, ts, s string) []slackfake.Message {
	m, _ := fake.Message(channel, ts)
	var out []slackfake.Message
	for _, r := range m.Replies {
		if strings.Contains(r.Text, s) {
			out = append(out, r)
		}
	}
	return out
}

// TestEscalationEndToEnd runs a real Alertmanager, amslack and the fake
// Slack on a route that escalates critical groups in two steps. A group
// that nobody acknowledges gets both steps in its thread, in order and once
// each, the second also shown in the channel; a group acknowledged before
// the first escalation pass gets none.
func TestEscalationEndToEnd(t *testing.T) {
	fake, slackURL, am, p := startOncallStack(t, func(slackAPI, amURL string) string {
		return fmt.Sprintf(`
slack: {api_url: %s, bot_token: xoxb-e2e, signing_secret: %s}
alertmanager: {url: %s}
interactions: {follow_up_interval: 1s}
routes:
  - name: oncall
    channel: %s
    escalate:
      severities: [critical]
      steps:
        - {after: 4s, mention: "<@U0CAROL01>"}
        - {after: 5s, mention: "<!subteam^S0ONCALL>", broadcast: true}
`, slackAPI, signingSecret, amURL, testChannel)
	})
	started := time.Now()
	c := &clicker{t: t, fake: fake, slackURL: slackURL, amslack: p.URL}

	unanswered := map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-1", "severity": "critical"}
	acked := map[string]string{"alertname": "ReplicationLag", "cluster": "prod", "instance": "db-2", "severity": "critical"}
	am.PostAlerts(t, amtest.Alert{Labels: unanswered}, amtest.Alert{Labels: acked})
	msg := messageWith(t, fake, testChannel, "DiskFull")
	ackMsg := messageWith(t, fake, testChannel, "ReplicationLag")

	// The first step is due 4 s after the messages were posted; the
	// acknowledgement is recorded well before.
	if code := c.click(ackMsg, bob, "ack", ""); code != http.StatusOK {
		t.Fatalf("ack click answered %d", code)
	}
	waitFor(t, fake, 20*time.Second, "the acknowledged message", func() bool {
		m, _ := fake.Message(testChannel, ackMsg.TS)
		return slices.Contains(m.ActionIDs(), "unack")
	})
	ackedAfter := time.Since(started)

	const (
		escalated = "Escalated to"
		step1     = "<@U0CAROL01>"
		step2     = "<!subteam^S0ONCALL>"
	)
	// steps returns the escalation replies in the thread of the message at
	// ts and their texts joined in thread order.
	steps := func(ts string) ([]slackfake.Message, string) {
		rs := repliesWith(fake, testChannel, ts, escalated)
		var texts []string
		for _, r := range rs {
			texts = append(texts, r.Text)
		}
		return rs, strings.Join(texts, "\n")
	}
	bothSteps := func(ts string) func() bool {
		return func() bool {
			_, text := steps(ts)
			return strings.Contains(text, step1) && strings.Contains(text, step2)
		}
	}
	waitFor(t, fake, oncallPassWait, "both escalation steps in the unanswered group's thread", bothSteps(msg.TS))

	// A group posted now escalates in a later pass, which must fire
	// nothing more for the other two.
	later := map[string]string{"alertname": "HighLatency", "cluster": "prod", "instance": "api-1", "severity": "critical"}
	am.PostAlerts(t, amtest.Alert{Labels: later})
	laterMsg := messageWith(t, fake, testChannel, "HighLatency")
	waitFor(t, fake, oncallPassWait, "both escalation steps in the later group's thread", bothSteps(laterMsg.TS))

	for _, tt := range []struct {
		name string
		ts   string
	}{{"DiskFull", msg.TS}, {"HighLatency", laterMsg.TS}} {
		replies, text := steps(tt.ts)
		if n1, n2 := strings.Count(text, step1), strings.Count(text, step2); n1 != 1 || n2 != 1 {
			t.Errorf("%s: step 1 called %d times and step 2 %d times, want once each:\n%s", tt.name, n1, n2, text)
		}
		if strings.Index(text, step1) > strings.Index(text, step2) {
			t.Errorf("%s: step 2 called before step 1:\n%s", tt.name, text)
		}
		if strings.Count(text, escalated+" ") != strings.Count(text, tt.name) {
			t.Errorf("%s: an escalation does not name the group:\n%s", tt.name, text)
		}
		// Each step posts its own reply; only the step with broadcast
		// shows in the channel.
		if len(replies) != 2 {
			t.Errorf("%s: the two steps came in %d thread replies, want one per step: %s", tt.name, len(replies), describeReplies(replies))
			continue
		}
		if first := replies[0]; !strings.Contains(first.Text, step1) || first.Broadcast {
			t.Errorf("%s: first escalation reply %s, want step 1 in the thread only", tt.name, describeReplies(replies[:1]))
		}
		if second := replies[1]; !strings.Contains(second.Text, step2) || !second.Broadcast {
			t.Errorf("%s: second escalation reply %s, want step 2 with reply_broadcast", tt.name, describeReplies(replies[1:]))
		}
	}
	waitFor(t, fake, 20*time.Second, "the unanswered group's message to show the last escalation", func() bool {
		m, _ := fake.Message(testChannel, msg.TS)
		return strings.Contains(allText(t, m), escalated+" <!subteam^S0ONCALL>")
	})
	if got := repliesWith(fake, testChannel, ackMsg.TS, escalated); len(got) != 0 {
		t.Errorf("the group acknowledged %s after amslack started got %d escalation replies, want none: %+v", ackedAfter, len(got), got)
	}
	if m, _ := fake.Message(testChannel, ackMsg.TS); strings.Contains(allText(t, m), escalated) {
		t.Errorf("the acknowledged group's message shows an escalation:\n%s", allText(t, m))
	}
	if n := len(fake.Messages(testChannel)); n != 3 {
		t.Errorf("%d top-level messages, want the 3 groups' (escalations are thread replies)", n)
	}
	if v := fake.Violations(); len(v) != 0 {
		t.Errorf("rate-limit violations: %+v", v)
	}
}

// describeReplies writes thread replies with their reply_broadcast, for
// failure messages.
func describeReplies(rs []slackfake.Message) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "[%q broadcast=%t] ", r.Text, r.Broadcast)
	}
	return strings.TrimSpace(b.String())
}

// TestFallbackEndToEnd runs a real Alertmanager, amslack and the fake Slack
// on a route whose channel is archived: the notification goes to the
// route's fallback channel under a line naming the channel and Slack's
// refusal, the dead letter keeps it for the route's channel, and the
// fallback is counted.
func TestFallbackEndToEnd(t *testing.T) {
	const (
		archived = "C0ARCHIVE1"
		fallback = "C0FALLBAK1"
	)
	fake, _, am, p := startOncallStack(t, func(slackAPI, amURL string) string {
		return fmt.Sprintf(`
slack: {api_url: %s, bot_token: xoxb-e2e}
alertmanager: {url: %s}
routes: [{name: primary, channel: %s, fallback_channel: %s}]
`, slackAPI, amURL, archived, fallback)
	})
	fake.Archive(archived)

	am.PostAlerts(t, amtest.Alert{
		Labels:      map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-1", "severity": "critical"},
		Annotations: map[string]string{"summary": "Disk almost full on db-1"},
	})
	msg := messageWith(t, fake, fallback, "DiskFull")
	cause := "Posted here because <#" + archived + "> refused it: is_archived"
	if !strings.Contains(msg.Text, cause) {
		t.Errorf("fallback text = %q, want the line %q", msg.Text, cause)
	}
	text := allText(t, msg)
	for _, want := range []string{cause, "Disk almost full on db-1"} {
		if !strings.Contains(text, want) {
			t.Errorf("fallback message does not contain %q:\n%s", want, text)
		}
	}
	if ids := msg.ActionIDs(); len(ids) != 0 {
		t.Errorf("fallback message has actions %v; a click would name a message the store does not know", ids)
	}

	var dead []app.DeadLetter
	waitFor(t, fake, 20*time.Second, "the dead letter of the original", func() bool {
		code, body := get(t, p.URL+"/api/v1/dlq", nil)
		if code != http.StatusOK {
			t.Fatalf("GET /api/v1/dlq: %d %s", code, body)
		}
		dead = nil
		if err := json.Unmarshal([]byte(body), &dead); err != nil {
			t.Fatalf("GET /api/v1/dlq: %v in %s", err, body)
		}
		return len(dead) > 0
	})
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1: %+v", len(dead), dead)
	}
	if d := dead[0]; d.Channel != archived || d.Route != "primary" || d.Status != "firing" || !strings.Contains(d.Cause, "is_archived") {
		t.Errorf("dead letter = %+v, want the firing notification for %s of route primary, with cause is_archived", d, archived)
	}
	if got := metricValue(t, p, `amslack_fallbacks_total{reason="is_archived",route="primary"}`); got != 1 {
		t.Errorf("amslack_fallbacks_total for route primary, is_archived = %v, want 1", got)
	}
	if n := len(fake.Messages(fallback)); n != 1 {
		t.Errorf("%d messages in the fallback channel, want 1", n)
	}
	if n := len(fake.Messages(archived)); n != 0 {
		t.Errorf("%d messages in the archived channel, want none", n)
	}
}

// TestSilenceFromAlertmanagerEndToEnd runs a real Alertmanager, amslack and
// the fake Slack. A silence made in Alertmanager's API over a group that
// amslack tracks is noted in the group's thread once, with its author; when
// it is expired in Alertmanager the thread says so in a later pass, after
// which the first note is still the only one.
func TestSilenceFromAlertmanagerEndToEnd(t *testing.T) {
	fake, _, am, _ := startOncallStack(t, func(slackAPI, amURL string) string {
		return fmt.Sprintf(`
slack: {api_url: %s, bot_token: xoxb-e2e, signing_secret: %s}
alertmanager: {url: %s}
interactions: {follow_up_interval: 1s}
routes: [{name: default, channel: %s}]
`, slackAPI, signingSecret, amURL, testChannel)
	})
	labels := map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-1", "severity": "critical"}
	am.PostAlerts(t, amtest.Alert{Labels: labels})
	msg := messageWith(t, fake, testChannel, "DiskFull")

	id := am.CreateSilence(t, "bob", "disk replaced tonight", time.Hour, map[string]string{"alertname": "DiskFull", "cluster": "prod"})
	const seen = "Silenced by bob"
	waitFor(t, fake, oncallPassWait, "the note of the silence in the thread", func() bool {
		return len(repliesWith(fake, testChannel, msg.TS, seen)) > 0
	})
	note := repliesWith(fake, testChannel, msg.TS, seen)[0]
	for _, want := range []string{"until", `alertname="DiskFull"`, `cluster="prod"`} {
		if !strings.Contains(note.Text, want) {
			t.Errorf("silence note %q does not contain %q", note.Text, want)
		}
	}

	// Expiring the silence is noted by a later pass, which must not note
	// the silence again.
	am.ExpireSilence(t, id)
	const expired = "Silence expired"
	waitFor(t, fake, oncallPassWait, "the note of the expired silence", func() bool {
		return len(repliesWith(fake, testChannel, msg.TS, expired)) > 0
	})
	if got := repliesWith(fake, testChannel, msg.TS, seen); len(got) != 1 {
		t.Errorf("%d notes of the silence, want 1: %+v", len(got), got)
	}
	m, _ := fake.Message(testChannel, msg.TS)
	var order []string
	for _, r := range m.Replies {
		switch {
		case strings.Contains(r.Text, seen):
			order = append(order, "seen")
		case strings.Contains(r.Text, expired):
			order = append(order, "expired")
		}
	}
	if want := []string{"seen", "expired"}; !slices.Equal(order, want) {
		t.Errorf("silence notes in the thread: %v, want %v", order, want)
	}
	if v := fake.Violations(); len(v) != 0 {
		t.Errorf("rate-limit violations: %+v", v)
	}
}
