package outbox_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/outbox/outboxtest"
)

func TestQueue(t *testing.T) {
	outboxtest.Run(t, func(t *testing.T, cfg outboxtest.Config) outbox.Queue {
		db, err := outbox.OpenDB(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		o, err := outbox.Open(db, outbox.Options{Now: cfg.Now, DeadLetterLimit: cfg.DeadLetterLimit})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { checkMirrored(t, db, o) })
		return o
	})
}

// checkMirrored checks that the database holds the entries that o holds in
// memory, no more and no fewer, so that a restart finds them all; that Len
// counts them; and that the index keeps the keys and channels of those
// entries only, so that memory grows with keys, not notifications.
func checkMirrored(t testing.TB, db *bbolt.DB, o *outbox.Outbox) {
	t.Helper()
	held, keys, channels := o.Held()
	if diff := cmp.Diff(stored(t, db), held, cmpOpts, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("database and memory differ (-stored +held):\n%s", diff)
	}
	if n := o.Len(); n != len(held) {
		t.Errorf("Len = %d with %d entries held", n, len(held))
	}
	heldKeys, heldChannels := map[alertgroup.Key]bool{}, map[string]bool{}
	for _, e := range held {
		heldKeys[e.Notification.Key] = true
		heldChannels[e.Notification.Key.Channel] = true
	}
	if keys != len(heldKeys) || channels != len(heldChannels) {
		t.Errorf("index keeps %d keys and %d channels, want those of the entries held: %d and %d",
			keys, channels, len(heldKeys), len(heldChannels))
	}
}
