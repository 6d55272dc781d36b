package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

const testChannel = "C0E2ETEST1"

func e2eConfig(apiURL, amURL string) string {
	return fmt.Sprintf(`
slack:
  api_url: %s
  bot_token: xoxb-e2e-token
  signing_secret: e2e-signing-secret
alertmanager:
  url: %s
routes:
  - name: default
    channel: %s
    silence_durations: [1h, 4h]
`, apiURL, amURL, testChannel)
}

// block is the part of a Block Kit block the assertions read.
type block struct {
	Type    string `json:"type"`
	BlockID string `json:"block_id"`
	Text    *struct {
		Text string `json:"text"`
	} `json:"text"`
	Fields []struct {
		Text string `json:"text"`
	} `json:"fields"`
	Elements []struct {
		Type     string `json:"type"`
		Text     any    `json:"text"`
		ActionID string `json:"action_id"`
		Options  []struct {
			Value string `json:"value"`
		} `json:"options"`
	} `json:"elements"`
}

func blocksOf(t testing.TB, m slackfake.Message) []block {
	t.Helper()
	var bs []block
	if err := json.Unmarshal(m.Blocks, &bs); err != nil {
		t.Fatalf("blocks: %v", err)
	}
	return bs
}

// allText returns every piece of text in the message's blocks.
func allText(t testing.TB, m slackfake.Message) string {
	t.Helper()
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				if k == "text" {
					if s, ok := y.(string); ok {
						b.WriteString(s + "\n")
					}
				}
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	var v any
	json.Unmarshal(m.Blocks, &v)
	walk(v)
	return b.String()
}

func TestEndToEndWithAlertmanager(t *testing.T) {
	amtest.Require(t)
	fake, slackURL := fakeSlack(t, slackfake.SlackRateLimits())
	// amslack's address must be known before Alertmanager's config is
	// written, and Alertmanager's before amslack's: take amslack's first.
	addr := freeAddr(t)
	am := amtest.StartConfig(t, amtest.Config{
		WebhookURL: "http://" + addr + "/webhook",
		Receiver:   "team-db",
		GroupBy:    []string{"alertname", "cluster"},
	})
	dir := t.TempDir()
	cfg := dir + "/amslack.yml"
	writeFile(t, cfg, e2eConfig(slackURL+"/api/", am.URL))
	startAmslackFile(t, cfg, dir+"/data", addr)

	labels := map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-1", "severity": "critical", "service": "postgres"}
	am.PostAlerts(t, amtest.Alert{
		Labels: labels,
		Annotations: map[string]string{
			"summary":     "Disk almost full on db-1",
			"runbook_url": "https://runbooks.example/disk",
		},
		GeneratorURL: "http://prometheus.example/graph?g0.expr=disk",
	})

	var msg slackfake.Message
	waitFor(t, fake, 30*time.Second, "the firing message", func() bool {
		msgs := fake.Messages(testChannel)
		if len(msgs) == 0 {
			return false
		}
		msg = msgs[0]
		return true
	})
	header := msg.HeaderText()
	if !strings.Contains(header, "DiskFull") || !strings.Contains(header, "firing") {
		t.Errorf("header = %q, want the alert name and firing", header)
	}
	text := allText(t, msg)
	for _, want := range []string{
		"Critical",         // severity
		"postgres", "prod", // context fields
		"Disk almost full on db-1",         // action hint
		"https://runbooks.example/disk",    // runbook link
		"http://prometheus.example/graph",  // source link
		am.URL + "/#/silences/new?filter=", // Alertmanager silence link from externalURL
	} {
		if !strings.Contains(text, want) {
			t.Errorf("message does not contain %q:\n%s", want, text)
		}
	}
	ids := msg.ActionIDs()
	for _, want := range []string{"silence", "ack"} {
		if !slices.Contains(ids, want) {
			t.Errorf("action_ids %v lack %q", ids, want)
		}
	}
	var durations []string
	for _, b := range blocksOf(t, msg) {
		for _, e := range b.Elements {
			if e.ActionID == "silence" {
				for _, o := range e.Options {
					durations = append(durations, o.Value)
				}
			}
		}
	}
	if !slices.Contains(durations, "1h") || !slices.Contains(durations, "4h") {
		t.Errorf("silence options = %v, want the route's 1h and 4h", durations)
	}
	if !strings.Contains(msg.Text, "DiskFull") {
		t.Errorf("fallback text = %q", msg.Text)
	}

	am.ResolveAlerts(t, labels)
	waitFor(t, fake, 30*time.Second, "the resolved update", func() bool {
		m, ok := fake.Message(testChannel, msg.TS)
		if ok && strings.Contains(strings.ToLower(m.HeaderText()), "resolved") {
			msg = m
			return true
		}
		return false
	})
	if ids := msg.ActionIDs(); len(ids) != 0 {
		t.Errorf("resolved message still has actions %v", ids)
	}
	if n := len(fake.Messages(testChannel)); n != 1 {
		t.Errorf("%d messages in the channel, want 1 updated in place", n)
	}
	if v := fake.Violations(); len(v) != 0 {
		t.Errorf("rate-limit violations: %+v", v)
	}
}
