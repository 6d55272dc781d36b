package main

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// groupPayload is a webhook notification for a group of its own, named by
// alertname.
func groupPayload(alertname, status string) []byte {
	ends := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		ends = "2026-11-29T14:20:00Z"
	}
	return fmt.Appendf(nil, `{"receiver":"storm","status":%q,"alerts":[{"status":%q,"labels":{"alertname":%q,"severity":"warning"},"annotations":{"summary":"crash test"},"startsAt":"2026-11-29T14:00:00Z","endsAt":%q,"generatorURL":"","fingerprint":"%x"}],"groupLabels":{"alertname":%q},"commonLabels":{"alertname":%q,"severity":"warning"},"commonAnnotations":{},"externalURL":"http://am.example","version":"4","groupKey":"{}:{alertname=\"%s\"}","truncatedAlerts":0}`,
		status, status, alertname, ends, alertname, alertname, alertname, alertname)
}

// TestCrashLosesNothing drives a storm of webhooks, kills amslack with
// SIGKILL in the middle of it, restarts it on the same storage, and checks
// that every notification that got a 200 reaches Slack.
func TestCrashLosesNothing(t *testing.T) {
	fake, slackURL := fakeSlack(t, slackfake.Options{})
	// A slow Slack keeps a backlog in the outbox when the kill comes.
	fake.SetLatency(20 * time.Millisecond)
	channels := []string{"C0CRASH001", "C0CRASH002", "C0CRASH003", "C0CRASH004"}
	var routes strings.Builder
	for i, ch := range channels {
		fmt.Fprintf(&routes, "  - name: r%d\n    matchers: ['alertname=~\"Crash.*-%d\"']\n    channel: %s\n", i, i, ch)
	}
	cfg := fmt.Sprintf(`
slack: {api_url: %s/api/, bot_token: xoxb-crash}
routes:
%s
delivery: {channel_rate: 200, channel_burst: 20, workspace_per_minute: 100000}
`, slackURL, routes.String())
	p := startAmslack(t, cfg, "")

	const total = 400
	var (
		mu       sync.Mutex
		accepted []string
		sent     atomic.Int64
	)
	killed := make(chan struct{})
	var wg sync.WaitGroup
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range total {
			select {
			case next <- i:
			case <-killed:
				return
			}
		}
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	for range 8 {
		wg.Go(func() {
			for i := range next {
				name := fmt.Sprintf("Crash%03d-%d", i, i%len(channels))
				resp, err := client.Post(p.URL+"/webhook", "application/json", bytes.NewReader(groupPayload(name, "firing")))
				if err != nil {
					continue
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					accepted = append(accepted, name)
					mu.Unlock()
				}
				if sent.Add(1) == total/2 {
					p.kill(t)
					close(killed)
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatal("the storm ended before the kill")
	}
	delivered := func() map[string]int {
		seen := map[string]int{}
		for _, ch := range channels {
			for _, m := range fake.Messages(ch) {
				seen[strings.Fields(m.HeaderText())[1]]++
			}
		}
		return seen
	}
	beforeRestart := len(delivered())
	t.Logf("accepted %d notifications before the kill; %d were in Slack at the kill", len(accepted), beforeRestart)
	if beforeRestart >= len(accepted) {
		t.Fatalf("nothing was pending at the kill (%d of %d delivered): the test did not exercise recovery", beforeRestart, len(accepted))
	}

	p.restart(t)
	waitFor(t, fake, 60*time.Second, "every accepted notification in Slack", func() bool {
		seen := delivered()
		for _, name := range accepted {
			if seen[name] == 0 {
				return false
			}
		}
		return true
	})
	dups := 0
	for _, n := range delivered() {
		dups += n - 1
	}
	t.Logf("lost 0 of %d accepted; %d duplicates (sends in flight at the kill)", len(accepted), dups)
	// At most one send per channel is in flight at any time.
	if dups > len(channels) {
		t.Errorf("%d duplicates, more than the %d sends that can be in flight", dups, len(channels))
	}
}

// TestLifecycleAcrossRestarts runs the real Alertmanager: two alerts fire in a
// group, a third joins, all resolve, one fires again; amslack restarts between
// the steps and still updates the one message it posted.
func TestLifecycleAcrossRestarts(t *testing.T) {
	amtest.Require(t)
	fake, slackURL := fakeSlack(t, slackfake.SlackRateLimits())
	addr := freeAddr(t)
	am := amtest.StartConfig(t, amtest.Config{
		WebhookURL: "http://" + addr + "/webhook",
		Receiver:   "team-db",
		GroupBy:    []string{"alertname"},
	})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	writeFile(t, cfg, e2eConfig(slackURL+"/api/", am.URL))
	p := startAmslackFile(t, cfg, filepath.Join(dir, "data"), addr)

	alert := func(instance string) map[string]string {
		return map[string]string{"alertname": "Lifecycle", "instance": instance, "severity": "critical"}
	}
	post := func(instances ...string) {
		var as []amtest.Alert
		for _, i := range instances {
			as = append(as, amtest.Alert{Labels: alert(i), Annotations: map[string]string{"summary": "lifecycle " + i}})
		}
		am.PostAlerts(t, as...)
	}
	top := func() []slackfake.Message { return fake.Messages(testChannel) }

	post("a", "b")
	waitFor(t, fake, 30*time.Second, "the first message with 2 firing", func() bool {
		m := top()
		return len(m) == 1 && strings.Contains(m[0].HeaderText(), "2 firing")
	})
	ts := top()[0].TS

	p.stop(t)
	p = p.restart(t)
	post("a", "b", "c")
	waitFor(t, fake, 30*time.Second, "the update to 3 firing", func() bool {
		m, _ := fake.Message(testChannel, ts)
		return strings.Contains(m.HeaderText(), "3 firing") && len(m.Replies) >= 1
	})

	p.stop(t)
	p = p.restart(t)
	am.ResolveAlerts(t, alert("a"), alert("b"), alert("c"))
	waitFor(t, fake, 30*time.Second, "the resolved update of the original message and its thread reply", func() bool {
		m, _ := fake.Message(testChannel, ts)
		return strings.Contains(strings.ToLower(m.HeaderText()), "resolved") && len(m.Replies) == 2
	})
	m, _ := fake.Message(testChannel, ts)
	if len(top()) != 1 {
		t.Fatalf("%d messages before re-firing, want 1 updated in place", len(top()))
	}
	for _, r := range m.Replies {
		t.Logf("thread reply: %s", r.Text)
	}

	p.stop(t)
	p.restart(t)
	post("a")
	waitFor(t, fake, 30*time.Second, "a new message for the group firing again", func() bool {
		return len(top()) == 2
	})
	if v := fake.Violations(); len(v) != 0 {
		t.Errorf("rate-limit violations: %+v", v)
	}
}
