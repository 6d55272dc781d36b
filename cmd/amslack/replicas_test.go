package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestReplicasShareRedis runs two amslack replicas on one Redis: a group
// posted by one is clicked and resolved through the other, in the same
// Slack message.
func TestReplicasShareRedis(t *testing.T) {
	fake, slackURL, a, b := twoReplicas(t)

	if code, body := postWebhook(t, a.URL+"/webhook", groupPayload("Shared", "firing"), nil); code != 200 {
		t.Fatalf("replica a: %d %s", code, body)
	}
	var msg slackfake.Message
	waitFor(t, fake, 20*time.Second, "the message from replica a", func() bool {
		ms := fake.Messages(testChannel)
		if len(ms) == 1 {
			msg = ms[0]
		}
		return len(ms) == 1
	})

	c := &clicker{t: t, fake: fake, slackURL: slackURL, amslack: b.URL}
	if code := c.click(msg, alice, "ack", ""); code != 200 {
		t.Fatalf("click on replica b: %d", code)
	}
	waitFor(t, fake, 20*time.Second, "replica b to show the acknowledgement", func() bool {
		m, _ := fake.Message(testChannel, msg.TS)
		return strings.Contains(allText(t, m), "Acknowledged")
	})

	if code, body := postWebhook(t, b.URL+"/webhook", groupPayload("Shared", "resolved"), nil); code != 200 {
		t.Fatalf("replica b: %d %s", code, body)
	}
	waitFor(t, fake, 20*time.Second, "replica b to resolve replica a's message", func() bool {
		m, _ := fake.Message(testChannel, msg.TS)
		return strings.Contains(strings.ToLower(m.HeaderText()), "resolved")
	})
	if n := len(fake.Messages(testChannel)); n != 1 {
		t.Errorf("%d messages, want the one message updated by both replicas", n)
	}
}

// TestClickOnTwoReplicasActsOnce sends one person's click to replica a
// and the same click again to replica b, as a double click behind a load
// balancer lands: it acts once, and b counts its copy as a duplicate.
func TestClickOnTwoReplicasActsOnce(t *testing.T) {
	fake, slackURL, a, b := twoReplicas(t)
	if code, body := postWebhook(t, a.URL+"/webhook", groupPayload("Twice", "firing"), nil); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	var msg slackfake.Message
	waitFor(t, fake, 20*time.Second, "the group's message", func() bool {
		ms := fake.Messages(testChannel)
		if len(ms) == 1 {
			msg = ms[0]
		}
		return len(ms) == 1
	})

	for _, url := range []string{a.URL, b.URL} {
		c := &clicker{t: t, fake: fake, slackURL: slackURL, amslack: url}
		if code := c.click(msg, alice, "ack", ""); code != 200 {
			t.Fatalf("click on %s: %d", url, code)
		}
	}
	waitFor(t, fake, 20*time.Second, "the acknowledgement", func() bool {
		m, _ := fake.Message(testChannel, msg.TS)
		return strings.Contains(allText(t, m), "Acknowledged")
	})
	dups := 0.0
	for _, p := range []*proc{a, b} {
		_, metrics := get(t, p.URL+"/metrics", nil)
		for _, l := range strings.Split(metrics, "\n") {
			if strings.HasPrefix(l, "amslack_interactions_total{") && strings.Contains(l, `decision="duplicate"`) {
				var v float64
				fmt.Sscan(l[strings.LastIndex(l, " ")+1:], &v)
				dups += v
			}
		}
	}
	if dups != 1 {
		t.Errorf("%v clicks counted as duplicates across the replicas, want 1 (the copy on b)", dups)
	}
	var acks int
	for _, r := range fake.Messages(testChannel) {
		for _, reply := range r.Replies {
			if strings.Contains(reply.Text, "cknowledged") {
				acks++
			}
		}
	}
	if acks > 1 {
		t.Errorf("%d thread notes of the acknowledgement, want at most 1", acks)
	}
}

// twoReplicas starts two amslack replicas that share the Redis at
// storetest.RedisAddr under a prefix of the test's, with acknowledgements
// kept in the store, and the fake Slack they post to.
func twoReplicas(t *testing.T) (fake *slackfake.Server, slackURL string, a, b *proc) {
	t.Helper()
	rdb := storetest.RedisClient(t)
	prefix := storetest.RedisPrefix(t, rdb)
	fake, slackURL = fakeSlack(t, slackfake.SlackRateLimits())
	cfg := replicaConfig(slackURL, storetest.RedisAddr, prefix, "interactions: {ack_mode: state}\n")
	return fake, slackURL, startAmslack(t, cfg, ""), startAmslack(t, cfg, "")
}

// TestApprovalsAcrossReplicasRunOnce: a runbook action that needs two
// approvals gets alice's on replica a, alice's again and bob's on replica
// b. The approvals count across replicas, and the internal API is called
// once.
func TestApprovalsAcrossReplicasRunOnce(t *testing.T) {
	rdb := storetest.RedisClient(t)
	prefix := storetest.RedisPrefix(t, rdb)
	fake, slackURL := fakeSlack(t, slackfake.SlackRateLimits())
	dir := t.TempDir()
	actionAddr, srvLog := startActionServer(t, dir)
	cfg := replicaConfig(slackURL, storetest.RedisAddr, prefix, fmt.Sprintf(`actions:
  - id: approve_restart
    label: Approve restart
    url: http://%s/restart
    allow: {users: [%s, %s]}
    approvals: 2
    secret_file: %s
`, actionAddr, alice.ID, bob.ID, filepath.Join(dir, "action.secret")))
	a, b := startAmslack(t, cfg, ""), startAmslack(t, cfg, "")
	if code, body := postWebhook(t, a.URL+"/webhook", groupPayload("Approve", "firing"), nil); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	var ts string
	waitFor(t, fake, 20*time.Second, "the group's message", func() bool {
		ms := fake.Messages(testChannel)
		if len(ms) == 1 {
			ts = ms[0].TS
		}
		return len(ms) == 1
	})
	current := func() slackfake.Message { m, _ := fake.Message(testChannel, ts); return m }
	ca := &clicker{t: t, fake: fake, slackURL: slackURL, amslack: a.URL}
	cb := &clicker{t: t, fake: fake, slackURL: slackURL, amslack: b.URL}

	ca.click(current(), alice, "approve_restart", "")
	waitFor(t, fake, 20*time.Second, "approval progress 1/2", func() bool { return strings.Contains(allText(t, current()), "1/2") })
	cb.click(current(), alice, "approve_restart", "")
	cb.click(current(), bob, "approve_restart", "")
	waitFor(t, fake, 20*time.Second, "the action's result on the message", func() bool {
		return strings.Count(srvLog.Output(), `"action run"`) >= 1 && strings.Contains(allText(t, current()), "restart scheduled")
	})
	if n := strings.Count(srvLog.Output(), `"action run"`); n != 1 {
		t.Errorf("the action ran %d times, want 1:\n%s", n, srvLog.Output())
	}
}
