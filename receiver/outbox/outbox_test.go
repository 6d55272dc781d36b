package outbox_test

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

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/outbox/outboxtest"
)

// The behaviour that every outbox.Queue shares is checked by outboxtest,
// run in conformance_test.go; the tests here check what is the outbox's in
// bbolt alone: the database, restarts, shared commits, Len and metrics.

// cmpOpts compares notifications, which hold template.Data with its
// unexported field that JSON never carries.
var cmpOpts = cmpopts.IgnoreUnexported(template.Data{})

// t0 is where the tests' clock starts.
var t0 = outboxtest.Epoch

type env struct {
	t    testing.TB
	path string
	db   *bbolt.DB
	o    *outbox.Outbox
	reg  *prometheus.Registry
	now  time.Time
}

// newEnv opens an outbox in a new database, opened as amslack opens it,
// with a clock that stands at t0.
func newEnv(t testing.TB) *env {
	e := &env{t: t, path: t.TempDir(), now: t0}
	db, err := outbox.OpenDB(e.path)
	if err != nil {
		t.Fatal(err)
	}
	e.db = db
	e.reopenWith(outbox.Options{})
	t.Cleanup(func() { e.db.Close() })
	return e
}

// reopenWith replaces e's outbox with one opened on the same database with
// o, on e's clock and a new registry.
func (e *env) reopenWith(o outbox.Options) {
	e.t.Helper()
	o.Now = func() time.Time { return e.now }
	e.reg = prometheus.NewRegistry()
	o.Registerer = e.reg
	var err error
	if e.o, err = outbox.Open(e.db, o); err != nil {
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
	db, err := outbox.OpenDB(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db = db
	e.reopenWith(outbox.Options{})
}

func (e *env) enqueue(n alertgroup.Notification) {
	e.t.Helper()
	if err := e.o.Enqueue(context.Background(), n); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) claim(now time.Time) outbox.Entry {
	e.t.Helper()
	got, ok, _ := e.o.Claim(outboxtest.Channel, now)
	if !ok {
		e.t.Fatal("Claim found nothing ready")
	}
	return got
}

// stored returns the entries in db.
func stored(t testing.TB, db *bbolt.DB) []outbox.Entry {
	t.Helper()
	var es []outbox.Entry
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		es, err = outbox.Stored(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func (e *env) metrics(want string, names ...string) {
	e.t.Helper()
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want), names...); err != nil {
		e.t.Error(err)
	}
}

// TestDepth follows one group's entries through coalescing, a newer
// notification waiting behind the entry in flight, a retry that merges the
// two, and Done, and checks at each step Len, the metrics, and that the
// database mirrors memory.
func TestDepth(t *testing.T) {
	e := newEnv(t)
	step := func(name string, depth int, metrics string) {
		t.Helper()
		if n := e.o.Len(); n != depth {
			t.Errorf("%s: Len = %d, want %d", name, n, depth)
		}
		checkMirrored(t, e.db, e.o)
		e.metrics(metrics, "amslack_outbox_coalesced_total", "amslack_outbox_enqueued_total", "amslack_outbox_pending")
	}
	const counters = `
# HELP amslack_outbox_coalesced_total Enqueued entries that merged into a pending entry of the same alert group instead of adding one.
# TYPE amslack_outbox_coalesced_total counter
amslack_outbox_coalesced_total{kind="notify"} %d
amslack_outbox_coalesced_total{kind="refresh"} 0
# HELP amslack_outbox_enqueued_total Notifications (kind notify) and refresh requests (kind refresh) durably enqueued.
# TYPE amslack_outbox_enqueued_total counter
amslack_outbox_enqueued_total{kind="notify"} %d
amslack_outbox_enqueued_total{kind="refresh"} 0
`
	const pending = `# HELP amslack_outbox_pending Entries waiting for delivery, in flight included, per channel.
# TYPE amslack_outbox_pending gauge
amslack_outbox_pending{channel="C0123456789"} %d
`
	e.enqueue(outboxtest.Fixture(t, "v035-firing.json", t0))
	e.enqueue(outboxtest.Fixture(t, "v035-firing.json", t0.Add(time.Minute)))
	e.enqueue(outboxtest.Fixture(t, "v035-resolved.json", t0.Add(2*time.Minute)))
	step("three notifications of one group", 1, fmt.Sprintf(counters+pending, 2, 3, 1))

	a := e.claim(t0)
	e.enqueue(outboxtest.Fixture(t, "v035-firing.json", t0.Add(3*time.Minute)))
	step("one in flight, one behind", 2, fmt.Sprintf(counters+pending, 2, 4, 2))

	at := t0.Add(30 * time.Second)
	if err := e.o.Retry(t.Context(), a, at, errors.New("ratelimited")); err != nil {
		t.Fatal(err)
	}
	step("retried into the one behind", 1, fmt.Sprintf(counters+pending, 2, 4, 1))

	if err := e.o.Done(t.Context(), e.claim(at)); err != nil {
		t.Fatal(err)
	}
	// A drained channel keeps no series.
	step("done", 0, fmt.Sprintf(counters, 2, 4))
}

func TestSeverityPriority(t *testing.T) {
	note := func(severity string) alertgroup.Notification { return outboxtest.Note("G", severity, t0) }
	withAlerts := func(severities ...string) alertgroup.Notification {
		n := note("")
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
		{"critical", note("critical"), 0},
		{"error", note("error"), 1},
		{"warning", note("warning"), 2},
		{"info", note("info"), 3},
		{"no severity", note(""), 4},
		{"unknown severity", note("page"), 4},
		{"upper case", note("CRITICAL"), 0},
		{"most severe alert wins", withAlerts("info", "critical", "warning"), 0},
		{"common label without alerts", func() alertgroup.Notification {
			n := withAlerts()
			n.Message.CommonLabels = template.KV{"severity": "warning"}
			return n
		}(), 2},
		{"refresh", alertgroup.Notification{Key: outboxtest.Key("G")}, 0},
		{"fixture with critical and warning", outboxtest.Fixture(t, "v035-firing.json", t0), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := outbox.SeverityPriority(outbox.DefaultSeverityOrder)(tc.n); got != tc.want {
				t.Errorf("SeverityPriority = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestReopenAfterCrash(t *testing.T) {
	e := newEnv(t)
	key := outboxtest.Key
	for _, g := range []string{"inflight", "retrying", "pending", "behind", "refreshed"} {
		e.enqueue(outboxtest.Note(g, "warning", t0))
	}
	var claimed []outbox.Entry
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
	newer := outboxtest.Note("behind", "critical", t0.Add(time.Minute))
	e.enqueue(newer)
	if err := e.o.Refresh(t.Context(), key("refreshed"), "db"); err != nil {
		t.Fatal(err)
	}
	wantLen := e.o.Len()

	e.crash()

	if n := e.o.Len(); n != 5 {
		t.Errorf("Len = %d after reopening, want 5 (was %d before the crash)", n, wantLen)
	}
	if n := len(stored(t, e.db)); n != 5 {
		t.Errorf("%d entries stored after reopening, want 5: each key's two entries become one", n)
	}
	got := map[alertgroup.Key]outbox.Entry{}
	for {
		c, ok, next := e.o.Claim(outboxtest.Channel, t0)
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
	if r := got[key("refreshed")]; r.Kind != outbox.KindNotify || r.Notification.Message == nil {
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
			errs <- e.o.Enqueue(t.Context(), outboxtest.Note(fmt.Sprint(i), "warning", t0))
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

func txID(t *testing.T, db *bbolt.DB) int {
	t.Helper()
	var id int
	if err := db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestOldestPendingSeconds(t *testing.T) {
	e := newEnv(t)
	e.metrics(`
# HELP amslack_outbox_oldest_pending_seconds Age of the oldest entry waiting for delivery, from the first notification it carries; 0 if none.
# TYPE amslack_outbox_oldest_pending_seconds gauge
amslack_outbox_oldest_pending_seconds 0
`, "amslack_outbox_oldest_pending_seconds")
	e.enqueue(outboxtest.Note("A", "warning", t0))
	e.enqueue(outboxtest.Note("B", "warning", t0.Add(time.Minute)))
	e.claim(t0) // in flight still counts
	e.now = t0.Add(90 * time.Second)
	e.metrics(`
# HELP amslack_outbox_oldest_pending_seconds Age of the oldest entry waiting for delivery, from the first notification it carries; 0 if none.
# TYPE amslack_outbox_oldest_pending_seconds gauge
amslack_outbox_oldest_pending_seconds 90
`, "amslack_outbox_oldest_pending_seconds")
}

func TestEnqueueOnClosedDatabase(t *testing.T) {
	e := newEnv(t)
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.o.Enqueue(t.Context(), outboxtest.Note("A", "warning", t0)); !errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
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
}

func TestOpenDB(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "amslack")
	db, err := outbox.OpenDB(dir)
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
	_, err = outbox.OpenDB(dir)
	if !errors.Is(err, bolterrors.ErrTimeout) || !strings.Contains(err.Error(), "storage "+dir+" is locked by another amslack process") {
		t.Errorf("second OpenDB = %v, want a lock error naming the path", err)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	// Alertmanager 0.25 relaying an alert that Prometheus sent, which
	// outboxtest's fixtures are not.
	var m alertgroup.Message
	b, err := os.ReadFile(filepath.Join("testdata", "v025-from-prometheus-firing.json"))
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		f.Fatal(err)
	}
	seeds := []alertgroup.Notification{
		outboxtest.Fixture(f, "v025-firing.json", t0),
		{Key: alertgroup.Key{Receiver: m.Receiver, GroupKey: m.GroupKey, Channel: outboxtest.Channel}, Route: "default", Message: &m, ReceivedAt: t0},
		outboxtest.Fixture(f, "v035-firing.json", t0),
		outboxtest.Fixture(f, "v035-resolved.json", t0),
	}
	for _, n := range seeds {
		b, err := outbox.EncodeEntry(outbox.Entry{Kind: outbox.KindNotify, Notification: n, FirstAt: t0, Attempts: 2, LastError: "x"})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"kind":"refresh","notification":{"key":{"channel":"C1"}}}`))
	f.Add([]byte(`{"kind":"other"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := outbox.DecodeEntry(7, b)
		if err != nil {
			return
		}
		enc, err := outbox.EncodeEntry(e)
		if err != nil {
			t.Fatalf("encode a decoded entry: %v", err)
		}
		e2, err := outbox.DecodeEntry(7, enc)
		if err != nil {
			t.Fatalf("decode an encoded entry: %v", err)
		}
		enc2, err := outbox.EncodeEntry(e2)
		if err != nil {
			t.Fatal(err)
		}
		if string(enc) != string(enc2) {
			t.Errorf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}
