package store

import (
	"bytes"
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
//	active                      sorted set of the other groups by lastActive (Unix ms)
//	quarantine:<Key.String()>   a group record that could not be decoded
//
// Writes happen in MULTI transactions guarded by WATCH on the group's key,
// so a group and its indexes change together.
type Redis struct {
	c      *redis.Client
	prefix string
	obs    *observer
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store that keeps its groups in c under keys starting
// with prefix, such as "amslack:".
func NewRedis(c *redis.Client, prefix string, opts ...Option) *Redis {
	return &Redis{c: c, prefix: prefix, obs: newObserver(opts)}
}

func (s *Redis) groupKey(k string) string { return s.prefix + "group:" + k }
func (s *Redis) messageKey(channel, ts string) string {
	return s.prefix + "message:" + messageKey(channel, ts)
}
func (s *Redis) groupsKey() string   { return s.prefix + "groups" }
func (s *Redis) resolvedKey() string { return s.prefix + "resolved" }
func (s *Redis) activeKey() string   { return s.prefix + "active" }
func (s *Redis) quarantineKey(k string) string {
	return s.prefix + "quarantine:" + k
}

// Get implements Store.
func (s *Redis) Get(ctx context.Context, key receiver.Key) (Group, bool, error) {
	g, found, err := s.get(ctx, s.c, key.String())
	if bad, ok := errors.AsType[*undecodable](err); ok {
		return Group{}, false, s.quarantine(ctx, bad)
	}
	return g, found, err
}

// Update implements Store. A group whose record cannot be decoded is
// quarantined and starts afresh.
func (s *Redis) Update(ctx context.Context, key receiver.Key, fn func(g *Group, found bool) error) (Group, error) {
	g, err := s.update(ctx, key, fn)
	if bad, ok := errors.AsType[*undecodable](err); ok {
		if err := s.quarantine(ctx, bad); err != nil {
			return Group{}, err
		}
		g, err = s.update(ctx, key, fn)
	}
	return g, err
}

func (s *Redis) update(ctx context.Context, key receiver.Key, fn func(g *Group, found bool) error) (Group, error) {
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
			s.index(ctx, p, k, g)
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
	if bad, ok := errors.AsType[*undecodable](err); ok {
		return Group{}, false, s.quarantine(ctx, bad)
	}
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
	if bad, ok := errors.AsType[*undecodable](err); ok {
		return s.quarantine(ctx, bad)
	}
	return err
}

// index adds the commands to p that file g, stored under k, in the index
// Prune reads: resolved by ResolvedAt, the others by lastActive.
func (s *Redis) index(ctx context.Context, p redis.Pipeliner, k string, g Group) {
	switch last := lastActive(g); {
	case g.Status == StatusResolved && !g.ResolvedAt.IsZero():
		p.ZAdd(ctx, s.resolvedKey(), redis.Z{Score: float64(g.ResolvedAt.UnixMilli()), Member: k})
		p.ZRem(ctx, s.activeKey(), k)
	case g.Status != StatusResolved && !last.IsZero():
		p.ZRem(ctx, s.resolvedKey(), k)
		p.ZAdd(ctx, s.activeKey(), redis.Z{Score: float64(last.UnixMilli()), Member: k})
	default:
		p.ZRem(ctx, s.resolvedKey(), k)
		p.ZRem(ctx, s.activeKey(), k)
	}
}

// Prune implements Store. It reads candidates from the indexes and checks
// each again inside its own transaction, so a group notified or resolved
// meanwhile gets what it now deserves. Groups stored before the active
// index existed are in neither index: they are candidates too, and those
// that stay are filed in the index their times call for.
func (s *Redis) Prune(ctx context.Context, before time.Time) (int, error) {
	var candidates []string
	for _, index := range []string{s.resolvedKey(), s.activeKey()} {
		// A time before before has a Unix ms at most before's.
		ks, err := s.c.ZRangeArgs(ctx, redis.ZRangeArgs{
			Key:     index,
			Start:   "-inf",
			Stop:    before.UnixMilli(),
			ByScore: true,
		}).Result()
		if err != nil {
			return 0, err
		}
		candidates = append(candidates, ks...)
	}
	unindexed, err := s.c.ZDiff(ctx, s.groupsKey(), s.resolvedKey(), s.activeKey()).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for i, k := range append(candidates, unindexed...) {
		deleted, err := s.prune(ctx, k, before, i >= len(candidates))
		if bad, ok := errors.AsType[*undecodable](err); ok {
			err = s.quarantine(ctx, bad)
		}
		if err != nil {
			return n, err
		}
		if deleted {
			n++
		}
	}
	return n, nil
}

// prune deletes the group stored under k if it exists and Prune should
// delete it; otherwise, if reindex is set, it files the group in the
// indexes.
func (s *Redis) prune(ctx context.Context, k string, before time.Time, reindex bool) (bool, error) {
	if !reindex {
		return s.deleteIf(ctx, k, func(g Group) bool { return prunable(g, before) })
	}
	deleted := false
	err := s.watch(ctx, k, func(tx *redis.Tx) error {
		deleted = false
		g, found, err := s.get(ctx, tx, k)
		if err != nil || !found {
			return err
		}
		if prunable(g, before) {
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				s.unlink(ctx, p, k, g)
				return nil
			})
			deleted = err == nil
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			s.index(ctx, p, k, g)
			return nil
		})
		return err
	})
	return deleted, err
}

// List implements Store.
func (s *Redis) List(ctx context.Context) ([]Group, error) {
	ks, err := s.c.SMembers(ctx, s.groupsKey()).Result()
	if err != nil {
		return nil, err
	}
	slices.Sort(ks)
	gs := make([]Group, 0, len(ks))
	var bad []*undecodable
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
				bad = append(bad, newUndecodable([]byte(chunk[i]), []byte(str), err))
				continue
			}
			gs = append(gs, g)
		}
	}
	for _, b := range bad {
		if err := s.quarantine(ctx, b); err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// quarantine moves bad, read earlier, to its quarantine key and out of the
// indexes, unless it changed since. Its message index entry, whose ts only
// the record knew, stays; ByMessage finds no group through it.
func (s *Redis) quarantine(ctx context.Context, bad *undecodable) error {
	k := string(bad.key)
	moved := false
	err := s.watch(ctx, k, func(tx *redis.Tx) error {
		moved = false
		v, err := tx.Get(ctx, s.groupKey(k)).Bytes()
		if errors.Is(err, redis.Nil) || err == nil && !bytes.Equal(v, bad.value) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, s.quarantineKey(k), v, 0)
			p.Del(ctx, s.groupKey(k))
			p.SRem(ctx, s.groupsKey(), k)
			p.ZRem(ctx, s.resolvedKey(), k)
			p.ZRem(ctx, s.activeKey(), k)
			return nil
		})
		moved = err == nil
		return err
	})
	if err != nil {
		return fmt.Errorf("quarantine group record %q: %w", k, err)
	}
	if moved {
		s.obs.quarantinedGroup(bad)
	}
	return nil
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
			s.unlink(ctx, p, k, g)
			return nil
		})
		deleted = err == nil
		return err
	})
	return deleted, err
}

// unlink adds the commands to p that delete g, stored under k, and its
// index entries.
func (s *Redis) unlink(ctx context.Context, p redis.Pipeliner, k string, g Group) {
	p.Del(ctx, s.groupKey(k))
	p.SRem(ctx, s.groupsKey(), k)
	p.ZRem(ctx, s.resolvedKey(), k)
	p.ZRem(ctx, s.activeKey(), k)
	if g.TS != "" {
		p.Del(ctx, s.messageKey(g.Key.Channel, g.TS))
	}
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
		return Group{}, false, newUndecodable([]byte(k), b, err)
	}
	return g, true, nil
}
