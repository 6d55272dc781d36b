package redisoutbox

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/outbox/outboxtest"
)

// distinct returns a copy of base for its own alert group.
func distinct(base alertgroup.Notification, i int64) alertgroup.Notification {
	n := base
	n.Key.GroupKey = fmt.Sprintf("%s/%d", base.Key.GroupKey, i)
	return n
}

// BenchmarkEnqueue measures one caller enqueueing alone, each notification
// a new group: one script, one round trip to Redis.
func BenchmarkEnqueue(b *testing.B) {
	c := storetest.RedisClient(b)
	o := start(b, c, Options{KeyPrefix: storetest.RedisPrefix(b, c)})
	base := outboxtest.Fixture(b, "v035-firing.json", outboxtest.Epoch)
	b.ReportAllocs()
	var i int64
	for b.Loop() {
		if err := o.Enqueue(context.Background(), distinct(base, i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkEnqueueCoalesce measures notifications of one group, each
// merged into the pending entry: two round trips.
func BenchmarkEnqueueCoalesce(b *testing.B) {
	c := storetest.RedisClient(b)
	o := start(b, c, Options{KeyPrefix: storetest.RedisPrefix(b, c)})
	n := outboxtest.Fixture(b, "v035-firing.json", outboxtest.Epoch)
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Enqueue(context.Background(), n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnqueueParallel measures many webhook requests enqueueing at
// once.
func BenchmarkEnqueueParallel(b *testing.B) {
	c := storetest.RedisClient(b)
	o := start(b, c, Options{KeyPrefix: storetest.RedisPrefix(b, c)})
	base := outboxtest.Fixture(b, "v035-firing.json", outboxtest.Epoch)
	var i atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := o.Enqueue(context.Background(), distinct(base, i.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
