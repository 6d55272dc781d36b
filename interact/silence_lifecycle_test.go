package interact

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/boltstore"
	"github.com/amslack/amslack/receiver/alertgroup/redisstore"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
	"github.com/amslack/amslack/render"
)

// lifecycleEnv is a real Alertmanager holding the fixture's alerts, a
// store, a fake Slack with the group's message, and the Handlers that
// follow the group's silences on one clock, one after another (a restart)
// or side by side (replicas). The handlers' loops do not run: tests call
// FollowSilences.
type lifecycleEnv struct {
	am     *amtest.Alertmanager
	client *amclient.Client
	store  *boltstore.Store
	slack  *slackServer
	clock  *testClock
	notes  *escalationRefresher
	sink   *sink
	parent string
	lead   time.Duration
}

func newLifecycleEnv(t *testing.T, lead time.Duration) *lifecycleEnv {
	t.Helper()
	am, client, _ := startAlertmanager(t)
	e := &lifecycleEnv{
		am: am, client: client, store: openStore(t), slack: newSlackServer(t),
		clock: &testClock{t: time.Now()}, notes: &escalationRefresher{}, sink: newSink(t), lead: lead,
	}
	_, parent, err := e.slack.api.PostMessage(testChannel, slack.MsgOptionText("DiskFull firing", false))
	if err != nil {
		t.Fatal(err)
	}
	e.parent = parent
	seedGroup(t, e.store, func(g *alertgroup.Group) { g.TS = parent })
	return e
}

// handler starts a Handler on the environment's store, as a restarted or
// another replica of amslack does, and stops it when the test ends or
// stop is called.
func (e *lifecycleEnv) handler(t *testing.T) (h *Handler, reg *prometheus.Registry, stop func()) {
	t.Helper()
	reg = prometheus.NewRegistry()
	h, err := New(Options{
		SigningSecret: testSecret, Groups: e.store, Refresher: e.notes, Silences: e.client, Slack: e.slack.api,
		Now: e.clock.Now, Registerer: reg, SilenceExpiryLead: e.lead,
		SilenceFollowInterval: -1, HomeRefresh: -1, ReconcileInterval: -1, AckReminderInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run() = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return h, reg, stop
}

// group returns the stored group.
func (e *lifecycleEnv) group(t *testing.T) alertgroup.Group {
	t.Helper()
	g, found, err := e.store.ByMessage(t.Context(), testChannel, e.parent)
	if err != nil || !found {
		t.Fatalf("ByMessage() = found %v, err %v", found, err)
	}
	return g
}

// replies returns the replies in the group's thread.
func (e *lifecycleEnv) replies(t *testing.T) []slackfake.Message {
	t.Helper()
	m, ok := e.slack.fake.Message(testChannel, e.parent)
	if !ok {
		t.Fatal("the group's message is gone from the fake Slack")
	}
	return m.Replies
}

// follow runs one pass of h at the clock's time and returns the notes
// queued since the last call.
func (e *lifecycleEnv) follow(t *testing.T, h *Handler) []string {
	t.Helper()
	if err := h.FollowSilences(t.Context()); err != nil {
		t.Fatalf("FollowSilences at %s: %v", e.clock.Now().Format(time.TimeOnly), err)
	}
	return e.notes.take()
}

// click dispatches a click by alice on the message or, with reply set, on
// that reply in its thread, and returns what she is told.
func (e *lifecycleEnv) click(t *testing.T, h *Handler, reply *slackfake.Message, action, value, name string) string {
	t.Helper()
	spec := clickSpec{action: action, value: value, user: "U0001ALICE", name: "alice", responseURL: e.sink.url(name), ts: e.parent}
	if reply != nil {
		spec.ts = reply.TS
	}
	var p map[string]any
	if err := json.Unmarshal(payload(t, spec), &p); err != nil {
		t.Fatal(err)
	}
	if reply != nil {
		// Slack names the thread of a reply in container and message.
		p["container"].(map[string]any)["thread_ts"] = e.parent
		p["message"].(map[string]any)["thread_ts"] = e.parent
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(b, &cb); err != nil {
		t.Fatal(err)
	}
	h.Dispatch(t.Context(), cb)
	return e.sink.next(t)
}

// TestSilenceLifecycleAgainstAlertmanager follows a silence of 3 minutes
// made from Slack, with a lead of 1 minute, on the handler's clock: the
// warning comes once, Extend 1h lengthens the silence in Alertmanager, and
// the end is noted once, with the message back to firing; restarts
// between the steps and a second replica at the end change nothing.
func TestSilenceLifecycleAgainstAlertmanager(t *testing.T) {
	e := newLifecycleEnv(t, time.Minute)
	start := e.clock.Now()
	h1, reg1, stop1 := e.handler(t)

	if got := e.click(t, h1, nil, ActionSilence, "3m", "silence"); !strings.HasPrefix(got, "Silenced for 3m") {
		t.Fatalf("silence reply = %q", got)
	}
	if notes := e.notes.take(); len(notes) != 1 || !strings.HasPrefix(notes[0], "🔕 Silenced by <@U0001ALICE> for 3m") {
		t.Fatalf("notes of the silence = %q", notes)
	}
	id := e.group(t).State.Silenced.SilenceID

	// Seen: amslack made it and said so already.
	setClock(e.clock, start.Add(time.Second))
	if notes := e.follow(t, h1); len(notes) > 0 {
		t.Errorf("notes for a silence made from Slack = %q", notes)
	}
	if rec, ok := e.group(t).State.FollowedSilences[id]; !ok || !rec.FromSlack || rec.EndsAt.Sub(start.Add(3*time.Minute)).Abs() > time.Second {
		t.Errorf("followed record = %+v, %v", rec, ok)
	}
	if n := len(e.replies(t)); n != 0 {
		t.Errorf("%d thread replies before the lead", n)
	}

	// Expiring, once.
	setClock(e.clock, start.Add(2*time.Minute+time.Second))
	e.follow(t, h1)
	e.follow(t, h1)
	replies := e.replies(t)
	if len(replies) != 1 {
		t.Fatalf("replies after the lead = %d, want one warning", len(replies))
	}
	warning := replies[0]
	if !strings.HasPrefix(warning.Text, "⏳ Silence by <@U0001ALICE> expires in 1m") {
		t.Errorf("warning = %q", warning.Text)
	}
	if got := warning.ActionIDs(); !slices.Equal(got, []string{ActionSilenceExtend, ActionSilenceExpire}) {
		t.Errorf("warning buttons = %v", got)
	}
	if v := buttonValue(t, warning, ActionSilenceExtend); v != id {
		t.Errorf("Extend carries %q, want the silence id %q", v, id)
	}
	if got := testutil.ToFloat64(h1.lmetrics.notes.WithLabelValues(noteExpiring, notePosted)); got != 1 {
		t.Errorf("amslack_silence_notes_total{kind=expiring,result=posted} = %v, want 1", got)
	}

	// A restart: the warning stays posted once.
	stop1()
	_ = reg1
	h2, _, stop2 := e.handler(t)
	if notes := e.follow(t, h2); len(notes) > 0 || len(e.replies(t)) != 1 {
		t.Errorf("after a restart: notes %q, %d replies", notes, len(e.replies(t)))
	}

	// Extend 1h, from the warning.
	if got := e.click(t, h2, &warning, ActionSilenceExtend, id, "extend"); !strings.HasPrefix(got, "Silence ") || !strings.Contains(got, " extended by 1h, until ") {
		t.Fatalf("extend reply = %q", got)
	}
	if notes := e.notes.take(); len(notes) != 1 || !strings.HasPrefix(notes[0], "⏩ Silence extended by <@U0001ALICE> by 1h, until ") {
		t.Errorf("notes of the extension = %q", notes)
	}
	mark := e.group(t).State.Silenced
	wantEnd := start.Add(time.Hour + 3*time.Minute)
	if mark == nil || mark.Until.Sub(wantEnd).Abs() > time.Second {
		t.Fatalf("silenced mark after Extend = %+v, want until %v", mark, wantEnd)
	}
	s := e.am.Silence(t, mark.SilenceID)
	if s.Status.State != "active" || s.EndsAt.Sub(wantEnd).Abs() > time.Second || s.CreatedBy != "slack:alice (U0001ALICE)" {
		t.Errorf("silence in Alertmanager after Extend = %+v", s)
	}
	if active := e.am.ActiveSilences(t); len(active) != 1 {
		t.Errorf("active silences = %d, want 1", len(active))
	}
	if notes := e.follow(t, h2); len(notes) > 0 || len(e.replies(t)) != 1 {
		t.Errorf("after Extend: notes %q (the extension is amslack's own), %d replies", notes, len(e.replies(t)))
	}

	// Another restart, and two replicas past the end: the end is noted
	// once, and the message shows the group firing again.
	stop2()
	h3, _, _ := e.handler(t)
	h4, _, _ := e.handler(t)
	setClock(e.clock, wantEnd.Add(time.Second))
	var wg sync.WaitGroup
	for _, h := range []*Handler{h3, h4} {
		wg.Go(func() {
			if err := h.FollowSilences(t.Context()); err != nil {
				t.Errorf("FollowSilences: %v", err)
			}
		})
	}
	wg.Wait()
	if notes := e.notes.take(); !slices.Equal(notes, []string{"🔔 Silence expired: 2 alerts still firing"}) {
		t.Errorf("notes at the end = %q", notes)
	}
	g := e.group(t)
	if g.State.Silenced != nil {
		t.Errorf("the message still shows the silence: %+v", g.State.Silenced)
	}
	if controls := Controls(g.State, render.Options{}); slices.ContainsFunc(controls, func(c render.Control) bool { return c.ActionID == ActionUnsilence }) {
		t.Errorf("controls after the end = %v, want those of a firing group, without Unsilence", controls)
	}
	if notes := e.follow(t, h3); len(notes) > 0 || len(e.replies(t)) != 1 {
		t.Errorf("after the end: notes %q, %d replies", notes, len(e.replies(t)))
	}
	posted := testutil.ToFloat64(h3.lmetrics.notes.WithLabelValues(noteExpired, notePosted)) +
		testutil.ToFloat64(h4.lmetrics.notes.WithLabelValues(noteExpired, notePosted))
	if posted != 1 {
		t.Errorf("expired notes posted by the two replicas = %v, want 1", posted)
	}
}

// TestSilenceExpireNow expires a silence from the warning's Expire now:
// Alertmanager expires it, the thread says who did, and the pass that
// follows notes nothing more.
func TestSilenceExpireNow(t *testing.T) {
	e := newLifecycleEnv(t, time.Minute)
	start := e.clock.Now()
	h, _, _ := e.handler(t)
	e.click(t, h, nil, ActionSilence, "3m", "silence")
	e.notes.take()
	id := e.group(t).State.Silenced.SilenceID
	setClock(e.clock, start.Add(2*time.Minute+30*time.Second))
	e.follow(t, h)
	replies := e.replies(t)
	if len(replies) != 1 {
		t.Fatalf("replies = %d, want the warning", len(replies))
	}
	if got := e.click(t, h, &replies[0], ActionSilenceExpire, id, "expire"); got != "Silence "+id+" expired." {
		t.Errorf("expire reply = %q", got)
	}
	if notes := e.notes.take(); !slices.Equal(notes, []string{"🔔 Silence expired by <@U0001ALICE>"}) {
		t.Errorf("notes = %q", notes)
	}
	if st := e.am.Silence(t, id).Status.State; st != "expired" {
		t.Errorf("silence state = %q", st)
	}
	if g := e.group(t); g.State.Silenced != nil {
		t.Errorf("still marked silenced: %+v", g.State.Silenced)
	}
	setClock(e.clock, start.Add(4*time.Minute))
	if notes := e.follow(t, h); len(notes) > 0 {
		t.Errorf("notes after Expire now = %q", notes)
	}
	// A second click finds the silence gone from the group.
	if got := e.click(t, h, &replies[0], ActionSilenceExpire, id, "again"); !strings.HasPrefix(got, "Already done by you") && got != render.SilenceNotHereReply {
		t.Errorf("second expire reply = %q", got)
	}
}

// TestSilenceFromAlertmanagerUI follows a silence that someone made in
// Alertmanager over the group's alerts, in real time: the thread says who
// made it, who changed it, and, once Alertmanager ends it, that the alerts
// fire again.
func TestSilenceFromAlertmanagerUI(t *testing.T) {
	e := newLifecycleEnv(t, 0)
	e.clock = nil
	h, err := New(Options{
		SigningSecret: testSecret, Groups: e.store, Refresher: e.notes, Silences: e.client,
		SilenceFollowInterval: -1, ReconcileInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	follow := func() []string {
		t.Helper()
		if err := h.FollowSilences(t.Context()); err != nil {
			t.Fatal(err)
		}
		return e.notes.take()
	}
	now := time.Now()
	ms := []amclient.Matcher{{Name: "alertname", Value: "DiskFull", IsEqual: true}}
	id, err := e.client.CreateSilence(t.Context(), amclient.Silence{
		Matchers: ms, StartsAt: now, EndsAt: now.Add(4 * time.Second), CreatedBy: "bob", Comment: "disk swap",
	})
	if err != nil {
		t.Fatal(err)
	}
	if notes := follow(); len(notes) != 1 || !strings.HasPrefix(notes[0], "🔕 Silenced by bob until <!date^") || !strings.HasSuffix(notes[0], ": `alertname=\"DiskFull\"`") {
		t.Fatalf("notes of the new silence = %q", notes)
	}
	if notes := follow(); len(notes) > 0 {
		t.Errorf("second pass: %q", notes)
	}

	// Carol lengthens it in Alertmanager, which updates it in place.
	listed := e.am.Silence(t, id)
	if _, err := e.client.CreateSilence(t.Context(), amclient.Silence{
		ID: id, Matchers: ms, StartsAt: listed.StartsAt, EndsAt: listed.EndsAt.Add(time.Second), CreatedBy: "carol", Comment: "disk swap, slower",
	}); err != nil {
		t.Fatal(err)
	}
	if notes := follow(); len(notes) != 1 || !strings.HasPrefix(notes[0], "✏️ Silence changed in Alertmanager by carol: it now ends <!date^") {
		t.Fatalf("notes of the change = %q", notes)
	}

	// Alertmanager ends it a few seconds later.
	deadline := time.Now().Add(15 * time.Second)
	var notes []string
	for len(notes) == 0 && time.Now().Before(deadline) {
		notes = follow()
		if len(notes) == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !slices.Equal(notes, []string{"🔔 Silence expired: 2 alerts still firing"}) {
		t.Fatalf("notes at the end = %q", notes)
	}
	if notes := follow(); len(notes) > 0 {
		t.Errorf("after the end: %q", notes)
	}
	if rec := e.group(t).State.FollowedSilences[id]; rec.EndedAt.IsZero() || rec.CreatedBy != "carol" {
		t.Errorf("record = %+v", rec)
	}
}

// TestSilenceNotesReplicas runs two Handlers, as two replicas, on one
// Redis store, each passing several times at once, over a silence made in
// Alertmanager: the first sight, the warning and the end are each noted
// once.
func TestSilenceNotesReplicas(t *testing.T) {
	prefix := storetest.RedisPrefix(t, storetest.RedisClient(t))
	s := newSlackServer(t)
	_, parent, err := s.api.PostMessage(testChannel, slack.MsgOptionText("DiskFull firing", false))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
	clock := &testClock{t: start}
	am := &listingAM{fakeAM: &fakeAM{}, silences: []amclient.ListedSilence{{
		ID: "s-ui", Matchers: diskMatchers, StartsAt: start, EndsAt: start.Add(5 * time.Minute),
		CreatedBy: "bob", Comment: "disk swap", State: amclient.SilenceActive,
	}}}
	notes := &escalationRefresher{}
	var hs [2]*Handler
	for i := range hs {
		st := redisstore.New(storetest.RedisClient(t), prefix)
		if i == 0 {
			seedGroup(t, st, func(g *alertgroup.Group) { g.TS = parent })
		}
		hs[i], err = New(Options{SigningSecret: testSecret, Groups: st, Refresher: notes, Silences: am, Slack: s.api,
			Now: clock.Now, SilenceExpiryLead: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
	}
	passes := func() {
		t.Helper()
		var wg sync.WaitGroup
		for _, h := range hs {
			for range 8 {
				wg.Go(func() {
					if err := h.FollowSilences(t.Context()); err != nil {
						t.Errorf("FollowSilences: %v", err)
					}
				})
			}
		}
		wg.Wait()
	}
	passes()
	got := notes.take()
	if len(got) != 1 || !strings.HasPrefix(got[0], "🔕 Silenced by bob until ") {
		t.Errorf("notes of the first sight = %q, want one", got)
	}
	m, _ := s.fake.Message(testChannel, parent)
	if len(m.Replies) != 1 || !strings.HasPrefix(m.Replies[0].Text, "⏳ Silence by bob expires in 5m") {
		t.Errorf("warnings = %d, want one", len(m.Replies))
	}
	am.mu.Lock()
	am.silences[0].State = amclient.SilenceExpired
	am.mu.Unlock()
	clock.Add(6 * time.Minute)
	passes()
	if got := notes.take(); !slices.Equal(got, []string{"🔔 Silence expired: 2 alerts still firing"}) {
		t.Errorf("notes of the end = %q", got)
	}
}
