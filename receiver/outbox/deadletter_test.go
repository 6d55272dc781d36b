package outbox

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// reopenWith replaces e's outbox with one opened on the same database with
// o, on e's clock and a new registry.
func (e *env) reopenWith(o Options) {
	e.t.Helper()
	o.Now = func() time.Time { return e.now }
	e.reg = prometheus.NewRegistry()
	o.Registerer = e.reg
	var err error
	if e.o, err = Open(e.db, o); err != nil {
		e.t.Fatal(err)
	}
}

// deadLetter enqueues a notification of each group and dead-letters it, in
// order.
func (e *env) deadLetter(groups ...string) {
	e.t.Helper()
	for _, g := range groups {
		e.enqueue(note(g, "warning", e.now))
		if err := e.o.DeadLetter(e.t.Context(), e.claim(e.now), errors.New("channel_not_found")); err != nil {
			e.t.Fatal(err)
		}
	}
}

func deadIDs(ds []DeadLetter) []uint64 {
	out := []uint64{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func (e *env) deadIDs() []uint64 {
	e.t.Helper()
	ds, err := e.o.DeadLetters(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	return deadIDs(ds)
}

func TestDeadLetterLimit(t *testing.T) {
	e := newEnv(t)
	e.reopenWith(Options{DeadLetterLimit: 3})
	// A, B and C are enqueued first; B, C and D fail for good first.
	for _, g := range []string{"A", "B", "C", "D"} {
		e.enqueue(note(g, "warning", t0))
	}
	var claimed []Entry
	for range 4 {
		claimed = append(claimed, e.claim(t0))
	}
	for _, c := range append(claimed[1:], claimed[0]) {
		if err := e.o.DeadLetter(t.Context(), c, errors.New("channel_not_found")); err != nil {
			t.Fatal(err)
		}
	}
	// A is the entry enqueued first, but it has just been dead-lettered:
	// it stays, and the oldest of the others goes.
	if diff := cmp.Diff(e.deadIDs(), []uint64{1, 3, 4}); diff != "" {
		t.Errorf("dead letters after A (-got +want):\n%s", diff)
	}
	e.deadLetter("E", "F")
	if diff := cmp.Diff(e.deadIDs(), []uint64{4, 5, 6}); diff != "" {
		t.Errorf("dead letters after F (-got +want):\n%s", diff)
	}
	e.metrics(`
# HELP amslack_outbox_dead_letters Entries in the dead-letter list.
# TYPE amslack_outbox_dead_letters gauge
amslack_outbox_dead_letters 3
# HELP amslack_outbox_dead_letters_dropped_total Dead letters deleted without an operator: the oldest beyond delivery.dead_letter_limit (reason limit), or those older than delivery.dead_letter_retention (reason retention).
# TYPE amslack_outbox_dead_letters_dropped_total counter
amslack_outbox_dead_letters_dropped_total{reason="limit"} 3
amslack_outbox_dead_letters_dropped_total{reason="retention"} 0
`, "amslack_outbox_dead_letters", "amslack_outbox_dead_letters_dropped_total")

	// A lower limit applies when the outbox opens.
	e.reopenWith(Options{DeadLetterLimit: 1})
	if diff := cmp.Diff(e.deadIDs(), []uint64{6}); diff != "" {
		t.Errorf("dead letters after reopening with a limit of 1 (-got +want):\n%s", diff)
	}
	e.metrics(`
# HELP amslack_outbox_dead_letters Entries in the dead-letter list.
# TYPE amslack_outbox_dead_letters gauge
amslack_outbox_dead_letters 1
`, "amslack_outbox_dead_letters")
}

func TestDeadLetterRetention(t *testing.T) {
	e := newEnv(t)
	e.deadLetter("A", "B")
	e.now = t0.Add(48 * time.Hour)
	e.deadLetter("C")
	n, err := e.o.PruneDead(t.Context(), t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("PruneDead = %d, want 2", n)
	}
	if diff := cmp.Diff(e.deadIDs(), []uint64{3}); diff != "" {
		t.Errorf("dead letters after PruneDead (-got +want):\n%s", diff)
	}
	e.metrics(`
# HELP amslack_outbox_dead_letters Entries in the dead-letter list.
# TYPE amslack_outbox_dead_letters gauge
amslack_outbox_dead_letters 1
# HELP amslack_outbox_dead_letters_dropped_total Dead letters deleted without an operator: the oldest beyond delivery.dead_letter_limit (reason limit), or those older than delivery.dead_letter_retention (reason retention).
# TYPE amslack_outbox_dead_letters_dropped_total counter
amslack_outbox_dead_letters_dropped_total{reason="limit"} 0
amslack_outbox_dead_letters_dropped_total{reason="retention"} 2
`, "amslack_outbox_dead_letters", "amslack_outbox_dead_letters_dropped_total")
}

func TestDeadLetterPages(t *testing.T) {
	e := newEnv(t)
	e.deadLetter("A", "B", "C", "D", "E")
	for _, tt := range []struct {
		after uint64
		limit int
		want  []uint64
	}{
		{0, 2, []uint64{1, 2}},
		{2, 2, []uint64{3, 4}},
		{4, 2, []uint64{5}},
		{5, 2, []uint64{}},
		{0, 10, []uint64{1, 2, 3, 4, 5}},
		{3, 1, []uint64{4}},
	} {
		t.Run(fmt.Sprintf("after %d limit %d", tt.after, tt.limit), func(t *testing.T) {
			ds, err := e.o.DeadLetterPage(t.Context(), tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(deadIDs(ds), tt.want); diff != "" {
				t.Errorf("page (-got +want):\n%s", diff)
			}
		})
	}
}

// TestRetryDeadStartsANewAge retries a dead letter long after its first
// notification: it gets a new age, so that its first temporary failure is
// retried rather than dead-lettered for being old, and it counts the retry.
func TestRetryDeadStartsANewAge(t *testing.T) {
	e := newEnv(t)
	e.enqueue(note("A", "warning", t0))
	c := e.claim(t0)
	if err := e.o.Retry(t.Context(), c, time.Time{}, errors.New("ratelimited")); err != nil {
		t.Fatal(err)
	}
	c = e.claim(t0)
	if err := e.o.DeadLetter(t.Context(), c, errors.New("channel_not_found")); err != nil {
		t.Fatal(err)
	}
	for retry := 1; retry <= 2; retry++ {
		e.now = e.now.Add(48 * time.Hour)
		ds, err := e.o.DeadLetters(t.Context())
		if err != nil || len(ds) != 1 {
			t.Fatalf("dead letters = %v, %v; want one", ds, err)
		}
		if err := e.o.RetryDead(t.Context(), ds[0].ID); err != nil {
			t.Fatal(err)
		}
		got := e.claim(e.now)
		if !got.FirstAt.Equal(e.now) || got.Attempts != 0 || got.Retries != retry {
			t.Errorf("retry %d: entry since %v with %d attempts and %d retries; want since %v, 0 attempts, %d retries",
				retry, got.FirstAt, got.Attempts, got.Retries, e.now, retry)
		}
		if err := e.o.DeadLetter(t.Context(), got, errors.New("channel_not_found")); err != nil {
			t.Fatal(err)
		}
	}
}
