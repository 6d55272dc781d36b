package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver"
)

// maxTxAttempts bounds how often Redis retries an optimistic transaction
// that lost the race to another writer of the same group. Replicas rarely
// write one group at the same moment, so running out means something is
// badly wrong.
const maxTxAttempts = 100

// listChunk is how many groups List fetches with one MGET.
const listChunk = 500

// Redis is a Store in Redis, shared by several amslack replicas.
//
// Under its prefix it keeps:
//
//	group:<Key.String()>        JSON Group
//	message:<channel>\x1f<ts>   Key.String() of the group the message shows
//	groups                      set of the Key.String() of every group
//	resolved                    sorted set of resolved groups by ResolvedAt (Unix ms)
//
// Writes happen in MULTI transactions guarded by WATCH on the group's key,
// so a group and its indexes change together.
type Redis struct {
	c      *redis.Client
	prefix string
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store that keeps its groups in c under keys starting
// with prefix, such as "amslack:".
func NewRedis(c *redis.Client, prefix string) *Redis {
	return &Redis{c: c, prefix: prefix}
}

func (s *Redis) groupKey(k string) string { return s.prefix + "group:" + k }
func (s *Redis) messageKey(channel, ts string) string {
	return s.prefix + "message:" + messageKey(channel, ts)
}
func (s *Redis) groupsKey() string   { return s.prefix + "groups" }
func (s *Redis) resolvedKey() string { return s.prefix + "resolved" }

// Get implements Store.
func (s *Redis) Get(ctx context.Context, key receiver.Key) (Group, bool, error) {
	return s.get(ctx, s.c, key.String())
}

// Update implements Store.
func (s *Redis) Update(ctx context.Context, key receiver.Key, fn func(g *Group, found bool) error) (Group, error) {
	k := key.String()
	var g Group
	err := s.watch(ctx, k, func(tx *redis.Tx) error {
		old, found, err := s.get(ctx, tx, k)
		if err != nil {
			return err
		}
		g = old
		if !found {
			g = Group{Key: key}
		}
		if err := fn(&g, found); err != nil {
			return err
		}
		g.Key = key
		v, err := encodeGroup(g)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, s.groupKey(k), v, 0)
			p.SAdd(ctx, s.groupsKey(), k)
			if found && old.TS != "" && old.TS != g.TS {
				p.Del(ctx, s.messageKey(key.Channel, old.TS))
			}
			if g.TS != "" {
				p.Set(ctx, s.messageKey(key.Channel, g.TS), k, 0)
			}
			if g.Status == StatusResolved && !g.ResolvedAt.IsZero() {
				p.ZAdd(ctx, s.resolvedKey(), redis.Z{Score: float64(g.ResolvedAt.UnixMilli()), Member: k})
			} else {
				p.ZRem(ctx, s.resolvedKey(), k)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return Group{}, err
	}
	return g, nil
}

// ByMessage implements Store.
func (s *Redis) ByMessage(ctx context.Context, channel, ts string) (Group, bool, error) {
	k, err := s.c.Get(ctx, s.messageKey(channel, ts)).Result()
	if errors.Is(err, redis.Nil) {
		return Group{}, false, nil
	}
	if err != nil {
		return Group{}, false, err
	}
	g, found, err := s.get(ctx, s.c, k)
	if err != nil || !found || g.TS != ts || g.Key.Channel != channel {
		// The message was replaced or its group deleted between the two
		// reads.
		return Group{}, false, err
	}
	return g, true, nil
}

// Delete implements Store.
func (s *Redis) Delete(ctx context.Context, key receiver.Key) error {
	_, err := s.deleteIf(ctx, key.String(), func(Group) bool { return true })
	return err
}

// Prune implements Store. It reads candidates from the resolved index and
// checks each again inside its own transaction, so a group that fired again
// meanwhile survives.
func (s *Redis) Prune(ctx context.Context, before time.Time) (int, error) {
	// ResolvedAt < before implies ResolvedAt's Unix ms ≤ before's Unix ms.
	ks, err := s.c.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key:     s.resolvedKey(),
		Start:   "-inf",
		Stop:    before.UnixMilli(),
		ByScore: true,
	}).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range ks {
		deleted, err := s.deleteIf(ctx, k, func(g Group) bool { return prunable(g, before) })
		if err != nil {
			return n, err
		}
		if deleted {
			n++
		}
	}
	return n, nil
}

// List implements Store.
func (s *Redis) List(ctx context.Context) ([]Group, error) {
	ks, err := s.c.SMembers(ctx, s.groupsKey()).Result()
	if err != nil {
		return nil, err
	}
	slices.Sort(ks)
	gs := make([]Group, 0, len(ks))
	for chunk := range slices.Chunk(ks, listChunk) {
		keys := make([]string, len(chunk))
		for i, k := range chunk {
			keys[i] = s.groupKey(k)
		}
		vs, err := s.c.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, err
		}
		for i, v := range vs {
			str, ok := v.(string)
			if !ok {
				// Deleted since SMEMBERS.
				continue
			}
			g, err := decodeGroup([]byte(str))
			if err != nil {
				return nil, fmt.Errorf("%q: %w", chunk[i], err)
			}
			gs = append(gs, g)
		}
	}
	return gs, nil
}

// deleteIf deletes the group stored under k, and its index entries, if it
// exists and del says so.
func (s *Redis) deleteIf(ctx context.Context, k string, del func(Group) bool) (bool, error) {
	deleted := false
	err := s.watch(ctx, k, func(tx *redis.Tx) error {
		deleted = false
		g, found, err := s.get(ctx, tx, k)
		if err != nil || !found || !del(g) {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, s.groupKey(k))
			p.SRem(ctx, s.groupsKey(), k)
			p.ZRem(ctx, s.resolvedKey(), k)
			if g.TS != "" {
				p.Del(ctx, s.messageKey(g.Key.Channel, g.TS))
			}
			return nil
		})
		deleted = err == nil
		return err
	})
	return deleted, err
}

// watch runs fn in a WATCH transaction on the group stored under k,
// retrying when another writer changed the group before fn's MULTI ran.
func (s *Redis) watch(ctx context.Context, k string, fn func(*redis.Tx) error) error {
	for range maxTxAttempts {
		err := s.c.Watch(ctx, fn, s.groupKey(k))
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return fmt.Errorf("group %q changed under %d attempts to update it: %w", k, maxTxAttempts, redis.TxFailedErr)
}

func (s *Redis) get(ctx context.Context, c redis.Cmdable, k string) (Group, bool, error) {
	b, err := c.Get(ctx, s.groupKey(k)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Group{}, false, nil
	}
	if err != nil {
		return Group{}, false, err
	}
	g, err := decodeGroup(b)
	if err != nil {
		return Group{}, false, fmt.Errorf("%q: %w", k, err)
	}
	return g, true, nil
}
