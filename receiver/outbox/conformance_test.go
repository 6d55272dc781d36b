package outbox_test

import (
	"testing"

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
		return o
	})
}
