package sender

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/boltstore"
	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// inProcess serves requests from the fake Slack without a network, so that
// the tests run inside a synctest bubble with its fake clock.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

type harness struct {
	fake   *slackfake.Server
	outbox *outbox.Outbox
	store  alertgroup.Store
	sender *Sender
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}
}

const base = "http://slack.test/"

// limits are a test's rate limits, and how long the sender retries an entry
// (0 for the default).
type limits struct {
	slackapi.Limits
	maxAge time.Duration
}

func newHarness(t *testing.T, fakeOpts slackfake.Options, l limits, ro RouteOptions) *harness {
	t.Helper()
	return startHarness(t, fakeOpts, l, ro, nil)
}

// startHarness is newHarness whose incoming webhooks, if webhooks is not
// nil, are served by webhooks rather than by the harness's fake.
func startHarness(t *testing.T, fakeOpts slackfake.Options, l limits, ro RouteOptions, webhooks http.Handler) *harness {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "amslack.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := boltstore.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(db, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fake := slackfake.New(fakeOpts)
	client := &http.Client{Transport: inProcess{fake}}
	hooks := client
	if webhooks != nil {
		hooks = &http.Client{Transport: inProcess{webhooks}}
	}
	h := &harness{fake: fake, outbox: ob, store: st, reg: prometheus.NewRegistry(), done: make(chan struct{})}
	h.sender = New(Options{
		Outbox: ob,
		Store:  st,
		Slack: slackapi.New(slackapi.Options{
			API:        slack.New("xoxb-test", slack.OptionAPIURL(base+"api/"), slack.OptionHTTPClient(client)),
			HTTPClient: hooks,
			Limits:     l.Limits,
			Registerer: h.reg,
		}),
		Routes:     func(string) RouteOptions { return ro },
		Controls:   testControls,
		MaxAge:     l.maxAge,
		Registerer: h.reg,
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.sender.Run(ctx)
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	<-h.done
}

func notification(group, channel, status, severity string, alerts ...string) alertgroup.Notification {
	d := &template.Data{
		Receiver:          "team",
		Status:            status,
		GroupLabels:       template.KV{"alertname": group},
		CommonLabels:      template.KV{"alertname": group, "severity": severity},
		CommonAnnotations: template.KV{},
		ExternalURL:       "http://am.example",
	}
	start := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
	for _, a := range alerts {
		fp, st, _ := strings.Cut(a, ":")
		if st == "" {
			st = status
		}
		al := template.Alert{
			Status: st, Fingerprint: fp, StartsAt: start,
			Labels: template.KV{"alertname": group, "severity": severity, "instance": fp},
		}
		if st == "resolved" {
			al.EndsAt = start.Add(23 * time.Minute)
		}
		d.Alerts = append(d.Alerts, al)
	}
	return alertgroup.Notification{
		Key:   alertgroup.Key{Receiver: "team", GroupKey: "{}:{alertname=\"" + group + "\"}", Channel: channel},
		Route: "default",
		Message: &alertgroup.Message{
			Data: d, Version: "4", GroupKey: "{}:{alertname=\"" + group + "\"}",
		},
		ReceivedAt: time.Now(),
	}
}

func (h *harness) enqueue(t *testing.T, n alertgroup.Notification) {
	t.Helper()
	if err := h.outbox.Enqueue(context.Background(), n); err != nil {
		t.Fatal(err)
	}
}

// settle waits, on the bubble's fake clock, until the outbox is empty.
func (h *harness) settle(t *testing.T, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for h.outbox.Len() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox still holds %d entries after %s", h.outbox.Len(), limit)
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
	}
	synctest.Wait()
}

func headers(msgs []slackfake.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.HeaderText())
	}
	return out
}

func TestLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{ThreadReplies: true})
		const ch = "C0LIFE0001"

		h.enqueue(t, notification("DiskFull", ch, "firing", "critical", "a", "b"))
		h.settle(t, time.Minute)
		msgs := h.fake.Messages(ch)
		if len(msgs) != 1 {
			t.Fatalf("after the first notification: %d messages, want 1", len(msgs))
		}
		ts := msgs[0].TS

		h.enqueue(t, notification("DiskFull", ch, "firing", "critical", "a", "b", "c"))
		h.settle(t, time.Minute)
		h.enqueue(t, notification("DiskFull", ch, "resolved", "critical", "a:resolved", "b:resolved", "c:resolved"))
		h.settle(t, time.Minute)

		msgs = h.fake.Messages(ch)
		if len(msgs) != 1 {
			t.Fatalf("%d messages, want 1 updated in place: %v", len(msgs), headers(msgs))
		}
		m := msgs[0]
		if m.TS != ts || m.Edits != 2 {
			t.Errorf("message ts %s edits %d, want %s edited twice", m.TS, m.Edits, ts)
		}
		if !strings.Contains(strings.ToLower(m.HeaderText()), "resolved") {
			t.Errorf("header = %q, want resolved", m.HeaderText())
		}
		var replies []string
		for _, r := range m.Replies {
			replies = append(replies, r.Text)
		}
		if len(replies) != 2 || !strings.Contains(replies[0], "new") || !strings.Contains(strings.ToLower(replies[1]), "resolved") {
			t.Errorf("thread replies = %q, want one for the new alert and one for the resolution", replies)
		}

		// A repeat of the resolved state changes nothing.
		h.enqueue(t, notification("DiskFull", ch, "resolved", "critical", "a:resolved", "b:resolved", "c:resolved"))
		h.settle(t, time.Minute)
		if m2, _ := h.fake.Message(ch, ts); m2.Edits != 2 || len(m2.Replies) != 2 {
			t.Errorf("a repeat changed the message: edits %d, replies %d", m2.Edits, len(m2.Replies))
		}

		// Firing again after the group fully resolved starts a new message.
		h.enqueue(t, notification("DiskFull", ch, "firing", "critical", "a"))
		h.settle(t, time.Minute)
		if msgs := h.fake.Messages(ch); len(msgs) != 2 {
			t.Fatalf("after re-firing: %d messages, want 2", len(msgs))
		}
		if v := h.fake.Violations(); len(v) != 0 {
			t.Errorf("rate-limit violations: %+v", v)
		}
	})
}

func TestOutageThenPriorityOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{})
		const ch = "C0OUTAGE01"
		h.fake.SetOutage(true)
		// Warnings arrive first, then a critical and an info.
		for i := range 5 {
			h.enqueue(t, notification(fmt.Sprintf("Warn%d", i), ch, "firing", "warning", "w"))
		}
		h.enqueue(t, notification("Crit", ch, "firing", "critical", "c"))
		h.enqueue(t, notification("Info", ch, "firing", "info", "i"))

		time.Sleep(3 * time.Minute)
		synctest.Wait()
		attempts := h.fake.Requests()
		if len(attempts) == 0 {
			t.Fatal("no attempt during the outage")
		}
		// Backoff: attempts at one entry are spaced further and further
		// apart, so three minutes hold few of them.
		if len(attempts) > 60 {
			t.Errorf("%d attempts in 3 minutes of outage: no backoff", len(attempts))
		}
		for _, r := range attempts {
			if r.Status != http.StatusServiceUnavailable {
				t.Errorf("request during outage answered %d", r.Status)
			}
		}

		h.fake.SetOutage(false)
		// The longest backoff in three minutes is under 5 minutes.
		h.settle(t, 10*time.Minute)
		got := headers(h.fake.Messages(ch))
		if len(got) != 7 {
			t.Fatalf("delivered %d messages after the outage, want 7: %q", len(got), got)
		}
		order := func(name string) int {
			return slices.IndexFunc(got, func(s string) bool { return strings.Contains(s, name) })
		}
		if !(order("Crit") < order("Warn") && order("Warn") < order("Info")) {
			t.Errorf("delivery order %q, want critical, then warnings, then info", got)
		}
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakeOpts := slackfake.SlackRateLimits()
		fakeOpts.RetryAfter = 5 * time.Second
		// amslack believes it may send twice as fast as the fake allows, so
		// the fake answers 429 and amslack must wait out each Retry-After.
		h := newHarness(t, fakeOpts, limits{Limits: slackapi.Limits{ChannelRate: 2, ChannelBurst: 6}}, RouteOptions{})
		for c := range 3 {
			for i := range 10 {
				h.enqueue(t, notification(fmt.Sprintf("G%d", i), fmt.Sprintf("C0RATE000%d", c), "firing", "warning", "x"))
			}
		}
		h.settle(t, 10*time.Minute)
		var limited int
		for _, r := range h.fake.Requests() {
			if r.Status == http.StatusTooManyRequests {
				limited++
			}
		}
		if limited == 0 {
			t.Fatal("the fake never answered 429: the test does not exercise Retry-After")
		}
		if v := h.fake.Violations(); len(v) != 0 {
			t.Errorf("%d requests arrived before their Retry-After: %+v", len(v), v[0])
		}
		for c := range 3 {
			if n := len(h.fake.Messages(fmt.Sprintf("C0RATE000%d", c))); n != 10 {
				t.Errorf("channel %d: %d messages, want 10", c, n)
			}
		}
	})
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		status     int
		slackErr   string
		wantDead   int
		wantPosted int
	}{
		{name: "channel_not_found is dead-lettered", method: "chat.postMessage", status: 200, slackErr: "channel_not_found", wantDead: 1},
		{name: "invalid_auth is dead-lettered", method: "chat.postMessage", status: 200, slackErr: "invalid_auth", wantDead: 1},
		{name: "invalid_blocks falls back to the minimal rendering", method: "chat.postMessage", status: 200, slackErr: "invalid_blocks", wantPosted: 1},
		{name: "internal_error is retried", method: "chat.postMessage", status: 200, slackErr: "internal_error", wantPosted: 1},
		{name: "HTTP 500 is retried", method: "chat.postMessage", status: 500, wantPosted: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{})
				h.fake.FailNext(tt.method, 1, tt.status, tt.slackErr)
				h.enqueue(t, notification("G", "C0FAIL0001", "firing", "critical", "x"))
				h.settle(t, 5*time.Minute)
				dead, err := h.outbox.DeadLetters(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(dead) != tt.wantDead {
					t.Errorf("%d dead letters, want %d", len(dead), tt.wantDead)
				}
				if tt.wantDead > 0 && !strings.Contains(dead[0].Cause, tt.slackErr) {
					t.Errorf("dead letter cause %q does not name %q", dead[0].Cause, tt.slackErr)
				}
				if n := len(h.fake.Messages("C0FAIL0001")); n != tt.wantPosted {
					t.Errorf("%d messages posted, want %d", n, tt.wantPosted)
				}
			})
		})
	}
}

func TestWebhookRoute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := slackfake.New(slackfake.SlackRateLimits())
		hookURL := fake.WebhookURL(strings.TrimSuffix(base, "/"), "C0HOOK0001")
		// The harness fake serves the Web API, this one the webhook.
		h := startHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{}, fake)
		h.sender.routes = func(string) RouteOptions { return RouteOptions{WebhookURL: hookURL} }
		key := "webhook:status"
		h.enqueue(t, notification("G", key, "firing", "critical", "x"))
		h.settle(t, time.Minute)
		h.enqueue(t, notification("G", key, "resolved", "critical", "x:resolved"))
		h.settle(t, time.Minute)
		msgs := fake.Messages("C0HOOK0001")
		if len(msgs) != 2 {
			t.Fatalf("%d webhook messages, want 2 (webhooks cannot update)", len(msgs))
		}
		var blocks []json.RawMessage
		if err := json.Unmarshal(msgs[1].Blocks, &blocks); err != nil || len(blocks) == 0 {
			t.Errorf("resolved webhook message has no blocks: %v", err)
		}
	})
}

func TestRefreshUpdatesAndRepliesWithNotes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{ThreadReplies: true})
		const ch = "C0NOTES001"
		n := notification("G", ch, "firing", "critical", "a")
		h.enqueue(t, n)
		h.settle(t, time.Minute)
		ts := h.fake.Messages(ch)[0].TS

		// A click changed the state: the refresh re-renders the message and
		// its notes go to the thread.
		if _, err := h.store.Update(context.Background(), n.Key, func(g *alertgroup.Group, _ bool) error {
			g.State.Acked = &alertgroup.Mark{By: alertgroup.User{ID: "U0ALICE001"}, At: time.Now()}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := h.outbox.Refresh(context.Background(), n.Key, "default", "👀 Acknowledged by <@U0ALICE001>"); err != nil {
			t.Fatal(err)
		}
		h.settle(t, time.Minute)
		m, _ := h.fake.Message(ch, ts)
		if m.Edits != 1 || !slices.Contains(m.ActionIDs(), "unack") {
			t.Errorf("message not re-rendered with the ack: edits %d, actions %v", m.Edits, m.ActionIDs())
		}
		if len(m.Replies) != 1 || !strings.Contains(m.Replies[0].Text, "Acknowledged by") {
			t.Errorf("thread replies = %+v, want the note", m.Replies)
		}

		// A repeat notification that a refresh merged into is sent although
		// its alerts did not change.
		if _, err := h.store.Update(context.Background(), n.Key, func(g *alertgroup.Group, _ bool) error {
			g.State.Acked = nil
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		h.stop()
		h.enqueue(t, n)
		if err := h.outbox.Refresh(context.Background(), n.Key, "default"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go h.sender.Run(ctx)
		h.settle(t, time.Minute)
		if m, _ := h.fake.Message(ch, ts); m.Edits != 2 || !slices.Contains(m.ActionIDs(), "ack") {
			t.Errorf("merged refresh not sent: edits %d, actions %v", m.Edits, m.ActionIDs())
		}
	})
}

func TestDeletedMessageIsPostedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{ThreadReplies: true})
		const ch = "C0GONE0001"
		h.enqueue(t, notification("G", ch, "firing", "critical", "a"))
		h.settle(t, time.Minute)
		h.fake.FailNext("chat.update", 1, 200, "message_not_found")
		h.enqueue(t, notification("G", ch, "resolved", "critical", "a:resolved"))
		h.settle(t, time.Minute)
		msgs := h.fake.Messages(ch)
		if len(msgs) != 2 || !strings.Contains(strings.ToLower(msgs[1].HeaderText()), "resolved") {
			t.Fatalf("messages %q, want the resolved state in a new message", headers(msgs))
		}
		if dead, _ := h.outbox.DeadLetters(context.Background()); len(dead) != 0 {
			t.Errorf("dead letters: %+v", dead)
		}
	})
}

func TestOlderNotificationDoesNotOverwriteNewer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{})
		const ch = "C0STALE001"
		older := notification("G", ch, "firing", "critical", "a")
		time.Sleep(time.Second)
		newer := notification("G", ch, "resolved", "critical", "a:resolved")
		h.enqueue(t, notification("G", ch, "firing", "critical", "a"))
		h.settle(t, time.Minute)
		h.enqueue(t, newer)
		h.settle(t, time.Minute)
		// A dead letter retried late, or another replica's late delivery.
		h.enqueue(t, older)
		h.settle(t, time.Minute)
		msgs := h.fake.Messages(ch)
		if len(msgs) != 1 || !strings.Contains(strings.ToLower(msgs[0].HeaderText()), "resolved") {
			t.Errorf("messages %q, want one, still resolved", headers(msgs))
		}
	})
}

func TestOneFailingEntryDoesNotStallItsChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{Limits: slackapi.Limits{ChannelBurst: 3}}, RouteOptions{})
		const ch = "C0STALL001"
		// An error Slack might add one day, for one message: that entry is
		// retried on its own clock, and the channel goes on.
		h.fake.FailNext("chat.postMessage", 1, 200, "some_new_error")
		h.enqueue(t, notification("Stuck", ch, "firing", "critical", "s"))
		for len(h.fake.Requests()) == 0 {
			time.Sleep(10 * time.Millisecond)
			synctest.Wait()
		}
		h.enqueue(t, notification("Other", ch, "firing", "warning", "o"))
		h.settle(t, time.Minute)
		got := headers(h.fake.Messages(ch))
		if len(got) != 2 || !strings.Contains(got[0], "Other") {
			t.Errorf("messages %q: the warning should go out while the failing critical entry backs off; requests %+v", got, h.fake.Requests())
		}
	})
}

func TestRepeatNotifications(t *testing.T) {
	for _, tt := range []struct {
		name    string
		ro      RouteOptions
		replies int
	}{
		{"ignored by default", RouteOptions{ThreadReplies: true}, 0},
		{"bumped in the thread with repeat: thread", RouteOptions{ThreadReplies: true, RepeatInThread: true}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, slackfake.SlackRateLimits(), limits{}, tt.ro)
				const ch = "C0REPEAT01"
				h.enqueue(t, notification("G", ch, "firing", "warning", "a"))
				h.settle(t, time.Minute)
				time.Sleep(time.Hour) // Alertmanager's repeat_interval
				h.enqueue(t, notification("G", ch, "firing", "warning", "a"))
				h.settle(t, time.Minute)
				m := h.fake.Messages(ch)[0]
				if m.Edits != 0 || len(m.Replies) != tt.replies {
					t.Errorf("after a repeat: %d edits, %d replies; want 0 edits, %d replies", m.Edits, len(m.Replies), tt.replies)
				}
				if tt.replies > 0 && !strings.Contains(m.Replies[0].Text, "Still firing") {
					t.Errorf("reply %q", m.Replies[0].Text)
				}
			})
		})
	}
}
