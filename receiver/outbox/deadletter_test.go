package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/outbox/outboxtest"
)

// deadLetter enqueues a notification of each group and dead-letters it, in
// order.
func (e *env) deadLetter(groups ...string) {
	e.t.Helper()
	for _, g := range groups {
		e.enqueue(outboxtest.Note(g, "warning", e.now))
		if err := e.o.DeadLetter(e.t.Context(), e.claim(e.now), errors.New("channel_not_found")); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) deadIDs() []uint64 {
	e.t.Helper()
	ds, err := e.o.DeadLetters(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	ids := []uint64{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

// TestDeadLettersAfterCrash checks that dead letters, and their gauge,
// come back from disk, and that retrying and dropping them, including
// those that do not exist, keep the gauge right and count no commit error.
func TestDeadLettersAfterCrash(t *testing.T) {
	e := newEnv(t)
	e.now = t0.Add(time.Minute)
	first := outboxtest.Note("A", "warning", t0)
	e.enqueue(first)
	e.enqueue(outboxtest.Note("B", "warning", t0))
	for _, cause := range []string{"channel_not_found", "not_in_channel"} {
		if err := e.o.DeadLetter(t.Context(), e.claim(t0), errors.New(cause)); err != nil {
			t.Fatal(err)
		}
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
	wantA := outbox.Entry{ID: 1, Kind: outbox.KindNotify, Notification: first, Priority: 2, FirstAt: t0, LastError: "channel_not_found"}
	if len(ds) != 2 {
		t.Fatalf("%d dead letters, want 2", len(ds))
	}
	if diff := cmp.Diff(ds[0], outbox.DeadLetter{ID: 1, Entry: wantA, Cause: "channel_not_found", At: e.now}, cmpOpts); diff != "" {
		t.Errorf("dead letter (-got +want):\n%s", diff)
	}
	e.metrics(`
# HELP amslack_outbox_dead_letters Entries in the dead-letter list.
# TYPE amslack_outbox_dead_letters gauge
amslack_outbox_dead_letters 2
`, "amslack_outbox_dead_letters")

	if err := e.o.RetryDead(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if err := e.o.DropDead(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(context.Context, uint64) error{"RetryDead": e.o.RetryDead, "DropDead": e.o.DropDead} {
		if err := f(t.Context(), 42); !errors.Is(err, outbox.ErrNotFound) {
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

// TestDeadLetterLimit checks the metrics of the dead letters dropped beyond
// the limit, and that a lower limit applies when the outbox opens.
func TestDeadLetterLimit(t *testing.T) {
	e := newEnv(t)
	e.reopenWith(outbox.Options{DeadLetterLimit: 3})
	e.deadLetter("A", "B", "C", "D", "E", "F")
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

	e.reopenWith(outbox.Options{DeadLetterLimit: 1})
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
