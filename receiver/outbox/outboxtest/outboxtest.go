// Package outboxtest owns the conformance suite of outbox.Queue: the
// behaviour that the sender and the dead-letter API rely on and that every
// implementation shares, checked by Run from each implementation's tests,
// and the notifications the suite enqueues.
package outboxtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/alertmanager/template"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/outbox"
)

// cmpOpts compares entries, which hold template.Data with its unexported
// field that JSON never carries, and the Fence of their claim, which the
// suite checks on its own.
var cmpOpts = cmp.Options{
	cmpopts.IgnoreUnexported(template.Data{}),
	cmpopts.IgnoreFields(outbox.Entry{}, "Fence"),
}

// Epoch is the time around which the suite stamps its notifications, and
// where the clock it gives a queue starts.
var Epoch = time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)

// Channel is the suite's destination.
const Channel = "C0123456789"

// Key returns the key of the group named group in Channel.
func Key(group string) alertgroup.Key {
	return alertgroup.Key{Receiver: "team-db", GroupKey: `{}:{alertname="` + group + `"}`, Channel: Channel}
}

// Note returns a notification for group with one alert of severity (none
// if empty), received at at.
func Note(group, severity string, at time.Time) alertgroup.Notification {
	k := Key(group)
	labels := template.KV{"alertname": group}
	if severity != "" {
		labels["severity"] = severity
	}
	return alertgroup.Notification{
		Key:   k,
		Route: "db",
		Message: &alertgroup.Message{
			Data: &template.Data{
				Receiver:     k.Receiver,
				Status:       "firing",
				Alerts:       template.Alerts{{Status: "firing", Labels: labels, Fingerprint: group + "-fp", StartsAt: at}},
				GroupLabels:  template.KV{"alertname": group},
				CommonLabels: labels,
			},
			Version:  "4",
			GroupKey: k.GroupKey,
		},
		ReceivedAt: at,
	}
}

// Fixture returns the Alertmanager notification in storetest's testdata
// file name (see storetest.Message), bound for Channel and received at at.
func Fixture(t testing.TB, name string, at time.Time) alertgroup.Notification {
	t.Helper()
	m := storetest.Message(t, name)
	return alertgroup.Notification{
		Key:        alertgroup.Key{Receiver: m.Receiver, GroupKey: m.GroupKey, Channel: Channel},
		Route:      "default",
		Message:    m,
		ReceivedAt: at,
	}
}

// Distinct returns a copy of base for its own alert group, the i-th.
func Distinct(base alertgroup.Notification, i int64) alertgroup.Notification {
	n := base
	n.Key.GroupKey = fmt.Sprintf("%s/%d", base.Key.GroupKey, i)
	return n
}

// Config is what the suite asks of a queue it opens.
type Config struct {
	// Now is the queue's clock.
	Now func() time.Time
	// DeadLetterLimit is the queue's limit of dead letters, 0 for none.
	DeadLetterLimit int
}

// Run checks the behaviour every outbox.Queue shares. open returns an
// empty queue configured as cfg says, that lives as long as its test. A
// queue that is an outbox.Leaser is checked as one too; the suite takes
// the lease of a channel before it claims from it.
func Run(t *testing.T, open func(t *testing.T, cfg Config) outbox.Queue) {
	for _, tc := range []struct {
		name string
		test func(h *harness)
		cfg  Config
	}{
		{name: "Coalesce", test: testCoalesce},
		{name: "NewerWaitsBehindInFlight", test: testNewerWaitsBehindInFlight},
		{name: "RetryMergesNewer", test: testRetryMergesNewer},
		{name: "ClaimOrder", test: testClaimOrder},
		{name: "RetryBackoff", test: testRetryBackoff},
		{name: "Refresh", test: testRefresh},
		{name: "Channels", test: testChannels},
		{name: "EnqueueErrors", test: testEnqueueErrors},
		{name: "ConcurrentEnqueue", test: testConcurrentEnqueue},
		{name: "ConcurrentEnqueueOneKey", test: testConcurrentEnqueueOneKey},
		{name: "DeadLetters", test: testDeadLetters},
		{name: "RetryDeadStartsANewAge", test: testRetryDeadStartsANewAge},
		{name: "DeadLetterPage", test: testDeadLetterPage},
		{name: "DeadLetterLimit", test: testDeadLetterLimit, cfg: Config{DeadLetterLimit: 3}},
		{name: "PruneDead", test: testPruneDead},
		{name: "Lease", test: testLease},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(newHarness(t, open, tc.cfg)) })
	}
}

// harness is one test's queue, its clock and the leases it took.
type harness struct {
	t *testing.T
	q outbox.Queue

	// mu guards now and leases.
	mu     sync.Mutex
	now    time.Time
	leases map[string]outbox.Lease
}

func newHarness(t *testing.T, open func(*testing.T, Config) outbox.Queue, cfg Config) *harness {
	h := &harness{t: t, now: Epoch, leases: map[string]outbox.Lease{}}
	cfg.Now = h.clock
	h.q = open(t, cfg)
	t.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for ch, l := range h.leases {
			if err := l.Release(context.Background()); err != nil {
				t.Errorf("release the lease of %s: %v", ch, err)
			}
		}
	})
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) set(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = now
}

// lease takes the lease of channel, if the queue has leases, for the rest
// of the test.
func (h *harness) lease(channel string) {
	h.t.Helper()
	l, ok := h.q.(outbox.Leaser)
	if !ok {
		return
	}
	h.mu.Lock()
	_, held := h.leases[channel]
	h.mu.Unlock()
	if held {
		return
	}
	lease, ok, err := l.Lease(h.t.Context(), channel)
	if err != nil || !ok {
		h.t.Fatalf("Lease(%s) = %v, %v; want the lease", channel, ok, err)
	}
	h.mu.Lock()
	h.leases[channel] = lease
	h.mu.Unlock()
}

func (h *harness) enqueue(n alertgroup.Notification) {
	h.t.Helper()
	if err := h.q.Enqueue(h.t.Context(), n); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) claimFrom(channel string, now time.Time) outbox.Entry {
	h.t.Helper()
	h.lease(channel)
	got, ok, _ := h.q.Claim(channel, now)
	if !ok {
		h.t.Fatalf("Claim(%s) found nothing ready", channel)
	}
	return got
}

func (h *harness) claim(now time.Time) outbox.Entry {
	h.t.Helper()
	return h.claimFrom(Channel, now)
}

func (h *harness) nothingReady(now, wantNext time.Time) {
	h.t.Helper()
	h.lease(Channel)
	got, ok, next := h.q.Claim(Channel, now)
	if ok {
		h.t.Fatalf("Claim returned %d for %v, want nothing ready", got.ID, got.Notification.Key)
	}
	if !next.Equal(wantNext) {
		h.t.Errorf("next = %v, want %v", next, wantNext)
	}
}

func (h *harness) done(e outbox.Entry) {
	h.t.Helper()
	if err := h.q.Done(h.t.Context(), e); err != nil {
		h.t.Fatal(err)
	}
}

// retry makes e pending again from at on; cause, if not empty, is the
// error of its failed delivery.
func (h *harness) retry(e outbox.Entry, at time.Time, cause string) {
	h.t.Helper()
	var failure error
	if cause != "" {
		failure = errors.New(cause)
	}
	if err := h.q.Retry(h.t.Context(), e, at, failure); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) retryDead(id uint64) {
	h.t.Helper()
	if err := h.q.RetryDead(h.t.Context(), id); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) deadLetter(e outbox.Entry, cause string) {
	h.t.Helper()
	if err := h.q.DeadLetter(h.t.Context(), e, errors.New(cause)); err != nil {
		h.t.Fatal(err)
	}
}

// drain claims every ready entry of Channel at now, and returns them by
// key; each stays in flight.
func (h *harness) drain(now time.Time) map[alertgroup.Key]outbox.Entry {
	h.t.Helper()
	h.lease(Channel)
	got := map[alertgroup.Key]outbox.Entry{}
	for {
		e, ok, _ := h.q.Claim(Channel, now)
		if !ok {
			return got
		}
		if _, dup := got[e.Notification.Key]; dup {
			h.t.Errorf("two entries of %v claimed at once", e.Notification.Key)
		}
		got[e.Notification.Key] = e
	}
}

func (h *harness) channels(want ...string) {
	h.t.Helper()
	got := h.q.Channels()
	if diff := cmp.Diff(got, want, cmpopts.EquateEmpty()); diff != "" {
		h.t.Errorf("Channels (-got +want):\n%s", diff)
	}
}

func (h *harness) deadIDs() []uint64 {
	h.t.Helper()
	ds, err := h.q.DeadLetters(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	return deadIDs(ds)
}

func deadIDs(ds []outbox.DeadLetter) []uint64 {
	ids := []uint64{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func woken(q outbox.Queue) bool {
	select {
	case <-q.Wake():
		return true
	default:
		return false
	}
}

// testCoalesce checks that notifications of one group become one entry,
// which keeps the first one's place and age and delivers the newest.
func testCoalesce(h *harness) {
	t := h.t
	first := Fixture(t, "v035-firing.json", Epoch)
	second := Fixture(t, "v035-firing.json", Epoch.Add(time.Minute))
	newest := Fixture(t, "v035-resolved.json", Epoch.Add(2*time.Minute))
	h.enqueue(first)
	if !woken(h.q) {
		t.Error("Enqueue did not signal Wake")
	}
	h.enqueue(newest)
	h.enqueue(second)
	h.channels(Channel)

	got := h.claim(Epoch)
	want := outbox.Entry{ID: got.ID, Kind: outbox.KindNotify, Notification: newest, Priority: 0, FirstAt: Epoch}
	if diff := cmp.Diff(got, want, cmpOpts); diff != "" {
		t.Errorf("claimed (-got +want):\n%s", diff)
	}
	h.nothingReady(Epoch, time.Time{})
	h.channels()
	h.done(got)
	h.nothingReady(Epoch.Add(time.Hour), time.Time{})
	h.channels()
}

// testNewerWaitsBehindInFlight checks that a notification of a group in
// flight waits for it, coalescing with the next ones, and that settling
// the entry in flight lets it go.
func testNewerWaitsBehindInFlight(h *harness) {
	t := h.t
	h.enqueue(Note("A", "warning", Epoch))
	a := h.claim(Epoch)

	b := Note("A", "warning", Epoch.Add(time.Minute))
	c := Note("A", "critical", Epoch.Add(2*time.Minute))
	h.enqueue(b)
	h.enqueue(c)
	h.nothingReady(Epoch.Add(time.Hour), time.Time{})
	h.channels(Channel)

	woken(h.q)
	h.done(a)
	if !woken(h.q) {
		t.Error("Done did not signal Wake for the entry behind")
	}
	got := h.claim(Epoch)
	want := outbox.Entry{ID: got.ID, Kind: outbox.KindNotify, Notification: c, Priority: 0, FirstAt: b.ReceivedAt}
	if diff := cmp.Diff(got, want, cmpOpts); diff != "" {
		t.Errorf("claimed after Done (-got +want):\n%s", diff)
	}
	if got.ID <= a.ID {
		t.Errorf("entry behind has ID %d, want more than the first's %d", got.ID, a.ID)
	}
	if err := h.q.Done(t.Context(), a); !errors.Is(err, outbox.ErrNotInFlight) {
		t.Errorf("second Done = %v, want ErrNotInFlight", err)
	}
	h.channels()
}

// testRetryMergesNewer checks that a retried entry takes in the newer one
// waiting behind it, keeping its place, attempts and backoff.
func testRetryMergesNewer(h *harness) {
	t := h.t
	h.enqueue(Note("A", "warning", Epoch))
	a := h.claim(Epoch)
	b := Note("A", "warning", Epoch.Add(time.Minute))
	h.enqueue(b)

	at := Epoch.Add(30 * time.Second)
	h.retry(a, at, "ratelimited")
	h.nothingReady(Epoch, at)
	h.channels(Channel)
	want := outbox.Entry{ID: a.ID, Kind: outbox.KindNotify, Notification: b, Priority: 2, Attempts: 1, NextAttempt: at, FirstAt: Epoch, LastError: "ratelimited"}
	got := h.claim(at)
	if diff := cmp.Diff(got, want, cmpOpts); diff != "" {
		t.Errorf("claimed (-got +want):\n%s", diff)
	}
	h.nothingReady(at, time.Time{})
	h.retry(got, time.Time{}, "")
	if got := h.claim(at); got.ID != a.ID || got.Attempts != 2 || got.LastError != "" || !got.NextAttempt.IsZero() {
		t.Errorf("claimed %+v after a retry without backoff, want entry %d with two attempts", got, a.ID)
	}
}

// testClaimOrder checks that a channel's entries go by priority, then age,
// and that other channels' entries are apart.
func testClaimOrder(h *harness) {
	t := h.t
	for i, g := range []struct{ group, severity string }{
		{"warn-old", "warning"},
		{"crit", "critical"},
		{"info", "info"},
		{"warn-new", "warning"},
		{"none", ""},
		{"err", "error"},
	} {
		h.enqueue(Note(g.group, g.severity, Epoch.Add(time.Duration(i)*time.Second)))
	}
	other := Note("elsewhere", "critical", Epoch)
	other.Key.Channel = "C999"
	h.enqueue(other)

	var got []string
	for range 6 {
		got = append(got, h.claim(Epoch).Notification.Key.GroupKey)
	}
	want := []string{Key("crit").GroupKey, Key("err").GroupKey, Key("warn-old").GroupKey,
		Key("warn-new").GroupKey, Key("info").GroupKey, Key("none").GroupKey}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("claim order (-got +want):\n%s", diff)
	}
	h.nothingReady(Epoch, time.Time{})
	h.channels("C999")
	if e := h.claimFrom("C999", Epoch); e.Notification.Key != other.Key {
		t.Errorf("claimed %v from C999", e.Notification.Key)
	}
}

// testRetryBackoff checks that an entry retried later waits until then,
// that the others go meanwhile, and that next says when.
func testRetryBackoff(h *harness) {
	t := h.t
	h.enqueue(Note("A", "critical", Epoch))
	h.enqueue(Note("B", "warning", Epoch))
	a := h.claim(Epoch)
	if a.Notification.Key != Key("A") {
		t.Fatalf("claimed %v first, want A", a.Notification.Key)
	}
	later := Epoch.Add(time.Minute)
	h.retry(a, later, "internal_error")
	if got := h.claim(Epoch); got.Notification.Key != Key("B") {
		t.Errorf("claimed %v while A waits, want B", got.Notification.Key)
	}
	h.nothingReady(Epoch, later)
	h.nothingReady(later.Add(-time.Nanosecond), later)

	got := h.claim(later)
	if got.ID != a.ID || got.Attempts != 1 || got.LastError != "internal_error" || !got.NextAttempt.Equal(later) {
		t.Errorf("claimed %+v, want A with one attempt", got)
	}
	h.retry(got, later.Add(time.Minute), "internal_error")
	if got := h.claim(later.Add(time.Minute)); got.Attempts != 2 {
		t.Errorf("Attempts = %d after two retries", got.Attempts)
	}
	unknown := outbox.Entry{ID: a.ID + 99, Notification: Note("A", "", Epoch)}
	if err := h.q.Retry(t.Context(), unknown, later, nil); !errors.Is(err, outbox.ErrNotInFlight) {
		t.Errorf("Retry of an unknown entry = %v, want ErrNotInFlight", err)
	}
}

// testRefresh checks how a refresh merges with a group's notifications.
func testRefresh(h *harness) {
	t := h.t
	refresh := func(group, route string, notes ...string) {
		t.Helper()
		if err := h.q.Refresh(t.Context(), Key(group), route, notes...); err != nil {
			t.Fatal(err)
		}
	}
	// Alone: a refresh entry, the newest route wins.
	refresh("alone", "db-1400")
	h.set(Epoch.Add(time.Minute))
	refresh("alone", "db-1401", "acked")
	// Into a pending notification, which must then be sent; notes add up.
	h.set(Epoch)
	h.enqueue(Note("pending", "warning", Epoch))
	h.set(Epoch.Add(time.Minute))
	refresh("pending", "db", "acked")
	refresh("pending", "db", "silenced")
	// Replaced by a notification.
	refresh("replaced", "db")
	h.enqueue(Note("replaced", "warning", Epoch.Add(2*time.Minute)))

	got := h.drain(Epoch.Add(time.Hour))
	for _, want := range []outbox.Entry{
		{Kind: outbox.KindRefresh, Notification: alertgroup.Notification{Key: Key("alone"), Route: "db-1401", ReceivedAt: Epoch.Add(time.Minute)}, FirstAt: Epoch, Notes: []string{"acked"}},
		{Kind: outbox.KindNotify, Notification: Note("pending", "warning", Epoch), Priority: 0, FirstAt: Epoch, Refreshed: true, Notes: []string{"acked", "silenced"}},
		{Kind: outbox.KindNotify, Notification: Note("replaced", "warning", Epoch.Add(2*time.Minute)), Priority: 0, FirstAt: Epoch.Add(time.Minute), Refreshed: true},
	} {
		k := want.Notification.Key
		want.ID = got[k].ID
		if diff := cmp.Diff(got[k], want, cmpOpts); diff != "" {
			t.Errorf("%s (-got +want):\n%s", k.GroupKey, diff)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d entries claimed, want 3", len(got))
	}

	// Behind a notification in flight: a refresh of its own.
	h.set(Epoch.Add(2 * time.Minute))
	refresh("pending", "db-1402")
	h.nothingReady(Epoch.Add(time.Hour), time.Time{})
	h.done(got[Key("pending")])
	r := h.claim(Epoch.Add(time.Hour))
	want := outbox.Entry{ID: r.ID, Kind: outbox.KindRefresh, Notification: alertgroup.Notification{Key: Key("pending"), Route: "db-1402", ReceivedAt: Epoch.Add(2 * time.Minute)}, FirstAt: Epoch.Add(2 * time.Minute)}
	if diff := cmp.Diff(r, want, cmpOpts); diff != "" {
		t.Errorf("refresh behind a notification (-got +want):\n%s", diff)
	}
}

// testChannels checks that Channels lists the channels with entries to
// claim now or later, and not those with entries in flight only.
func testChannels(h *harness) {
	h.channels()
	for _, ch := range []string{"C3", "C1", "C2"} {
		n := Note("G", "warning", Epoch)
		n.Key.Channel = ch
		h.enqueue(n)
	}
	h.channels("C1", "C2", "C3")
	e1 := h.claimFrom("C1", Epoch)
	h.channels("C2", "C3")
	h.retry(e1, Epoch.Add(time.Hour), "later")
	h.channels("C1", "C2", "C3")
	h.done(h.claimFrom("C2", Epoch))
	h.channels("C1", "C3")
}

// testEnqueueErrors checks that a notification without its message is
// refused.
func testEnqueueErrors(h *harness) {
	n := Note("A", "warning", Epoch)
	n.Message = nil
	if err := h.q.Enqueue(h.t.Context(), n); err == nil {
		h.t.Error("Enqueue of a notification without a message succeeded")
	}
	h.channels()
}

// testConcurrentEnqueue checks that concurrent notifications of distinct
// groups each get an entry.
func testConcurrentEnqueue(h *harness) {
	const groups = 50
	var wg sync.WaitGroup
	for i := range groups {
		wg.Go(func() {
			if err := h.q.Enqueue(context.Background(), Note(fmt.Sprint(i), "warning", Epoch)); err != nil {
				h.t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := h.drain(Epoch); len(got) != groups {
		h.t.Errorf("%d entries claimed, want %d", len(got), groups)
	}
}

// testConcurrentEnqueueOneKey checks coalescing under concurrency: each
// group ends with one entry, holding its newest notification.
func testConcurrentEnqueueOneKey(h *harness) {
	const groups, each = 4, 25
	var wg sync.WaitGroup
	for g := range groups {
		for i := range each {
			wg.Go(func() {
				if err := h.q.Enqueue(context.Background(), Note(fmt.Sprint(g), "info", Epoch.Add(time.Duration(i)*time.Second))); err != nil {
					h.t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	got := h.drain(Epoch)
	if len(got) != groups {
		h.t.Fatalf("%d entries claimed, want %d", len(got), groups)
	}
	for _, e := range got {
		if want := Epoch.Add((each - 1) * time.Second); !e.Notification.ReceivedAt.Equal(want) || !e.FirstAt.Equal(Epoch) {
			h.t.Errorf("%v holds the notification of %v since %v, want the newest of %v since %v",
				e.Notification.Key.GroupKey, e.Notification.ReceivedAt, e.FirstAt, want, Epoch)
		}
	}
}

// testDeadLetters checks the dead-letter list: what a dead letter keeps,
// retrying one (alone and into a pending entry of its group) and dropping
// one.
func testDeadLetters(h *harness) {
	t := h.t
	h.set(Epoch.Add(time.Minute))
	first := Note("A", "warning", Epoch)
	h.enqueue(first)
	h.enqueue(Note("B", "warning", Epoch))
	a := h.claim(Epoch)
	h.deadLetter(a, "channel_not_found")
	b := h.claim(Epoch)
	h.deadLetter(b, "not_in_channel")
	h.nothingReady(Epoch, time.Time{})
	h.channels()
	if err := h.q.Done(t.Context(), a); !errors.Is(err, outbox.ErrNotInFlight) {
		t.Errorf("Done of a dead letter = %v, want ErrNotInFlight", err)
	}

	ds, err := h.q.DeadLetters(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantA := outbox.Entry{ID: a.ID, Kind: outbox.KindNotify, Notification: first, Priority: 2, FirstAt: Epoch, LastError: "channel_not_found"}
	if len(ds) != 2 {
		t.Fatalf("%d dead letters, want 2", len(ds))
	}
	if diff := cmp.Diff(ds[0], outbox.DeadLetter{ID: a.ID, Entry: wantA, Cause: "channel_not_found", At: Epoch.Add(time.Minute)}, cmpOpts); diff != "" {
		t.Errorf("dead letter (-got +want):\n%s", diff)
	}
	if ds[1].ID != b.ID || ds[1].Cause != "not_in_channel" {
		t.Errorf("second dead letter = %d %q, want %d not_in_channel", ds[1].ID, ds[1].Cause, b.ID)
	}

	// Retried while a newer notification of its group waits: they coalesce,
	// and the newer one is delivered. The retry starts a new age, so the
	// entry is as old as the newer notification.
	newer := Note("A", "critical", Epoch.Add(time.Minute))
	h.enqueue(newer)
	h.retryDead(a.ID)
	got := h.claim(Epoch)
	if !got.Notification.ReceivedAt.Equal(newer.ReceivedAt) || !got.FirstAt.Equal(newer.ReceivedAt) || got.ID <= b.ID || got.Retries != 1 {
		t.Errorf("claimed ID %d received %v since %v with %d retries, want a new ID with the newer notification since %v, 1 retry",
			got.ID, got.Notification.ReceivedAt, got.FirstAt, got.Retries, newer.ReceivedAt)
	}
	h.nothingReady(Epoch, time.Time{})
	h.done(got)

	// Retried alone: a new entry without attempts, its age from now.
	h.set(Epoch.Add(time.Hour))
	h.retryDead(b.ID)
	got = h.claim(Epoch)
	if got.Notification.Key != Key("B") || got.Attempts != 0 || got.ID <= b.ID || !got.FirstAt.Equal(Epoch.Add(time.Hour)) || got.Retries != 1 {
		t.Errorf("retried dead letter = %+v", got)
	}
	h.deadLetter(got, "is_archived")
	if diff := cmp.Diff(h.deadIDs(), []uint64{got.ID}); diff != "" {
		t.Errorf("dead letters (-got +want):\n%s", diff)
	}
	if err := h.q.DropDead(t.Context(), got.ID); err != nil {
		t.Fatal(err)
	}
	if ids := h.deadIDs(); len(ids) != 0 {
		t.Errorf("dead letters %v after dropping the last", ids)
	}
	for name, f := range map[string]func(context.Context, uint64) error{"RetryDead": h.q.RetryDead, "DropDead": h.q.DropDead} {
		if err := f(t.Context(), got.ID+42); !errors.Is(err, outbox.ErrNotFound) {
			t.Errorf("%s of an unknown id = %v, want ErrNotFound", name, err)
		}
	}
}

// testRetryDeadStartsANewAge retries a dead letter that failed before, long
// after its first notification, twice: each time it is a new delivery,
// without attempts, as old as the retry, so that its first temporary
// failure is retried rather than dead-lettered for its age, and it counts
// the retries.
func testRetryDeadStartsANewAge(h *harness) {
	t := h.t
	h.enqueue(Note("A", "warning", Epoch))
	h.retry(h.claim(Epoch), time.Time{}, "ratelimited")
	h.deadLetter(h.claim(Epoch), "channel_not_found")
	now := Epoch
	for retry := 1; retry <= 2; retry++ {
		now = now.Add(48 * time.Hour)
		h.set(now)
		ids := h.deadIDs()
		if len(ids) != 1 {
			t.Fatalf("dead letters %v, want one", ids)
		}
		h.retryDead(ids[0])
		got := h.claim(now)
		if !got.FirstAt.Equal(now) || got.Attempts != 0 || got.Retries != retry {
			t.Errorf("retry %d: entry since %v with %d attempts and %d retries; want since %v, 0 attempts, %d retries",
				retry, got.FirstAt, got.Attempts, got.Retries, now, retry)
		}
		h.deadLetter(got, "channel_not_found")
	}
}

// testDeadLetterPage checks paging through the dead-letter list.
func testDeadLetterPage(h *harness) {
	t := h.t
	var ids []uint64
	for _, g := range []string{"A", "B", "C", "D", "E"} {
		h.enqueue(Note(g, "warning", Epoch))
		e := h.claim(Epoch)
		h.deadLetter(e, "channel_not_found")
		ids = append(ids, e.ID)
	}
	var pages [][]uint64
	for after := uint64(0); ; {
		ds, err := h.q.DeadLetterPage(t.Context(), after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		pages = append(pages, deadIDs(ds))
		after = ds[len(ds)-1].ID
	}
	if diff := cmp.Diff(pages, [][]uint64{ids[0:2], ids[2:4], ids[4:5]}); diff != "" {
		t.Errorf("pages (-got +want):\n%s", diff)
	}
	if ds, err := h.q.DeadLetterPage(t.Context(), ids[1]-1, 1); err != nil || len(ds) != 1 || ds[0].ID != ids[1] {
		t.Errorf("page after %d = %v, %v; want dead letter %d", ids[1]-1, deadIDs(ds), err, ids[1])
	}
	if ds, err := h.q.DeadLetterPage(t.Context(), math.MaxUint64, 10); err != nil || len(ds) != 0 {
		t.Errorf("page after the largest ID = %v, %v; want none", deadIDs(ds), err)
	}
	for _, limit := range []int{0, -1} {
		if _, err := h.q.DeadLetterPage(t.Context(), 0, limit); err == nil {
			t.Errorf("page of limit %d succeeded", limit)
		}
	}
}

// testDeadLetterLimit checks that the dead letters beyond the limit go,
// those of the entries enqueued first first, but never the one just added.
func testDeadLetterLimit(h *harness) {
	t := h.t
	// A, B and C are enqueued first; B, C and D fail for good first.
	for _, g := range []string{"A", "B", "C", "D"} {
		h.enqueue(Note(g, "warning", Epoch))
	}
	var claimed []outbox.Entry
	for range 4 {
		claimed = append(claimed, h.claim(Epoch))
	}
	for _, c := range append(claimed[1:], claimed[0]) {
		h.deadLetter(c, "channel_not_found")
	}
	// A is the entry enqueued first, but it has just been dead-lettered: it
	// stays, and the oldest of the others goes.
	want := []uint64{claimed[0].ID, claimed[2].ID, claimed[3].ID}
	if diff := cmp.Diff(h.deadIDs(), want); diff != "" {
		t.Errorf("dead letters after A (-got +want):\n%s", diff)
	}
	var more []uint64
	for _, g := range []string{"E", "F"} {
		h.enqueue(Note(g, "warning", Epoch))
		e := h.claim(Epoch)
		h.deadLetter(e, "channel_not_found")
		more = append(more, e.ID)
	}
	if diff := cmp.Diff(h.deadIDs(), []uint64{claimed[3].ID, more[0], more[1]}); diff != "" {
		t.Errorf("dead letters after F (-got +want):\n%s", diff)
	}
}

// testPruneDead checks that PruneDead deletes the dead letters that died
// before a time, and only those.
func testPruneDead(h *harness) {
	t := h.t
	var ids []uint64
	for i, g := range []string{"A", "B", "C"} {
		h.set(Epoch.Add(time.Duration(i) * time.Hour))
		h.enqueue(Note(g, "warning", Epoch))
		e := h.claim(Epoch)
		h.deadLetter(e, "channel_not_found")
		ids = append(ids, e.ID)
	}
	n, err := h.q.PruneDead(t.Context(), Epoch.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("PruneDead = %d, %v; want 1 pruned", n, err)
	}
	if diff := cmp.Diff(h.deadIDs(), ids[1:]); diff != "" {
		t.Errorf("dead letters after pruning (-got +want):\n%s", diff)
	}
	n, err = h.q.PruneDead(t.Context(), Epoch.Add(time.Hour+time.Nanosecond))
	if err != nil || n != 1 {
		t.Errorf("PruneDead = %d, %v; want 1 pruned", n, err)
	}
	n, err = h.q.PruneDead(t.Context(), Epoch)
	if err != nil || n != 0 {
		t.Errorf("PruneDead of nothing old enough = %d, %v", n, err)
	}
	if diff := cmp.Diff(h.deadIDs(), ids[2:]); diff != "" {
		t.Errorf("dead letters after pruning (-got +want):\n%s", diff)
	}
}

// testLease checks, on a queue with leases, that Claim needs the channel's
// lease, and that taking the lease again puts the entries in flight under
// the lease before back in the queue, where the holder of the old lease can
// no longer settle them.
func testLease(h *harness) {
	t := h.t
	l, ok := h.q.(outbox.Leaser)
	if !ok {
		t.Skip("not an outbox.Leaser")
	}
	h.enqueue(Note("A", "warning", Epoch))
	h.enqueue(Note("B", "warning", Epoch))
	if e, ok, next := h.q.Claim(Channel, Epoch); ok || !next.IsZero() {
		t.Errorf("Claim without the lease = %d, %v, %v; want nothing", e.ID, ok, next)
	}
	first, ok, err := l.Lease(t.Context(), Channel)
	if err != nil || !ok {
		t.Fatalf("Lease = %v, %v", ok, err)
	}
	if again, ok, err := l.Lease(t.Context(), Channel); err != nil || !ok || again != first {
		t.Errorf("Lease of a channel held = %v, %v, %v; want the lease held", again, ok, err)
	}
	a, ok, _ := h.q.Claim(Channel, Epoch)
	if !ok {
		t.Fatal("Claim under the lease found nothing")
	}
	if a.Fence.Key == "" || a.Fence.Token == "" {
		t.Errorf("claimed entry has no fence: %+v", a.Fence)
	}
	if err := first.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e, ok, _ := h.q.Claim(Channel, Epoch); ok {
		t.Errorf("Claim after Release = %d, want nothing", e.ID)
	}
	select {
	case <-first.Lost():
		t.Error("a released lease is lost")
	default:
	}

	second, ok, err := l.Lease(t.Context(), Channel)
	if err != nil || !ok {
		t.Fatalf("Lease after Release = %v, %v", ok, err)
	}
	defer second.Release(context.Background())
	got := map[uint64]outbox.Entry{}
	for {
		e, ok, _ := h.q.Claim(Channel, Epoch)
		if !ok {
			break
		}
		got[e.ID] = e
	}
	back, ok := got[a.ID]
	if !ok || len(got) != 2 {
		t.Fatalf("claimed %v under the new lease, want both entries, %d back from the old lease", got, a.ID)
	}
	if back.Attempts != 0 || back.Fence == a.Fence {
		t.Errorf("entry back from the old lease has %d attempts and fence %+v, want none and a new fence", back.Attempts, back.Fence)
	}
	for name, f := range map[string]func() error{
		"Done":       func() error { return h.q.Done(t.Context(), a) },
		"Retry":      func() error { return h.q.Retry(t.Context(), a, time.Time{}, nil) },
		"DeadLetter": func() error { return h.q.DeadLetter(t.Context(), a, errors.New("x")) },
	} {
		if err := f(); !errors.Is(err, outbox.ErrLeaseLost) {
			t.Errorf("%s under the old lease = %v, want ErrLeaseLost", name, err)
		}
	}
	h.done(back)
	if ids := h.deadIDs(); len(ids) != 0 {
		t.Errorf("dead letters %v after a DeadLetter under an old lease", ids)
	}
}
