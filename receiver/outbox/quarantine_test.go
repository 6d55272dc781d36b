package outbox_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/outbox/outboxtest"
)

// TestUndecodableRecordsAreQuarantined writes records that amslack cannot
// read into the outbox's buckets, as a disk fault or a downgrade might
// leave them: the outbox opens and lists the rest, and sets the bad ones
// aside where an operator can find them.
func TestUndecodableRecordsAreQuarantined(t *testing.T) {
	e := newEnv(t)
	e.deadLetter("C", "D")
	e.enqueue(outboxtest.Note("A", "warning", t0))
	e.enqueue(outboxtest.Note("B", "critical", t0))
	bad := map[string][]byte{
		"garbage":              []byte("\x00not json"),
		"notify without alert": []byte(`{"kind":"notify","notification":{"key":{"channel":"C1"}}}`),
		"unknown kind":         []byte(`{"kind":"carrier pigeon"}`),
	}
	err := e.db.Update(func(tx *bbolt.Tx) error {
		id := uint64(100)
		for _, v := range bad {
			id++
			if err := tx.Bucket(outbox.PendingBucket).Put(outbox.IDKey(id), v); err != nil {
				return err
			}
		}
		return tx.Bucket(outbox.DeadBucket).Put(outbox.IDKey(200), []byte(`{"entry":`))
	})
	if err != nil {
		t.Fatal(err)
	}

	e.crash()

	if n := e.o.Len(); n != 2 {
		t.Errorf("Len = %d after opening with bad records, want the 2 good entries", n)
	}
	if n := len(stored(t, e.db)); n != 2 {
		t.Errorf("%d entries left in %s, want the 2 good ones", n, outbox.PendingBucket)
	}
	got := []string{e.claim(t0).Notification.Key.GroupKey, e.claim(t0).Notification.Key.GroupKey}
	if diff := cmp.Diff(got, []string{outboxtest.Key("B").GroupKey, outboxtest.Key("A").GroupKey}); diff != "" {
		t.Errorf("claimed (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(e.deadIDs(), []uint64{1, 2}); diff != "" {
		t.Errorf("dead letters (-got +want):\n%s", diff)
	}
	ds, err := e.o.DeadLetterPage(t.Context(), 0, 10)
	if err != nil || len(ds) != 2 {
		t.Errorf("DeadLetterPage = %d dead letters, %v; want 2", len(ds), err)
	}
	quarantined := 0
	err = e.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(outbox.QuarantineBucket)
		if b == nil {
			return errors.New("no quarantine bucket")
		}
		quarantined = b.Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if quarantined != len(bad)+1 {
		t.Errorf("%d records quarantined, want %d", quarantined, len(bad)+1)
	}
	e.metrics(`
# HELP amslack_outbox_quarantined_total Outbox records that could not be decoded and were moved to the outbox.quarantine bucket, by the bucket they were in.
# TYPE amslack_outbox_quarantined_total counter
amslack_outbox_quarantined_total{bucket="outbox.dead"} 1
amslack_outbox_quarantined_total{bucket="outbox.pending"} 3
`, "amslack_outbox_quarantined_total")
}
