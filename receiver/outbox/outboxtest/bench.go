package outboxtest

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/amslack/amslack/receiver/outbox"
)

// BenchEnqueue measures one caller enqueueing into q alone, each
// notification of a new group.
func BenchEnqueue(b *testing.B, q outbox.Queue) {
	base := Fixture(b, "v035-firing.json", Epoch)
	b.ReportAllocs()
	var i int64
	for b.Loop() {
		if err := q.Enqueue(context.Background(), Distinct(base, i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchEnqueueParallel measures many webhook requests enqueueing into q at
// once, each notification of a new group.
func BenchEnqueueParallel(b *testing.B, q outbox.Queue) {
	base := Fixture(b, "v035-firing.json", Epoch)
	var i atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := q.Enqueue(context.Background(), Distinct(base, i.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
