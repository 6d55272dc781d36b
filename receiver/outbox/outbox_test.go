package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// cmpOpts compares notifications, which hold template.Data with its
// unexported field that JSON never carries.
var cmpOpts = cmpopts.IgnoreUnexported(template.Data{})

var t0 = time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)

const channel = "C0123456789"

func key(group string) alertgroup.Key {
	return alertgroup.Key{Receiver: "team-db", GroupKey: `{}:{alertname="` + group + `"}`, Channel: channel}
}

// note returns a notification for group with one alert of severity.
func note(group, severity string, at time.Time) alertgroup.Notification {
	k := key(group)
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

// fixture returns the notification captured in testdata/name, bound for
// channel.
func fixture(t testing.TB, name string, at time.Time) alertgroup.Notification {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m alertgroup.Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return alertgroup.Notification{
		Key:        alertgroup.Key{Receiver: m.Receiver, GroupKey: m.GroupKey, Channel: channel},
		Route:      "default",
		Message:    &m,
		ReceivedAt: at,
	}
}

type env struct {
	t    testing.TB
	path string
	db   *bbolt.DB
	o    *Outbox
	reg  *prometheus.Registry
	now  time.Time
}

// newEnv opens an outbox in a new database, opened as amslack opens it,
// with a clock that stands at t0.
func newEnv(t testing.TB) *env {
	e := &env{t: t, path: t.TempDir(), now: t0}
	e.open()
	t.Cleanup(func() { e.db.Close() })
	return e
}

func (e *env) open() {
	e.t.Helper()
	db, err := OpenDB(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db = db
	e.reg = prometheus.NewRegistry()
	e.o, err = Open(db, Options{Now: func() time.Time { return e.now }, Registerer: e.reg})
	if err != nil {
		e.t.Fatal(err)
	}
}

// crash closes the database without ending the entries in flight, as a
// killed process leaves it, and opens it again.
func (e *env) crash() {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

func (e *env) enqueue(n alertgroup.Notification) {
	e.t.Helper()
	if err := e.o.Enqueue(context.Background(), n); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) claim(now time.Time) Entry {
	e.t.Helper()
	got, ok, _ := e.o.Claim(channel, now)
	if !ok {
		e.t.Fatal("Claim found nothing ready")
	}
	return got
}

func (e *env) nothingReady(now time.Time, wantNext time.Time) {
	e.t.Helper()
	got, ok, next := e.o.Claim(channel, now)
	if ok {
		e.t.Fatalf("Claim returned %v for %v, want nothing ready", got.ID, got.Notification.Key)
	}
	if !next.Equal(wantNext) {
		e.t.Errorf("next = %v, want %v", next, wantNext)
	}
}

// stored returns the entries in the database.
func (e *env) stored() []Entry {
	e.t.Helper()
	var es []Entry
	err := e.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(pendingBucket).ForEach(func(k, v []byte) error {
			en, err := decodeEntry(k, v)
			es = append(es, en)
			return err
		})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

func (e *env) metrics(want string, names ...string) {
	e.t.Helper()
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want), names...); err != nil {
		e.t.Error(err)
	}
}

func woken(o *Outbox) bool {
	select {
	case <-o.Wake():
		return true
	default:
		return false
	}
}

func TestCoalesce(t *testing.T) {
	e := newEnv(t)
	first := fixture(t, "v035-firing.json", t0)
	second := fixture(t, "v035-firing.json", t0.Add(time.Minute))
	newest := fixture(t, "v035-resolved.json", t0.Add(2*time.Minute))
	for _, n := range []alertgroup.Notification{first, second, newest} {
		e.enqueue(n)
	}
	if !woken(e.o) {
		t.Error("Enqueue did not signal Wake")
	}
	if n := e.o.Len(); n != 1 {
		t.Fatalf("Len = %d after three notifications of one group, want 1", n)
	}
	if n := len(e.stored()); n != 1 {
		t.Fatalf("%d entries stored, want 1", n)
	}
	got := e.claim(t0)
	want := Entry{
		ID:           1,
		Kind:         KindNotify,
		Notification: newest,
		Priority:     0, // critical
		FirstAt:      t0,
	}
	if diff := cmp.Diff(got, want, cmpOpts); diff != "" {
		t.Errorf("claimed (-got +want):\n%s", diff)
	}
	e.metrics(`
# HELP amslack_outbox_coalesced_total Enqueued entries that merged into a pending entry of the same alert group instead of adding one.
# TYPE amslack_outbox_coalesced_total counter
amslack_outbox_coalesced_total{kind="notify"} 2
amslack_outbox_coalesced_total{kind="refresh"} 0
# HELP amslack_outbox_enqueued_total Notifications (kind notify) and refresh requests (kind refresh) durably enqueued.
# TYPE amslack_outbox_enqueued_total counter
amslack_outbox_enqueued_total{kind="notify"} 3
amslack_outbox_enqueued_total{kind="refresh"} 0
# HELP amslack_outbox_pending Entries waiting for delivery, in flight included, per channel.
# TYPE amslack_outbox_pending gauge
amslack_outbox_pending{channel="C0123456789"} 1
`, "amslack_outbox_coalesced_total", "amslack_outbox_enqueued_total", "amslack_outbox_pending")

	if err := e.o.Done(t.Context(), got); err != nil {
		t.Fatal(err)
	}
	if n := len(e.stored()); n != 0 {
		t.Errorf("%d entries stored after Done, want 0", n)
	}
	if len(e.o.slots) != 0 || len(e.o.queues) != 0 {
		t.Errorf("index keeps %d keys and %d channels after draining", len(e.o.slots), len(e.o.queues))
	}
	if n, _ := testutil.GatherAndCount(e.reg, "amslack_outbox_pending"); n != 0 {
		t.Errorf("%d pending series after the channel drained, want 0", n)
	}
}

func TestNewerWaitsBehindInFlight(t *testing.T) {
	e := newEnv(t)
	e.enqueue(note("A", "warning", t0))
	a := e.claim(t0)

	b := note("A", "warning", t0.Add(time.Minute))
	c := note("A", "critical", t0.Add(2*time.Minute))
	e.enqueue(b)
	e.enqueue(c)
	if n := e.o.Len(); n != 2 {
		t.Errorf("Len = %d with one in flight and one pending, want 2", n)
	}
	if n := len(e.stored()); n != 2 {
		t.Errorf("%d entries stored, want 2", n)
	}
	e.nothingReady(t0.Add(time.Hour), time.Time{})
	if diff := cmp.Diff(e.o.Channels(), []string{channel}); diff != "" {
		t.Errorf("Channels (-got +want):\n%s", diff)
	}

	woken(e.o)
	if err := e.o.Done(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if !woken(e.o) {
		t.Error("Done did not signal Wake for the entry behind")
	}
	got := e.claim(t0)
	want := Entry{ID: 2, Kind: KindNotify, Notification: c, Priority: 0, FirstAt: b.ReceivedAt}
	if diff := cmp.Diff(got, want, cmpOpts); diff != "" {
		t.Errorf("claimed after Done (-got +want):\n%s", diff)
	}
	if err := e.o.Done(t.Context(), a); !errors.Is(err, ErrNotInFlight) {
		t.Errorf("second Done = %v, want ErrNotInFlight", err)
	}
	if chs := e.o.Channels(); len(chs) != 0 {
		t.Errorf("Channels = %v with only an entry in flight", chs)
	}
}

func TestRetryMergesNewer(t *testing.T) {
	e := newEnv(t)
	e.enqueue(note("A", "warning", t0))
	a := e.claim(t0)
	b := note("A", "warning", t0.Add(time.Minute))
	e.enqueue(b)

	at := t0.Add(30 * time.Second)
	if err := e.o.Retry(t.Context(), a, at, errors.New("ratelimited")); err != nil {
		t.Fatal(err)
	}
	if n := e.o.Len(); n != 1 {
		t.Errorf("Len = %d, want 1: the retried entry and the newer one become one", n)
	}
	e.nothingReady(t0, at)
	want := Entry{ID: a.ID, Kind: KindNotify, Notification: b, Priority: 2, Attempts: 1, NextAttempt: at, FirstAt: t0, LastError: "ratelimited"}
	if diff := cmp.Diff(e.stored(), []Entry{want}, cmpOpts); diff != "" {
		t.Errorf("stored (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(e.claim(at), want, cmpOpts); diff != "" {
		t.Errorf("claimed (-got +want):\n%s", diff)
	}
}

func TestSeverityPriority(t *testing.T) {
	withAlerts := func(severities ...string) alertgroup.Notification {
		n := note("G", "", t0)
		n.Message.Alerts = nil
		for _, s := range severities {
			n.Message.Alerts = append(n.Message.Alerts, template.Alert{Labels: template.KV{"severity": s}})
		}
		return n
	}
	for _, tc := range []struct {
		name string
		n    alertgroup.Notification
		want int
	}{
		{"critical", note("G", "critical", t0), 0},
		{"error", note("G", "error", t0), 1},
		{"warning", note("G", "warning", t0), 2},
		{"info", note("G", "info", t0), 3},
		{"no severity", note("G", "", t0), 4},
		{"unknown severity", note("G", "page", t0), 4},
		{"upper case", note("G", "CRITICAL", t0), 0},
		{"most severe alert wins", withAlerts("info", "critical", "warning"), 0},
		{"common label without alerts", func() alertgroup.Notification {
			n := withAlerts()
			n.Message.CommonLabels = template.KV{"severity": "warning"}
			return n
		}(), 2},
		{"refresh", alertgroup.Notification{Key: key("G")}, 0},
		{"fixture with critical and warning", fixture(t, "v035-firing.json", t0), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SeverityPriority(DefaultSeverityOrder)(tc.n); got != tc.want {
				t.Errorf("SeverityPriority = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestClaimOrder(t *testing.T) {
	e := newEnv(t)
	for i, g := range []struct{ group, severity string }{
		{"warn-old", "warning"},
		{"crit", "critical"},
		{"info", "info"},
		{"warn-new", "warning"},
		{"none", ""},
		{"err", "error"},
	} {
		e.enqueue(note(g.group, g.severity, t0.Add(time.Duration(i)*time.Second)))
	}
	other := note("elsewhere", "critical", t0)
	other.Key.Channel = "C999"
	e.enqueue(other)

	var got []string
	for range 6 {
		got = append(got, e.claim(t0).Notification.Key.GroupKey)
	}
	want := []string{key("crit").GroupKey, key("err").GroupKey, key("warn-old").GroupKey,
		key("warn-new").GroupKey, key("info").GroupKey, key("none").GroupKey}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("claim order (-got +want):\n%s", diff)
	}
	e.nothingReady(t0, time.Time{})
	if diff := cmp.Diff(e.o.Channels(), []string{"C999"}); diff != "" {
		t.Errorf("Channels (-got +want):\n%s", diff)
	}
}

func TestRetryBackoff(t *testing.T) {
	e := newEnv(t)
	e.enqueue(note("A", "critical", t0))
	e.enqueue(note("B", "warning", t0))
	a := e.claim(t0)
	if a.Notification.Key != key("A") {
		t.Fatalf("claimed %v first, want A", a.Notification.Key)
	}
	later := t0.Add(time.Minute)
	if err := e.o.Retry(t.Context(), a, later, errors.New("internal_error")); err != nil {
		t.Fatal(err)
	}
	if got := e.claim(t0); got.Notification.Key != key("B") {
		t.Errorf("claimed %v while A waits, want B", got.Notification.Key)
	}
	e.nothingReady(t0, later)
	e.nothingReady(later.Add(-time.Nanosecond), later)

	got := e.claim(later)
	if got.ID != a.ID || got.Attempts != 1 || got.LastError != "internal_error" || !got.NextAttempt.Equal(later) {
		t.Errorf("claimed %+v, want A with one attempt", got)
	}
	if err := e.o.Retry(t.Context(), got, later.Add(time.Minute), errors.New("internal_error")); err != nil {
		t.Fatal(err)
	}
	if got := e.claim(later.Add(time.Minute)); got.Attempts != 2 {
		t.Errorf("Attempts = %d after two retries", got.Attempts)
	}
	if err := e.o.Retry(t.Context(), Entry{ID: 99, Notification: note("A", "", t0)}, later, nil); !errors.Is(err, ErrNotInFlight) {
		t.Errorf("Retry of an unknown entry = %v, want ErrNotInFlight", err)
	}
}

func TestReopenAfterCrash(t *testing.T) {
	e := newEnv(t)
	e.enqueue(note("inflight", "warning", t0))
	e.enqueue(note("retrying", "warning", t0))
	e.enqueue(note("pending", "warning", t0))
	e.enqueue(note("behind", "warning", t0))
	e.enqueue(note("refreshed", "warning", t0))
	var claimed []Entry
	for range 5 {
		claimed = append(claimed, e.claim(t0))
	}
	for _, c := range claimed {
		switch c.Notification.Key {
		case key("retrying"):
			if err := e.o.Retry(t.Context(), c, t0.Add(time.Hour), errors.New("service_unavailable")); err != nil {
				t.Fatal(err)
			}
		case key("pending"):
			if err := e.o.Retry(t.Context(), c, time.Time{}, errors.New("request_timeout")); err != nil {
				t.Fatal(err)
			}
		}
	}
	newer := note("behind", "critical", t0.Add(time.Minute))
	e.enqueue(newer)
	if err := e.o.Refresh(t.Context(), key("refreshed"), "db"); err != nil {
		t.Fatal(err)
	}
	wantLen := e.o.Len()

	e.crash()

	if n := e.o.Len(); n != 5 {
		t.Errorf("Len = %d after reopening, want 5 (was %d before the crash)", n, wantLen)
	}
	if n := len(e.stored()); n != 5 {
		t.Errorf("%d entries stored after reopening, want 5: each key's two entries become one", n)
	}
	got := map[alertgroup.Key]Entry{}
	for {
		c, ok, next := e.o.Claim(channel, t0)
		if !ok {
			if !next.Equal(t0.Add(time.Hour)) {
				t.Errorf("next = %v, want the retrying entry's %v", next, t0.Add(time.Hour))
			}
			break
		}
		got[c.Notification.Key] = c
	}
	if _, ok := got[key("retrying")]; ok {
		t.Error("entry waiting for its next attempt claimable after reopening")
	}
	for _, k := range []alertgroup.Key{key("inflight"), key("pending"), key("behind"), key("refreshed")} {
		if _, ok := got[k]; !ok {
			t.Errorf("%v not claimable after reopening", k)
		}
	}
	if b := got[key("behind")]; b.ID != 4 || b.Priority != 0 || !b.Notification.ReceivedAt.Equal(newer.ReceivedAt) {
		t.Errorf("behind = ID %d, priority %d, received %v; want the newer notification in the older entry", b.ID, b.Priority, b.Notification.ReceivedAt)
	}
	if r := got[key("refreshed")]; r.Kind != KindNotify || r.Notification.Message == nil {
		t.Errorf("refreshed = %v entry with message %v, want the notification in flight, which implies the refresh", r.Kind, r.Notification.Message)
	}
	if p := got[key("pending")]; p.Attempts != 1 || p.LastError != "request_timeout" {
		t.Errorf("pending = %d attempts, last error %q", p.Attempts, p.LastError)
	}
}

// TestConcurrentEnqueue checks that concurrent calls share commits: a lone
// write commits at once, and the writes that overlap it join one batch
// (bbolt's batch limit is the number of callers, and its delay far longer
// than the writes), so 100 callers make a handful of commits, not 100.
func TestConcurrentEnqueue(t *testing.T) {
	e := newEnv(t)
	const callers = 100
	e.db.MaxBatchSize = callers
	e.db.MaxBatchDelay = 200 * time.Millisecond
	before := txID(t, e.db)

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			errs <- e.o.Enqueue(t.Context(), note(fmt.Sprint(i), "warning", t0))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := txID(t, e.db) - before; n > 10 {
		t.Errorf("%d commits for %d concurrent enqueues, want them shared", n, callers)
	}
	e.crash()
	if n := e.o.Len(); n != callers {
		t.Errorf("Len = %d after reopening, want %d", n, callers)
	}
}

// TestConcurrentEnqueueOneKey checks coalescing under concurrency: each
// group ends with one entry, holding its newest notification.
func TestConcurrentEnqueueOneKey(t *testing.T) {
	e := newEnv(t)
	const groups, each = 4, 25
	var wg sync.WaitGroup
	for g := range groups {
		for i := range each {
			wg.Go(func() {
				if err := e.o.Enqueue(t.Context(), note(fmt.Sprint(g), "info", t0.Add(time.Duration(i)*time.Second))); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	e.crash()
	stored := e.stored()
	if len(stored) != groups {
		t.Fatalf("%d entries stored, want %d", len(stored), groups)
	}
	for _, s := range stored {
		if want := t0.Add((each - 1) * time.Second); !s.Notification.ReceivedAt.Equal(want) || !s.FirstAt.Equal(t0) {
			t.Errorf("%v holds the notification of %v since %v, want the newest of %v since %v",
				s.Notification.Key.GroupKey, s.Notification.ReceivedAt, s.FirstAt, want, t0)
		}
	}
}

func txID(t *testing.T, db *bbolt.DB) int {
	t.Helper()
	var id int
	if err := db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDeadLetters(t *testing.T) {
	e := newEnv(t)
	e.now = t0.Add(time.Minute)
	first := note("A", "warning", t0)
	e.enqueue(first)
	e.enqueue(note("B", "warning", t0))
	a := e.claim(t0)
	if err := e.o.DeadLetter(t.Context(), a, errors.New("channel_not_found")); err != nil {
		t.Fatal(err)
	}
	b := e.claim(t0)
	if err := e.o.DeadLetter(t.Context(), b, errors.New("not_in_channel")); err != nil {
		t.Fatal(err)
	}
	if n := e.o.Len(); n != 0 {
		t.Errorf("Len = %d with everything dead-lettered", n)
	}
	e.metrics(`
# HELP amslack_outbox_dead_letters Entries in the dead-letter list.
# TYPE amslack_outbox_dead_letters gauge
amslack_outbox_dead_letters 2
# HELP amslack_outbox_dead_lettered_total Entries moved to the dead-letter list because they can never be delivered.
# TYPE amslack_outbox_dead_lettered_total counter
amslack_outbox_dead_lettered_total 2
`, "amslack_outbox_dead_letters", "amslack_outbox_dead_lettered_total")

	e.crash()
	ds, err := e.o.DeadLetters(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantA := Entry{ID: 1, Kind: KindNotify, Notification: first, Priority: 2, FirstAt: t0, LastError: "channel_not_found"}
	if len(ds) != 2 {
		t.Fatalf("%d dead letters, want 2", len(ds))
	}
	if diff := cmp.Diff(ds[0], DeadLetter{ID: 1, Entry: wantA, Cause: "channel_not_found", At: e.now}, cmpOpts); diff != "" {
		t.Errorf("dead letter (-got +want):\n%s", diff)
	}
	e.metrics(`
# HELP amslack_outbox_dead_letters Entries in the dead-letter list.
# TYPE amslack_outbox_dead_letters gauge
amslack_outbox_dead_letters 2
`, "amslack_outbox_dead_letters")

	// Retried while a newer notification of its group waits: they coalesce,
	// and the newer one is delivered.
	newer := note("A", "critical", t0.Add(time.Minute))
	e.enqueue(newer)
	if err := e.o.RetryDead(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if n := e.o.Len(); n != 1 {
		t.Errorf("Len = %d after retrying a dead letter into a pending group, want 1", n)
	}
	// The retry starts a new age, so the entry is as old as the newer
	// notification.
	got := e.claim(t0)
	if got.Notification.ReceivedAt != newer.ReceivedAt || !got.FirstAt.Equal(newer.ReceivedAt) || got.ID != 3 {
		t.Errorf("claimed ID %d received %v since %v, want ID 3 with the newer notification since %v",
			got.ID, got.Notification.ReceivedAt, got.FirstAt, newer.ReceivedAt)
	}

	// Retried alone: a new entry without attempts.
	if err := e.o.RetryDead(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	got = e.claim(t0)
	if got.Notification.Key != key("B") || got.Attempts != 0 || got.ID <= 3 {
		t.Errorf("retried dead letter = %+v", got)
	}
	if err := e.o.DeadLetter(t.Context(), got, errors.New("is_archived")); err != nil {
		t.Fatal(err)
	}
	ds, _ = e.o.DeadLetters(t.Context())
	if len(ds) != 1 {
		t.Fatalf("%d dead letters, want 1", len(ds))
	}
	if err := e.o.DropDead(t.Context(), ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if ds, _ := e.o.DeadLetters(t.Context()); len(ds) != 0 {
		t.Errorf("%d dead letters after dropping the last", len(ds))
	}
	for name, f := range map[string]func(context.Context, uint64) error{"RetryDead": e.o.RetryDead, "DropDead": e.o.DropDead} {
		if err := f(t.Context(), 42); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of an unknown id = %v, want ErrNotFound", name, err)
		}
	}
	e.metrics(`
# HELP amslack_outbox_dead_letters Entries in the dead-letter list.
# TYPE amslack_outbox_dead_letters gauge
amslack_outbox_dead_letters 0
# HELP amslack_outbox_commit_errors_total Outbox writes that the database failed to commit.
# TYPE amslack_outbox_commit_errors_total counter
amslack_outbox_commit_errors_total 0
`, "amslack_outbox_dead_letters", "amslack_outbox_commit_errors_total")
}

func TestRefresh(t *testing.T) {
	refresh := func(e *env, group string) {
		e.t.Helper()
		if err := e.o.Refresh(context.Background(), key(group), "db-"+e.now.Format("1504")); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		do   func(e *env)
		// want are the entries after do, the one in flight first.
		want []Entry
	}{
		{
			name: "alone",
			do:   func(e *env) { refresh(e, "A") },
			want: []Entry{{ID: 1, Kind: KindRefresh, Notification: alertgroup.Notification{Key: key("A"), Route: "db-1400", ReceivedAt: t0}, FirstAt: t0}},
		},
		{
			name: "twice",
			do: func(e *env) {
				refresh(e, "A")
				e.now = t0.Add(time.Minute)
				refresh(e, "A")
			},
			want: []Entry{{ID: 1, Kind: KindRefresh, Notification: alertgroup.Notification{Key: key("A"), Route: "db-1401", ReceivedAt: t0.Add(time.Minute)}, FirstAt: t0}},
		},
		{
			name: "merges into a pending notification, which must then be sent",
			do: func(e *env) {
				e.enqueue(note("A", "warning", t0))
				e.now = t0.Add(time.Minute)
				refresh(e, "A")
			},
			want: []Entry{{ID: 1, Kind: KindNotify, Notification: note("A", "warning", t0), Priority: 0, FirstAt: t0, Refreshed: true}},
		},
		{
			name: "keeps every note",
			do: func(e *env) {
				e.enqueue(note("A", "warning", t0))
				for _, n := range []string{"acked", "silenced"} {
					if err := e.o.Refresh(context.Background(), key("A"), "db", n); err != nil {
						e.t.Fatal(err)
					}
				}
			},
			want: []Entry{{ID: 1, Kind: KindNotify, Notification: note("A", "warning", t0), Priority: 0, FirstAt: t0, Refreshed: true, Notes: []string{"acked", "silenced"}}},
		},
		{
			name: "notification replaces it",
			do: func(e *env) {
				refresh(e, "A")
				e.enqueue(note("A", "warning", t0.Add(time.Minute)))
			},
			want: []Entry{{ID: 1, Kind: KindNotify, Notification: note("A", "warning", t0.Add(time.Minute)), Priority: 0, FirstAt: t0, Refreshed: true}},
		},
		{
			name: "waits behind a notification in flight",
			do: func(e *env) {
				e.enqueue(note("A", "warning", t0))
				e.claim(t0)
				e.now = t0.Add(time.Minute)
				refresh(e, "A")
			},
			want: []Entry{
				{ID: 1, Kind: KindNotify, Notification: note("A", "warning", t0), Priority: 2, FirstAt: t0},
				{ID: 2, Kind: KindRefresh, Notification: alertgroup.Notification{Key: key("A"), Route: "db-1401", ReceivedAt: t0.Add(time.Minute)}, FirstAt: t0.Add(time.Minute)},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.do(e)
			if diff := cmp.Diff(e.stored(), tc.want, cmpOpts); diff != "" {
				t.Errorf("stored (-got +want):\n%s", diff)
			}
			if n := e.o.Len(); n != len(tc.want) {
				t.Errorf("Len = %d, want %d", n, len(tc.want))
			}
		})
	}
}

func TestOldestPendingSeconds(t *testing.T) {
	e := newEnv(t)
	e.metrics(`
# HELP amslack_outbox_oldest_pending_seconds Age of the oldest entry waiting for delivery, from the first notification it carries; 0 if none.
# TYPE amslack_outbox_oldest_pending_seconds gauge
amslack_outbox_oldest_pending_seconds 0
`, "amslack_outbox_oldest_pending_seconds")
	e.enqueue(note("A", "warning", t0))
	e.enqueue(note("B", "warning", t0.Add(time.Minute)))
	e.claim(t0) // in flight still counts
	e.now = t0.Add(90 * time.Second)
	e.metrics(`
# HELP amslack_outbox_oldest_pending_seconds Age of the oldest entry waiting for delivery, from the first notification it carries; 0 if none.
# TYPE amslack_outbox_oldest_pending_seconds gauge
amslack_outbox_oldest_pending_seconds 90
`, "amslack_outbox_oldest_pending_seconds")
}

func TestEnqueueErrors(t *testing.T) {
	e := newEnv(t)
	n := note("A", "warning", t0)
	n.Message = nil
	if err := e.o.Enqueue(t.Context(), n); err == nil {
		t.Error("Enqueue of a notification without a message succeeded")
	}
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.o.Enqueue(t.Context(), note("A", "warning", t0)); !errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		t.Errorf("Enqueue on a closed database = %v, want ErrDatabaseNotOpen", err)
	}
	if n := e.o.Len(); n != 0 {
		t.Errorf("Len = %d after a failed enqueue", n)
	}
	e.metrics(`
# HELP amslack_outbox_commit_errors_total Outbox writes that the database failed to commit.
# TYPE amslack_outbox_commit_errors_total counter
amslack_outbox_commit_errors_total 1
`, "amslack_outbox_commit_errors_total")
	e.open()
}

func TestOpenDB(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "amslack")
	db, err := OpenDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fi, err := os.Stat(filepath.Join(dir, "amslack.db"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database mode = %v, want 0600", perm)
	}
	_, err = OpenDB(dir)
	if !errors.Is(err, bolterrors.ErrTimeout) || !strings.Contains(err.Error(), "storage "+dir+" is locked by another amslack process") {
		t.Errorf("second OpenDB = %v, want a lock error naming the path", err)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	for _, name := range []string{"v025-firing.json", "v025-from-prometheus-firing.json", "v035-firing.json", "v035-resolved.json"} {
		b, err := encodeEntry(Entry{Kind: KindNotify, Notification: fixture(f, name, t0), FirstAt: t0, Attempts: 2, LastError: "x"})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"kind":"refresh","notification":{"key":{"channel":"C1"}}}`))
	f.Add([]byte(`{"kind":"other"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(idKey(7), b)
		if err != nil {
			return
		}
		enc, err := encodeEntry(e)
		if err != nil {
			t.Fatalf("encode a decoded entry: %v", err)
		}
		e2, err := decodeEntry(idKey(7), enc)
		if err != nil {
			t.Fatalf("decode an encoded entry: %v", err)
		}
		enc2, err := encodeEntry(e2)
		if err != nil {
			t.Fatal(err)
		}
		if string(enc) != string(enc2) {
			t.Errorf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}
