package redisstore

import (
	"context"
	"errors"
	"time"
)

// onceKey is the key of the claim on name: once:<name> under the store's
// prefix, holding "1" until the claim ends.
func (s *Store) onceKey(name string) string { return s.prefix + "once:" + name }

// Once implements alertgroup.Store with SET NX PX: Redis sets the key only
// if it does not exist, and expires it after keep, so that of replicas
// claiming the same name at once exactly one gets true
// (https://redis.io/docs/latest/commands/set/).
func (s *Store) Once(ctx context.Context, name string, keep time.Duration) (bool, error) {
	if name == "" {
		return false, errors.New("once: empty name")
	}
	// Redis expires keys to the millisecond; a shorter keep would be no
	// claim at all.
	keep = max(keep, time.Millisecond)
	return s.c.SetNX(ctx, s.onceKey(name), "1", keep).Result()
}

// Forget implements alertgroup.Store.
func (s *Store) Forget(ctx context.Context, name string) error {
	return s.c.Del(ctx, s.onceKey(name)).Err()
}
