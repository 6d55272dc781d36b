package redisstore

import (
	"errors"
	"testing"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
)

// TestFencedWrite checks that a write made under a lease lands only while
// the lease record holds the writer's token: a replica whose lease passed
// to another cannot overwrite what the new holder wrote.
func TestFencedWrite(t *testing.T) {
	c := storetest.RedisClient(t)
	prefix := storetest.RedisPrefix(t, c)
	s := New(c, prefix)
	k := storetest.Key("Fenced")
	lease := prefix + "lease:test"
	ctx := t.Context()
	if err := c.Set(ctx, lease, "7", 0).Err(); err != nil {
		t.Fatal(err)
	}

	held := alertgroup.WithFence(ctx, alertgroup.Fence{Key: lease, Token: "7"})
	if _, err := s.Update(held, k, func(g *alertgroup.Group, _ bool) error { g.TS = "1.0"; return nil }); err != nil {
		t.Fatalf("write under the held lease: %v", err)
	}

	// Another replica takes the lease over and writes.
	if err := c.Set(ctx, lease, "8", 0).Err(); err != nil {
		t.Fatal(err)
	}
	taken := alertgroup.WithFence(ctx, alertgroup.Fence{Key: lease, Token: "8"})
	if _, err := s.Update(taken, k, func(g *alertgroup.Group, _ bool) error { g.TS = "2.0"; return nil }); err != nil {
		t.Fatalf("write under the new lease: %v", err)
	}

	// The old holder wakes up and tries to record its post.
	_, err := s.Update(held, k, func(g *alertgroup.Group, _ bool) error { g.TS = "1.0"; return nil })
	if !errors.Is(err, alertgroup.ErrFenced) {
		t.Fatalf("write under the lost lease: err %v, want ErrFenced", err)
	}
	if g, _, _ := s.Get(ctx, k); g.TS != "2.0" {
		t.Errorf("TS %q after the stale write, want the new holder's 2.0", g.TS)
	}

	// A lease that expired and is held by nobody fences too.
	if err := c.Del(ctx, lease).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(taken, k, func(g *alertgroup.Group, _ bool) error { return nil }); !errors.Is(err, alertgroup.ErrFenced) {
		t.Errorf("write under an expired lease: err %v, want ErrFenced", err)
	}
	// Without a fence, writes go through as before.
	if _, err := s.Update(ctx, k, func(g *alertgroup.Group, _ bool) error { g.TS = "3.0"; return nil }); err != nil {
		t.Errorf("unfenced write: %v", err)
	}
}
