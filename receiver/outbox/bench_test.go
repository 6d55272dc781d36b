package outbox

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// distinct returns a copy of base for its own alert group.
func distinct(base alertgroup.Notification, i int64) alertgroup.Notification {
	n := base
	n.Key.GroupKey = fmt.Sprintf("%s/%d", base.Key.GroupKey, i)
	return n
}

var syncModes = []struct {
	name   string
	noSync bool
}{{"fsync", false}, {"nosync", true}}

// BenchmarkEnqueue measures one caller enqueueing alone: each call waits
// for bbolt's batch delay before its commit.
func BenchmarkEnqueue(b *testing.B) {
	for _, m := range syncModes {
		b.Run(m.name, func(b *testing.B) {
			e := newEnv(b)
			e.db.NoSync = m.noSync
			base := fixture(b, "v035-firing.json", t0)
			b.ReportAllocs()
			var i int64
			for b.Loop() {
				if err := e.o.Enqueue(context.Background(), distinct(base, i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
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
			base := fixture(b, "v035-firing.json", t0)
			var i atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := e.o.Enqueue(context.Background(), distinct(base, i.Add(1))); err != nil {
						b.Error(err)
						return
					}
				}
			})
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
				n := distinct(note("G", severities[i%len(severities)], t0), int64(i))
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
		got, ok, _ := e.o.Claim(channel, t0)
		if !ok {
			b.Fatal("nothing to claim")
		}
		unclaim(e.o, got)
	}
}

// unclaim makes e, in flight, pending again without touching the database.
func unclaim(o *Outbox, e Entry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := e.Notification.Key
	s := o.slots[key]
	s.pending, s.inflight = s.inflight, nil
	o.queues[key.Channel].inflight--
	o.settle(key, s)
}
