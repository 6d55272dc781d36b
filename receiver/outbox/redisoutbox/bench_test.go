package redisoutbox

import (
	"context"
	"testing"

	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/outbox/outboxtest"
)

// BenchmarkEnqueue measures one caller enqueueing alone, each notification
// a new group: one script, one round trip to Redis.
func BenchmarkEnqueue(b *testing.B) {
	c := storetest.RedisClient(b)
	outboxtest.BenchEnqueue(b, start(b, c, Options{KeyPrefix: storetest.RedisPrefix(b, c)}))
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
	outboxtest.BenchEnqueueParallel(b, start(b, c, Options{KeyPrefix: storetest.RedisPrefix(b, c)}))
}
