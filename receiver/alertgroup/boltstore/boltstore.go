// Package boltstore owns the alertgroup.Store kept in amslack's embedded
// bbolt database, for a single amslack process: its buckets, its message
// index and its quarantine of records that cannot be decoded.
package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/internal/quarantine"
)

// Buckets of the store. The database is shared with other parts of amslack
// (the outbox), so the names carry a prefix of their own. They are part of
// the on-disk format.
var (
	groupsBucket     = []byte("store.groups")     // Key.String() → alertgroup.EncodeGroup
	messagesBucket   = []byte("store.messages")   // channel, 0x1f, ts → Key.String()
	quarantineBucket = []byte("store.quarantine") // Key.String() → a group record that could not be decoded
)

// Store is an alertgroup.Store in an embedded bbolt database, for a single
// amslack process.
type Store struct {
	db  *bbolt.DB
	obs *quarantine.Observer
}

var _ alertgroup.Store = (*Store)(nil)

// Option configures a Store.
type Option = quarantine.Option

// WithLogger makes the store log the records it sets aside to logger.
func WithLogger(logger *slog.Logger) Option { return quarantine.WithLogger(logger) }

// WithRegisterer registers the store's metrics with reg.
func WithRegisterer(reg prometheus.Registerer) Option { return quarantine.WithRegisterer(reg) }

// Open returns a Store that keeps its groups in its own buckets of db,
// creating them if needed. The caller keeps owning db and closes it.
func Open(db *bbolt.DB, opts ...Option) (*Store, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{groupsBucket, messagesBucket, quarantineBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Store{db: db, obs: quarantine.NewObserver(opts)}, nil
}

// Get implements alertgroup.Store.
func (s *Store) Get(ctx context.Context, key alertgroup.Key) (alertgroup.Group, bool, error) {
	var (
		g     alertgroup.Group
		found bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		g, found, err = getGroup(tx, []byte(key.String()))
		return err
	})
	if bad, ok := errors.AsType[*quarantine.Undecodable](err); ok {
		return alertgroup.Group{}, false, s.quarantine(bad)
	}
	return g, found, err
}

// Update implements alertgroup.Store. fn runs exactly once, inside the
// write transaction.
func (s *Store) Update(ctx context.Context, key alertgroup.Key, fn func(g *alertgroup.Group, found bool) error) (alertgroup.Group, error) {
	if err := ctx.Err(); err != nil {
		return alertgroup.Group{}, err
	}
	var (
		g   alertgroup.Group
		bad *quarantine.Undecodable
	)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		k := []byte(key.String())
		old, found, err := getGroup(tx, k)
		if b, ok := errors.AsType[*quarantine.Undecodable](err); ok {
			// The group starts afresh, as if it were not stored.
			if err := quarantineGroup(tx, b); err != nil {
				return err
			}
			bad, old, found, err = b, alertgroup.Group{}, false, nil
		}
		if err != nil {
			return err
		}
		var v []byte
		if g, v, err = alertgroup.ApplyUpdate(key, old, found, fn); err != nil {
			return err
		}
		if err := tx.Bucket(groupsBucket).Put(k, v); err != nil {
			return err
		}
		msgs := tx.Bucket(messagesBucket)
		if found && old.TS != "" && old.TS != g.TS {
			if err := msgs.Delete([]byte(messageKey(key.Channel, old.TS))); err != nil {
				return err
			}
		}
		if g.TS != "" {
			return msgs.Put([]byte(messageKey(key.Channel, g.TS)), k)
		}
		return nil
	})
	if err != nil {
		return alertgroup.Group{}, err
	}
	if bad != nil {
		s.obs.Quarantined(bad)
	}
	return g, nil
}

// ByMessage implements alertgroup.Store.
func (s *Store) ByMessage(ctx context.Context, channel, ts string) (alertgroup.Group, bool, error) {
	var (
		g     alertgroup.Group
		found bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		k := tx.Bucket(messagesBucket).Get([]byte(messageKey(channel, ts)))
		if k == nil {
			return nil
		}
		var err error
		g, found, err = getGroup(tx, k)
		return err
	})
	if bad, ok := errors.AsType[*quarantine.Undecodable](err); ok {
		return alertgroup.Group{}, false, s.quarantine(bad)
	}
	return g, found, err
}

// Delete implements alertgroup.Store.
func (s *Store) Delete(ctx context.Context, key alertgroup.Key) error {
	var bad *quarantine.Undecodable
	err := s.db.Update(func(tx *bbolt.Tx) error {
		k := []byte(key.String())
		g, found, err := getGroup(tx, k)
		if b, ok := errors.AsType[*quarantine.Undecodable](err); ok {
			bad = b
			return quarantineGroup(tx, b)
		}
		if err != nil || !found {
			return err
		}
		return deleteGroup(tx, k, g)
	})
	if err == nil && bad != nil {
		s.obs.Quarantined(bad)
	}
	return err
}

// Prune implements alertgroup.Store.
func (s *Store) Prune(ctx context.Context, before time.Time) (int, error) {
	n := 0
	var bad []*quarantine.Undecodable
	err := s.db.Update(func(tx *bbolt.Tx) error {
		n, bad = 0, bad[:0]
		// Deleting while iterating confuses a bbolt cursor, so collect first.
		var doomed []alertgroup.Group
		err := tx.Bucket(groupsBucket).ForEach(func(k, v []byte) error {
			g, err := alertgroup.DecodeGroup(v)
			if err != nil {
				bad = append(bad, quarantine.NewUndecodable(k, v, err))
				return nil
			}
			if g.Prunable(before) {
				doomed = append(doomed, g)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, g := range doomed {
			if err := deleteGroup(tx, []byte(g.Key.String()), g); err != nil {
				return err
			}
			n++
		}
		for _, b := range bad {
			if err := quarantineGroup(tx, b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, b := range bad {
		s.obs.Quarantined(b)
	}
	return n, nil
}

// List implements alertgroup.Store.
func (s *Store) List(ctx context.Context) ([]alertgroup.Group, error) {
	var (
		gs  []alertgroup.Group
		bad []*quarantine.Undecodable
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(groupsBucket).ForEach(func(k, v []byte) error {
			g, err := alertgroup.DecodeGroup(v)
			if err != nil {
				bad = append(bad, quarantine.NewUndecodable(k, v, err))
				return nil
			}
			gs = append(gs, g)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for _, b := range bad {
		if err := s.quarantine(b); err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// quarantine moves bad, read in an earlier transaction, to the quarantine
// bucket unless it changed since.
func (s *Store) quarantine(bad *quarantine.Undecodable) error {
	moved := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(groupsBucket).Get(bad.Key); v == nil || !bytes.Equal(v, bad.Value) {
			return nil
		}
		moved = true
		return quarantineGroup(tx, bad)
	})
	if err != nil {
		return fmt.Errorf("quarantine group record %q: %w", bad.Key, err)
	}
	if moved {
		s.obs.Quarantined(bad)
	}
	return nil
}

// quarantineGroup moves bad from the groups bucket to the quarantine
// bucket, where an operator can inspect it with any bbolt tool. Its message
// index entry, whose ts only the record knew, stays; ByMessage finds no
// group through it.
func quarantineGroup(tx *bbolt.Tx, bad *quarantine.Undecodable) error {
	if err := tx.Bucket(quarantineBucket).Put(bad.Key, bad.Value); err != nil {
		return err
	}
	return tx.Bucket(groupsBucket).Delete(bad.Key)
}

// getGroup returns the group stored under k; a *quarantine.Undecodable
// error if its record cannot be decoded.
func getGroup(tx *bbolt.Tx, k []byte) (alertgroup.Group, bool, error) {
	v := tx.Bucket(groupsBucket).Get(k)
	if v == nil {
		return alertgroup.Group{}, false, nil
	}
	g, err := alertgroup.DecodeGroup(v)
	if err != nil {
		return alertgroup.Group{}, false, quarantine.NewUndecodable(k, v, err)
	}
	return g, true, nil
}

// deleteGroup deletes g, stored under k, and its message index entry.
func deleteGroup(tx *bbolt.Tx, k []byte, g alertgroup.Group) error {
	if err := tx.Bucket(groupsBucket).Delete(k); err != nil {
		return err
	}
	if g.TS == "" {
		return nil
	}
	return tx.Bucket(messagesBucket).Delete([]byte(messageKey(g.Key.Channel, g.TS)))
}

// messageKey is the key of a Slack message in the message index.
func messageKey(channel, ts string) string { return channel + "\x1f" + ts }
