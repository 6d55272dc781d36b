// Package redisstore owns the alertgroup.Store kept in Redis and shared by
// several amslack replicas: its keys, its indexes and its quarantine of
// records that cannot be decoded.
package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/internal/quarantine"
)

// maxTxAttempts bounds how often Redis retries an optimistic transaction
// that lost the race to another writer of the same group. Replicas rarely
// write one group at the same moment, so running out means something is
// badly wrong.
const maxTxAttempts = 100

// listChunk is how many groups List fetches with one MGET.
const listChunk = 500

// Store is an alertgroup.Store in Redis, shared by several amslack replicas.
//
// Under its prefix it keeps:
//
//	group:<Key.String()>        alertgroup.EncodeGroup
//	message:<channel>\x1f<ts>   Key.String() of the group the message shows
//	groups                      set of the Key.String() of every group
//	resolved                    sorted set of resolved groups by ResolvedAt (Unix ms)
//	active                      sorted set of the other groups by LastActive (Unix ms)
//	quarantine:<Key.String()>   a group record that could not be decoded
//
// Writes happen in MULTI transactions guarded by WATCH on the group's key,
// so a group and its indexes change together.
type Store struct {
	c      *redis.Client
	prefix string
	obs    *quarantine.Observer
}

var _ alertgroup.Store = (*Store)(nil)

// Option configures a Store.
type Option = quarantine.Option

// WithLogger makes the store log the records it sets aside to logger.
func WithLogger(logger *slog.Logger) Option { return quarantine.WithLogger(logger) }

// WithRegisterer registers the store's metrics with reg.
func WithRegisterer(reg prometheus.Registerer) Option { return quarantine.WithRegisterer(reg) }

// New returns a Store that keeps its groups in c under keys starting with
// prefix, such as "amslack:".
func New(c *redis.Client, prefix string, opts ...Option) *Store {
	return &Store{c: c, prefix: prefix, obs: quarantine.NewObserver(opts)}
}

func (s *Store) groupKey(k string) string { return s.prefix + "group:" + k }
func (s *Store) messageKey(channel, ts string) string {
	return s.prefix + "message:" + channel + "\x1f" + ts
}
func (s *Store) groupsKey() string   { return s.prefix + "groups" }
func (s *Store) resolvedKey() string { return s.prefix + "resolved" }
func (s *Store) activeKey() string   { return s.prefix + "active" }
func (s *Store) quarantineKey(k string) string {
	return s.prefix + "quarantine:" + k
}

// Get implements alertgroup.Store.
func (s *Store) Get(ctx context.Context, key alertgroup.Key) (alertgroup.Group, bool, error) {
	g, found, err := s.get(ctx, s.c, key.String())
	if bad, ok := errors.AsType[*quarantine.Undecodable](err); ok {
		return alertgroup.Group{}, false, s.quarantine(ctx, bad)
	}
	return g, found, err
}

// Update implements alertgroup.Store. A group whose record cannot be
// decoded is quarantined and starts afresh.
func (s *Store) Update(ctx context.Context, key alertgroup.Key, fn func(g *alertgroup.Group, found bool) error) (alertgroup.Group, error) {
	g, err := s.update(ctx, key, fn)
	if bad, ok := errors.AsType[*quarantine.Undecodable](err); ok {
		if err := s.quarantine(ctx, bad); err != nil {
			return alertgroup.Group{}, err
		}
		g, err = s.update(ctx, key, fn)
	}
	return g, err
}

func (s *Store) update(ctx context.Context, key alertgroup.Key, fn func(g *alertgroup.Group, found bool) error) (alertgroup.Group, error) {
	k := key.String()
	var g alertgroup.Group
	fence, fenced := alertgroup.FenceOf(ctx)
	err := s.watch(ctx, k, fence.Key, func(tx *redis.Tx) error {
		if fenced {
			if err := checkFence(ctx, tx, fence); err != nil {
				return err
			}
		}
		old, found, err := s.get(ctx, tx, k)
		if err != nil {
			return err
		}
		var v []byte
		if g, v, err = alertgroup.ApplyUpdate(key, old, found, fn); err != nil {
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
		return alertgroup.Group{}, err
	}
	return g, nil
}

// ByMessage implements alertgroup.Store.
func (s *Store) ByMessage(ctx context.Context, channel, ts string) (alertgroup.Group, bool, error) {
	k, err := s.c.Get(ctx, s.messageKey(channel, ts)).Result()
	if errors.Is(err, redis.Nil) {
		return alertgroup.Group{}, false, nil
	}
	if err != nil {
		return alertgroup.Group{}, false, err
	}
	g, found, err := s.get(ctx, s.c, k)
	if bad, ok := errors.AsType[*quarantine.Undecodable](err); ok {
		return alertgroup.Group{}, false, s.quarantine(ctx, bad)
	}
	if err != nil || !found || g.TS != ts || g.Key.Channel != channel {
		// The message was replaced or its group deleted between the two
		// reads.
		return alertgroup.Group{}, false, err
	}
	return g, true, nil
}

// Delete implements alertgroup.Store.
func (s *Store) Delete(ctx context.Context, key alertgroup.Key) error {
	_, err := s.deleteIf(ctx, key.String(), func(alertgroup.Group) bool { return true })
	if bad, ok := errors.AsType[*quarantine.Undecodable](err); ok {
		return s.quarantine(ctx, bad)
	}
	return err
}

// index adds the commands to p that file g, stored under k, in the index
// Prune reads: resolved by ResolvedAt, the others by LastActive.
func (s *Store) index(ctx context.Context, p redis.Pipeliner, k string, g alertgroup.Group) {
	switch last := g.LastActive(); {
	case g.Status == alertgroup.StatusResolved && !g.ResolvedAt.IsZero():
		p.ZAdd(ctx, s.resolvedKey(), redis.Z{Score: float64(g.ResolvedAt.UnixMilli()), Member: k})
		p.ZRem(ctx, s.activeKey(), k)
	case g.Status != alertgroup.StatusResolved && !last.IsZero():
		p.ZRem(ctx, s.resolvedKey(), k)
		p.ZAdd(ctx, s.activeKey(), redis.Z{Score: float64(last.UnixMilli()), Member: k})
	default:
		p.ZRem(ctx, s.resolvedKey(), k)
		p.ZRem(ctx, s.activeKey(), k)
	}
}

// Prune implements alertgroup.Store. It reads candidates from the indexes
// and checks each again inside its own transaction, so a group notified or
// resolved meanwhile gets what it now deserves. Groups stored before the
// active index existed are in neither index: they are candidates too, and
// those that stay are filed in the index their times call for.
func (s *Store) Prune(ctx context.Context, before time.Time) (int, error) {
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
		if bad, ok := errors.AsType[*quarantine.Undecodable](err); ok {
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
func (s *Store) prune(ctx context.Context, k string, before time.Time, reindex bool) (bool, error) {
	if !reindex {
		return s.deleteIf(ctx, k, func(g alertgroup.Group) bool { return g.Prunable(before) })
	}
	deleted := false
	err := s.watch(ctx, k, "", func(tx *redis.Tx) error {
		deleted = false
		g, found, err := s.get(ctx, tx, k)
		if err != nil || !found {
			return err
		}
		if g.Prunable(before) {
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

// List implements alertgroup.Store.
func (s *Store) List(ctx context.Context) ([]alertgroup.Group, error) {
	ks, err := s.c.SMembers(ctx, s.groupsKey()).Result()
	if err != nil {
		return nil, err
	}
	slices.Sort(ks)
	gs := make([]alertgroup.Group, 0, len(ks))
	var bad []*quarantine.Undecodable
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
			g, err := alertgroup.DecodeGroup([]byte(str))
			if err != nil {
				bad = append(bad, quarantine.NewUndecodable([]byte(chunk[i]), []byte(str), err))
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
func (s *Store) quarantine(ctx context.Context, bad *quarantine.Undecodable) error {
	k := string(bad.Key)
	moved := false
	err := s.watch(ctx, k, "", func(tx *redis.Tx) error {
		moved = false
		v, err := tx.Get(ctx, s.groupKey(k)).Bytes()
		if errors.Is(err, redis.Nil) || err == nil && !bytes.Equal(v, bad.Value) {
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
		s.obs.Quarantined(bad)
	}
	return nil
}

// deleteIf deletes the group stored under k, and its index entries, if it
// exists and del says so.
func (s *Store) deleteIf(ctx context.Context, k string, del func(alertgroup.Group) bool) (bool, error) {
	deleted := false
	err := s.watch(ctx, k, "", func(tx *redis.Tx) error {
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
func (s *Store) unlink(ctx context.Context, p redis.Pipeliner, k string, g alertgroup.Group) {
	p.Del(ctx, s.groupKey(k))
	p.SRem(ctx, s.groupsKey(), k)
	p.ZRem(ctx, s.resolvedKey(), k)
	p.ZRem(ctx, s.activeKey(), k)
	if g.TS != "" {
		p.Del(ctx, s.messageKey(g.Key.Channel, g.TS))
	}
}

// watch runs fn in a WATCH transaction on the group stored under k, and on
// the lease record fence when it is not empty, retrying when another writer
// changed either before fn's MULTI ran.
func (s *Store) watch(ctx context.Context, k, fence string, fn func(*redis.Tx) error) error {
	keys := []string{s.groupKey(k)}
	if fence != "" {
		keys = append(keys, fence)
	}
	for range maxTxAttempts {
		err := s.c.Watch(ctx, fn, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return fmt.Errorf("group %q changed under %d attempts to update it: %w", k, maxTxAttempts, redis.TxFailedErr)
}

func (s *Store) get(ctx context.Context, c redis.Cmdable, k string) (alertgroup.Group, bool, error) {
	b, err := c.Get(ctx, s.groupKey(k)).Bytes()
	if errors.Is(err, redis.Nil) {
		return alertgroup.Group{}, false, nil
	}
	if err != nil {
		return alertgroup.Group{}, false, err
	}
	g, err := alertgroup.DecodeGroup(b)
	if err != nil {
		return alertgroup.Group{}, false, quarantine.NewUndecodable([]byte(k), b, err)
	}
	return g, true, nil
}

// checkFence returns alertgroup.ErrFenced unless the lease record f.Key
// holds f.Token. The record is watched, so a lease that passes to another
// replica after the check fails the transaction, and the retry sees it.
func checkFence(ctx context.Context, c redis.Cmdable, f alertgroup.Fence) error {
	v, err := c.Get(ctx, f.Key).Result()
	if errors.Is(err, redis.Nil) || err == nil && v != f.Token {
		return fmt.Errorf("write group under lease %s: %w", f.Key, alertgroup.ErrFenced)
	}
	return err
}
