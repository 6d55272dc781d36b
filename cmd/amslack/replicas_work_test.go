package main

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// replicaConfig is the configuration that replicas sharing the Redis at
// addr under prefix run with, all posting to testChannel.
func replicaConfig(slackURL, addr, prefix, extra string) string {
	return fmt.Sprintf(`
slack: {api_url: %s/api/, bot_token: xoxb-x, signing_secret: %s}
store: {redis: {address: %q, key_prefix: %q, lease_ttl: 3s}}
routes: [{name: default, channel: %s}]
%s`, slackURL, signingSecret, addr, prefix, testChannel, extra)
}

// topLevel returns the top-level messages of channel by their header, the
// alert group's title.
func topLevel(fake *slackfake.Server, channel string) map[string][]slackfake.Message {
	byTitle := map[string][]slackfake.Message{}
	for _, m := range fake.Messages(channel) {
		if m.ThreadTS == "" {
			byTitle[m.HeaderText()] = append(byTitle[m.HeaderText()], m)
		}
	}
	return byTitle
}

// titled returns the key of topLevel's map that holds alertname, "" if
// none does.
func titled(byTitle map[string][]slackfake.Message, alertname string) string {
	for title := range byTitle {
		if strings.Contains(title, alertname) {
			return title
		}
	}
	return ""
}

// TestReplicasShareTheWork runs three replicas on one Redis behind two
// Alertmanagers in an HA cluster that both send. The Alertmanagers route
// 80 % of the groups to replica a, the rest to b and c. The installation
// keeps Slack's limits as one (no request before a Retry-After passed),
// posts one message per group, and loses none.
func TestReplicasShareTheWork(t *testing.T) {
	rdb := storetest.RedisClient(t)
	prefix := storetest.RedisPrefix(t, rdb)
	fake, slackURL := fakeSlack(t, slackfake.SlackRateLimits())
	cfg := replicaConfig(slackURL, storetest.RedisAddr, prefix, "")
	reps := []*proc{startAmslack(t, cfg, ""), startAmslack(t, cfg, ""), startAmslack(t, cfg, "")}

	am := fmt.Sprintf(`route:
  receiver: a
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - {receiver: b, matchers: [lb="b"]}
    - {receiver: c, matchers: [lb="c"]}
receivers:
  - {name: a, webhook_configs: [{url: %q, send_resolved: true}]}
  - {name: b, webhook_configs: [{url: %q, send_resolved: true}]}
  - {name: c, webhook_configs: [{url: %q, send_resolved: true}]}
`, reps[0].URL+"/webhook", reps[1].URL+"/webhook", reps[2].URL+"/webhook")
	// A peer timeout shorter than the group wait makes both peers send most
	// notifications: the replicas see every group twice.
	ams := amtest.StartHA(t, amtest.Config{YAML: am}, 2, 200*time.Millisecond)

	const groups = 15
	var alerts []amtest.Alert
	for i := range groups {
		lb := "a"
		switch {
		case i == 12 || i == 13:
			lb = "b"
		case i == 14:
			lb = "c"
		}
		alerts = append(alerts, amtest.Alert{Labels: map[string]string{
			"alertname": fmt.Sprintf("Shared%02d", i), "lb": lb, "severity": "warning",
		}})
	}
	for _, a := range ams {
		a.PostAlerts(t, alerts...)
	}

	waitFor(t, fake, 90*time.Second, fmt.Sprintf("%d group messages", groups), func() bool {
		return len(topLevel(fake, testChannel)) == groups
	})
	byTitle := topLevel(fake, testChannel)
	for i := range groups {
		name := fmt.Sprintf("Shared%02d", i)
		title := titled(byTitle, name)
		if title == "" {
			t.Errorf("no message for %s", name)
		} else if n := len(byTitle[title]); n != 1 {
			t.Errorf("%d top-level messages for %s, want 1", n, name)
		}
	}
	if vs := fake.Violations(); len(vs) > 0 {
		t.Errorf("%d requests before Retry-After had passed: %+v", len(vs), vs)
	}

	// Every replica accepted notifications, a took most, and the posts
	// came out at the channel's rate: report it.
	var posts []time.Time
	for _, r := range fake.Requests() {
		if r.Method == "chat.postMessage" && r.Channel == testChannel && r.ThreadTS == "" && r.Status == http.StatusOK && r.Error == "" {
			posts = append(posts, r.Time)
		}
	}
	slices.SortFunc(posts, func(a, b time.Time) int { return a.Compare(b) })
	if len(posts) > 4 {
		// The first three went as Slack's burst; the rest at 1/s.
		span := posts[len(posts)-1].Sub(posts[3])
		if span > 0 {
			t.Logf("delivered %.1f%% of the channel's allowed rate (%d posts after the burst in %s)",
				100*float64(len(posts)-4)/span.Seconds(), len(posts)-4, span.Round(time.Millisecond))
		}
	}
}

// TestKilledReplicaWorkIsTakenOver gives replica a a backlog for a slow
// channel, kills it with SIGKILL and never restarts it: b delivers every
// notification a answered 200, once the lease of the dead replica runs out,
// with at most one duplicate for the call a had in flight.
func TestKilledReplicaWorkIsTakenOver(t *testing.T) {
	rdb := storetest.RedisClient(t)
	prefix := storetest.RedisPrefix(t, rdb)
	limits := slackfake.SlackRateLimits()
	limits.ChannelBurst = 1
	fake, slackURL := fakeSlack(t, limits)
	cfg := replicaConfig(slackURL, storetest.RedisAddr, prefix, "delivery: {channel_rate: 1, channel_burst: 1}\n")
	a := startAmslack(t, cfg, "")

	const n = 10
	for i := range n {
		if code, body := postWebhook(t, a.URL+"/webhook", groupPayload(fmt.Sprintf("Backlog%02d", i), "firing"), nil); code != 200 {
			t.Fatalf("notification %d: %d %s", i, code, body)
		}
	}
	// a holds the channel and delivers one a second; once it posted, b
	// starts and finds the lease taken.
	waitFor(t, fake, 20*time.Second, "replica a's first post", func() bool {
		return len(topLevel(fake, testChannel)) >= 1
	})
	b := startAmslack(t, cfg, "")
	a.kill(t)
	killed := time.Now()
	before := len(topLevel(fake, testChannel))

	var first time.Time
	waitFor(t, fake, 60*time.Second, fmt.Sprintf("all %d groups after replica a died", n), func() bool {
		got := topLevel(fake, testChannel)
		if first.IsZero() && len(got) > before {
			first = time.Now()
		}
		return len(got) == n
	})
	byTitle := topLevel(fake, testChannel)
	dups := 0
	for i := range n {
		title := titled(byTitle, fmt.Sprintf("Backlog%02d", i))
		if title == "" {
			t.Errorf("Backlog%02d lost", i)
			continue
		}
		dups += len(byTitle[title]) - 1
	}
	if dups > 1 {
		t.Errorf("%d duplicate messages, want at most 1 (the post in flight when a died)", dups)
	}
	if !first.IsZero() {
		t.Logf("takeover: replica b's first post %s after the kill (lease_ttl 3s)", first.Sub(killed).Round(time.Millisecond))
	}
	_, metrics := get(t, b.URL+"/metrics", nil)
	if !hasPositiveSample(metrics, "amslack_outbox_lease_takeovers_total") {
		t.Errorf("replica b counted no takeover:\n%s", grepLines(metrics, "amslack_outbox_"))
	}
}

// hasPositiveSample reports whether the exposition text has a sample of
// the metric name above zero.
func hasPositiveSample(exposition, name string) bool {
	for _, l := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(l, name); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "{")) {
			f := strings.Fields(l)
			if v := f[len(f)-1]; v != "0" && !strings.HasPrefix(v, "-") {
				return true
			}
		}
	}
	return false
}

// tryWebhook posts a notification and returns the status, 0 when the
// request failed; unlike postWebhook it may run outside the test's
// goroutine.
func tryWebhook(url string, body []byte) int {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRedisRestartLosesNothing restarts the Redis that two replicas share,
// with SIGKILL, in the middle of a run of notifications. Redis keeps an
// append-only file synced on every write, so each notification answered
// 200 reaches Slack; those answered 503 while Redis was down are sent
// again, as Alertmanager would.
func TestRedisRestartLosesNothing(t *testing.T) {
	rds := storetest.StartRedis(t, true)
	// Slack takes two messages a second, so that a backlog waits in
	// Redis when it is killed.
	fake, slackURL := fakeSlack(t, slackfake.Options{ChannelPerSecond: 2, ChannelBurst: 1, RetryAfter: time.Second})
	cfg := replicaConfig(slackURL, rds.Addr, "amslack:", "delivery: {channel_rate: 2, channel_burst: 1}\n")
	reps := []*proc{startAmslack(t, cfg, ""), startAmslack(t, cfg, "")}

	const n = 40
	accepted := make(chan int, n)
	refused := 0
	// Alertmanager sends the groups one after the other, to both replicas
	// in turn, and sends a refused one again a little later.
	go func() {
		for i := range n {
			for range 300 {
				if tryWebhook(reps[i%2].URL+"/webhook", groupPayload(fmt.Sprintf("Restart%02d", i), "firing")) == 200 {
					accepted <- i
					break
				}
				refused++
				time.Sleep(100 * time.Millisecond)
			}
		}
		close(accepted)
	}()
	got := 0
	for range accepted {
		if got++; got == n/4 {
			break
		}
	}
	if delivered := len(topLevel(fake, testChannel)); delivered >= got {
		t.Fatalf("%d delivered of %d accepted when Redis was to be killed: no backlog to lose", delivered, got)
	}
	rds.Restart()
	for range accepted {
		got++
	}
	if got != n {
		t.Fatalf("%d of %d notifications accepted within 30s of retries each", got, n)
	}
	waitFor(t, fake, 60*time.Second, fmt.Sprintf("all %d accepted notifications in Slack", n), func() bool {
		return len(topLevel(fake, testChannel)) >= n
	})
	byTitle := topLevel(fake, testChannel)
	for i := range n {
		if titled(byTitle, fmt.Sprintf("Restart%02d", i)) == "" {
			t.Errorf("Restart%02d answered 200 but lost", i)
		}
	}
	t.Logf("%d answers of 503 while Redis restarted", refused)
}
