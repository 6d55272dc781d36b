package outbox_test

import (
	"context"
	"sync"
	"testing"

	"github.com/amslack/amslack/receiver/outbox/outboxtest"
)

var syncModes = []struct {
	name   string
	noSync bool
}{{"fsync", false}, {"nosync", true}}

// BenchmarkEnqueue measures one caller enqueueing alone: its commit does
// not wait for bbolt's batch delay.
func BenchmarkEnqueue(b *testing.B) {
	for _, m := range syncModes {
		b.Run(m.name, func(b *testing.B) {
			e := newEnv(b)
			e.db.NoSync = m.noSync
			outboxtest.BenchEnqueue(b, e.o)
		})
	}
}

// BenchmarkEnqueueParallel measures many webhook requests enqueueing at
// once, sharing commits.
func BenchmarkEnqueueParallel(b *testing.B) {
	for _, m := range syncModes {
		b.Run(m.name, func(b *testing.B) {
			e := newEnv(b)
			e.db.NoSync = m.noSync
			outboxtest.BenchEnqueueParallel(b, e.o)
		})
	}
}

// BenchmarkClaim measures claiming from a channel with 10,000 pending
// entries of mixed priorities; each claimed entry goes back to the queue in
// memory so the queue keeps its size.
func BenchmarkClaim(b *testing.B) {
	const pending = 10_000
	e := newEnv(b)
	e.db.NoSync = true
	severities := []string{"critical", "error", "warning", "info", ""}
	var wg sync.WaitGroup
	const workers = 100
	for w := range workers {
		wg.Go(func() {
			for i := w; i < pending; i += workers {
				n := outboxtest.Distinct(outboxtest.Note("G", severities[i%len(severities)], t0), int64(i))
				if err := e.o.Enqueue(context.Background(), n); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := e.o.Len(); n != pending {
		b.Fatalf("Len = %d, want %d", n, pending)
	}
	b.ReportAllocs()
	for b.Loop() {
		got, ok, _ := e.o.Claim(outboxtest.Channel, t0)
		if !ok {
			b.Fatal("nothing to claim")
		}
		e.o.Unclaim(got)
	}
}
