package interact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/redisstore"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// bob is the acknowledger of the reminder tests.
var bob = alertgroup.User{ID: "U0002BOB", Name: "bob"}

// reminderEnv is a running Handler that reminds after an hour, on a fake
// clock, posting to the fake Slack, with a group whose message is in the
// fake Slack and that bob acknowledged at ackedAt.
type reminderEnv struct {
	*env
	slack   *slackServer
	clock   *testClock
	parent  string // the group's message ts
	ackedAt time.Time
}

func newReminderEnv(t *testing.T, o Options, ack bool) *reminderEnv {
	t.Helper()
	s := newSlackServer(t)
	_, parent, err := s.api.PostMessage(testChannel, slack.MsgOptionText("DiskFull firing", false))
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)}
	o.Slack, o.Now = s.api, clock.Now
	o.AckReminder = time.Hour
	o.AckMode = cmpOr(o.AckMode, AckModeState)
	// Passes run from the tests, at the clock's times.
	o.AckReminderInterval = -1
	e := &reminderEnv{env: newEnv(t, o), slack: s, clock: clock, parent: parent, ackedAt: clock.Now()}
	seedGroup(t, e.groups.Groups, func(g *alertgroup.Group) {
		g.TS = parent
		if ack {
			g.State.Acked = &alertgroup.Mark{By: bob, At: e.ackedAt}
		}
	})
	return e
}

// group returns the stored group.
func (e *reminderEnv) group(t *testing.T) alertgroup.Group {
	t.Helper()
	g, found, err := e.groups.ByMessage(t.Context(), testChannel, e.parent)
	if err != nil || !found {
		t.Fatalf("ByMessage() = found %v, err %v", found, err)
	}
	return g
}

// remindAt runs one pass at ackedAt+after and returns the replies posted
// in the group's thread since the last call.
func (e *reminderEnv) remindAt(t *testing.T, after time.Duration, seen *int) []slackfake.Message {
	t.Helper()
	setClock(e.clock, e.ackedAt.Add(after))
	if err := e.h.RemindAcks(t.Context()); err != nil {
		t.Fatalf("RemindAcks at +%s: %v", after, err)
	}
	m, ok := e.slack.fake.Message(testChannel, e.parent)
	if !ok {
		t.Fatal("the group's message is gone from the fake Slack")
	}
	replies := m.Replies[*seen:]
	*seen = len(m.Replies)
	return replies
}

// clickReminder clicks the button action of the reminder reply in the
// group's thread, as bob, and returns what the clicker is told.
func (e *reminderEnv) clickReminder(t *testing.T, reply slackfake.Message, action, value, name string) string {
	t.Helper()
	p := payload(t, clickSpec{action: action, value: value, user: bob.ID, name: bob.Name, responseURL: e.sink.url(name), ts: reply.TS})
	var m map[string]any
	if err := json.Unmarshal(p, &m); err != nil {
		t.Fatal(err)
	}
	// Slack names the thread of a reply in container and message.
	m["container"].(map[string]any)["thread_ts"] = e.parent
	m["message"].(map[string]any)["thread_ts"] = e.parent
	p, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(p, &cb); err != nil {
		t.Fatal(err)
	}
	e.h.Dispatch(t.Context(), cb)
	return e.sink.next(t)
}

// buttonValue returns the value of the reply's button with the action_id.
func buttonValue(t *testing.T, m slackfake.Message, action string) string {
	t.Helper()
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		for _, el := range b.Elements {
			if el.ActionID == action {
				return el.Value
			}
		}
	}
	t.Fatalf("no %s button in %s", action, m.Blocks)
	return ""
}

// checkReminder checks that replies are one reminder for bob with the
// renew and unack buttons.
func checkReminder(t *testing.T, replies []slackfake.Message, since string) slackfake.Message {
	t.Helper()
	if len(replies) != 1 {
		t.Fatalf("replies = %d, want one reminder", len(replies))
	}
	r := replies[0]
	if !strings.HasPrefix(r.Text, "⏰ <@U0002BOB>: DiskFull is still firing ") || !strings.Contains(r.Text, since) {
		t.Errorf("reminder text = %q, want it to mention bob and say %q", r.Text, since)
	}
	if got := r.ActionIDs(); !slices.Equal(got, []string{ActionAckRenew, ActionUnack}) {
		t.Errorf("reminder buttons = %v", got)
	}
	return r
}

func TestAckReminderFiresOnce(t *testing.T) {
	e := newReminderEnv(t, Options{}, true)
	seen := 0
	for _, after := range []time.Duration{0, 59 * time.Minute} {
		if got := e.remindAt(t, after, &seen); len(got) > 0 {
			t.Fatalf("reminder at +%s, before the hour: %q", after, got[0].Text)
		}
	}
	checkReminder(t, e.remindAt(t, time.Hour, &seen), "1h after you acknowledged it")
	if got := e.group(t).State.AckReminded; !got.Equal(e.ackedAt.Add(time.Hour)) {
		t.Errorf("AckReminded = %v, want %v", got, e.ackedAt.Add(time.Hour))
	}
	for _, after := range []time.Duration{time.Hour + time.Minute, 5 * time.Hour} {
		if got := e.remindAt(t, after, &seen); len(got) > 0 {
			t.Errorf("second reminder at +%s: %q", after, got[0].Text)
		}
	}
	if got := testutil.ToFloat64(e.h.rmetrics.reminders.WithLabelValues(reminderPosted)); got != 1 {
		t.Errorf("amslack_ack_reminders_total{result=posted} = %v, want 1", got)
	}
}

// TestAckReminderRenew checks that Still on it, clicked on the reminder in
// the thread, restarts the reminder period from the click and extends the
// acknowledgement silence.
func TestAckReminderRenew(t *testing.T) {
	am := &fakeAM{}
	e := newReminderEnv(t, Options{Silences: am, AckMode: AckModeSilence, AckDuration: 15 * time.Minute}, false)
	// Acknowledged with a silence, as the ack button does.
	_, err := e.groups.Update(t.Context(), e.group(t).Key, func(g *alertgroup.Group, _ bool) error {
		g.State.Acked = &alertgroup.Mark{By: bob, At: e.ackedAt, Until: e.ackedAt.Add(15 * time.Minute), SilenceID: "ack-1"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	r := checkReminder(t, e.remindAt(t, time.Hour, &seen), "1h after you acknowledged it")

	setClock(e.clock, e.ackedAt.Add(time.Hour+10*time.Minute))
	reply := e.clickReminder(t, r, ActionAckRenew, buttonValue(t, r, ActionAckRenew), "renew")
	if !strings.HasPrefix(reply, "Noted: you are still on it. amslack reminds you again in 1h") ||
		!strings.Contains(reply, "silence now lasts until 2026-11-29 15:25 UTC") {
		t.Errorf("reply = %q", reply)
	}
	renewed := e.ackedAt.Add(time.Hour + 10*time.Minute)
	g := e.group(t)
	if !g.State.AckRenewed.Equal(renewed) || g.State.Acked == nil || g.State.Acked.By != bob {
		t.Errorf("state after renewal = %+v, want renewed at %v, still bob's", g.State, renewed)
	}
	creates := am.creates()
	if len(creates) != 1 || creates[0].ID != "ack-1" || !creates[0].EndsAt.Equal(renewed.Add(15*time.Minute)) {
		t.Errorf("silence updates = %+v, want ack-1 extended to %v", creates, renewed.Add(15*time.Minute))
	}

	for _, after := range []time.Duration{2 * time.Hour, 2*time.Hour + 9*time.Minute} {
		if got := e.remindAt(t, after, &seen); len(got) > 0 {
			t.Fatalf("reminder at +%s, before an hour after the renewal: %q", after, got[0].Text)
		}
	}
	checkReminder(t, e.remindAt(t, 2*time.Hour+10*time.Minute, &seen), "1h after you said you were still on it")
}

// TestAckReminderStops checks that an unack, from the reminder's button in
// the thread, and a resolve stop the reminders.
func TestAckReminderStops(t *testing.T) {
	t.Run("unack", func(t *testing.T) {
		e := newReminderEnv(t, Options{}, true)
		seen := 0
		r := checkReminder(t, e.remindAt(t, time.Hour, &seen), "1h after")
		// Bob renews, then takes the acknowledgement back before the next
		// reminder.
		setClock(e.clock, e.ackedAt.Add(time.Hour+5*time.Minute))
		e.clickReminder(t, r, ActionAckRenew, buttonValue(t, r, ActionAckRenew), "renew")
		if reply := e.clickReminder(t, r, ActionUnack, buttonValue(t, r, ActionUnack), "unack"); reply != "Acknowledgement removed." {
			t.Fatalf("unack reply = %q", reply)
		}
		if a := e.group(t).State.Acked; a != nil {
			t.Fatalf("Acked after unack = %+v", a)
		}
		if got := e.remindAt(t, 3*time.Hour, &seen); len(got) > 0 {
			t.Errorf("reminder after unack: %q", got[0].Text)
		}
	})
	t.Run("resolve", func(t *testing.T) {
		e := newReminderEnv(t, Options{}, true)
		_, err := e.groups.Update(t.Context(), e.group(t).Key, func(g *alertgroup.Group, _ bool) error {
			g.Status, g.ResolvedAt = alertgroup.StatusResolved, e.ackedAt.Add(30*time.Minute)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		if got := e.remindAt(t, 2*time.Hour, &seen); len(got) > 0 {
			t.Errorf("reminder after resolve: %q", got[0].Text)
		}
	})
}

// TestAckRenewRefused checks that Still on it on a group nobody
// acknowledges, or that resolved, tells the clicker and changes nothing.
func TestAckRenewRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		ack, resolve bool
		want         string
	}{
		"not acknowledged": {want: "This alert group is not acknowledged (any more), so there is nothing to renew. Nothing was changed."},
		"resolved":         {ack: true, resolve: true, want: "This alert group resolved at 2026-11-29 14:30 UTC; nothing was done."},
	} {
		t.Run(name, func(t *testing.T) {
			e := newReminderEnv(t, Options{}, tc.ack)
			if tc.resolve {
				_, err := e.groups.Update(t.Context(), e.group(t).Key, func(g *alertgroup.Group, _ bool) error {
					g.Status, g.ResolvedAt = alertgroup.StatusResolved, e.ackedAt.Add(30*time.Minute)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			before := e.group(t)
			reply := e.clickReminder(t, slackfake.Message{TS: "1764429999.000100"}, ActionAckRenew, "1764429122", "renew")
			if reply != tc.want {
				t.Errorf("reply = %q\nwant %q", reply, tc.want)
			}
			if after := e.group(t); !after.State.AckRenewed.Equal(before.State.AckRenewed) {
				t.Errorf("AckRenewed changed to %v", after.State.AckRenewed)
			}
			if got := e.audit.decisions(t); !slices.Equal(got, []string{DecisionDenied}) {
				t.Errorf("audit decisions = %v, want denied", got)
			}
		})
	}
}

// TestAckReminderRetried checks that a reminder Slack refused is posted on
// the next pass, once.
func TestAckReminderRetried(t *testing.T) {
	e := newReminderEnv(t, Options{}, true)
	e.slack.fake.FailNext("chat.postMessage", 1, 0, "internal_error")
	setClock(e.clock, e.ackedAt.Add(time.Hour))
	if err := e.h.RemindAcks(t.Context()); err == nil || !strings.Contains(err.Error(), "internal_error") {
		t.Fatalf("RemindAcks with Slack failing = %v, want internal_error", err)
	}
	if got := e.group(t).State.AckReminded; !got.IsZero() {
		t.Errorf("AckReminded after a refused post = %v, want it taken back", got)
	}
	seen := 0
	checkReminder(t, e.remindAt(t, time.Hour+15*time.Second, &seen), "1h after")
	if got := e.remindAt(t, time.Hour+30*time.Second, &seen); len(got) > 0 {
		t.Errorf("reminder posted again: %q", got[0].Text)
	}
	if got := testutil.ToFloat64(e.h.rmetrics.reminders.WithLabelValues(reminderFailed)); got != 1 {
		t.Errorf("amslack_ack_reminders_total{result=failed} = %v, want 1", got)
	}
}

// TestAckReminderReplicas runs two Handlers, as two replicas, on one Redis
// store, each passing several times at once: the reminder is posted once.
func TestAckReminderReplicas(t *testing.T) {
	prefix := storetest.RedisPrefix(t, storetest.RedisClient(t))
	s := newSlackServer(t)
	_, parent, err := s.api.PostMessage(testChannel, slack.MsgOptionText("DiskFull firing", false))
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)}
	var hs [2]*Handler
	for i := range hs {
		st := redisstore.New(storetest.RedisClient(t), prefix)
		if i == 0 {
			seedGroup(t, st, func(g *alertgroup.Group) {
				g.TS = parent
				g.State.Acked = &alertgroup.Mark{By: bob, At: clock.Now()}
			})
		}
		hs[i], err = New(Options{SigningSecret: testSecret, Groups: st, Slack: s.api, Now: clock.Now, AckReminder: time.Hour, AckMode: AckModeState})
		if err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(time.Hour)
	var wg sync.WaitGroup
	for _, h := range hs {
		for range 8 {
			wg.Go(func() {
				if err := h.RemindAcks(t.Context()); err != nil {
					t.Errorf("RemindAcks: %v", err)
				}
			})
		}
	}
	wg.Wait()
	m, _ := s.fake.Message(testChannel, parent)
	if len(m.Replies) != 1 {
		t.Errorf("reminders posted by both replicas = %d, want 1", len(m.Replies))
	}
}

func TestUnposted(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{slack.SlackErrorResponse{Err: "channel_not_found"}, true},
		{fmt.Errorf("post: %w", &slack.RateLimitedError{RetryAfter: time.Second}), true},
		{slack.StatusCodeError{Code: 503}, true},
		{context.DeadlineExceeded, false},
		{&url.Error{Op: "Post", URL: "https://slack.com/api/chat.postMessage", Err: errors.New("connection reset")}, false},
	} {
		if got := unposted(tc.err); got != tc.want {
			t.Errorf("unposted(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
