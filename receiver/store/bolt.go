package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/receiver"
)

// Buckets of the Bolt store. The database is shared with other parts of
// amslack, so the names carry the package's prefix.
var (
	groupsBucket     = []byte("store.groups")     // Key.String() → JSON Group
	messagesBucket   = []byte("store.messages")   // channel, 0x1f, ts → Key.String()
	quarantineBucket = []byte("store.quarantine") // Key.String() → a group record that could not be decoded
)

// Bolt is a Store in an embedded bbolt database, for a single amslack
// process.
type Bolt struct {
	db  *bbolt.DB
	obs *observer
}

var _ Store = (*Bolt)(nil)

// OpenBolt returns a Store that keeps its groups in its own buckets of db,
// creating them if needed. The caller keeps owning db and closes it.
func OpenBolt(db *bbolt.DB, opts ...Option) (*Bolt, error) {
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
	return &Bolt{db: db, obs: newObserver(opts)}, nil
}

// Get implements Store.
func (s *Bolt) Get(ctx context.Context, key receiver.Key) (Group, bool, error) {
	var (
		g     Group
		found bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		g, found, err = getGroup(tx, []byte(key.String()))
		return err
	})
	if bad, ok := errors.AsType[*undecodable](err); ok {
		return Group{}, false, s.quarantine(bad)
	}
	return g, found, err
}

// Update implements Store. fn runs exactly once, inside the write
// transaction.
func (s *Bolt) Update(ctx context.Context, key receiver.Key, fn func(g *Group, found bool) error) (Group, error) {
	if err := ctx.Err(); err != nil {
		return Group{}, err
	}
	var (
		g   Group
		bad *undecodable
	)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		k := []byte(key.String())
		old, found, err := getGroup(tx, k)
		if b, ok := errors.AsType[*undecodable](err); ok {
			// The group starts afresh, as if it were not stored.
			if err := quarantineGroup(tx, b); err != nil {
				return err
			}
			bad, old, found, err = b, Group{}, false, nil
		}
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
		return Group{}, err
	}
	if bad != nil {
		s.obs.quarantinedGroup(bad)
	}
	return g, nil
}

// ByMessage implements Store.
func (s *Bolt) ByMessage(ctx context.Context, channel, ts string) (Group, bool, error) {
	var (
		g     Group
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
	if bad, ok := errors.AsType[*undecodable](err); ok {
		return Group{}, false, s.quarantine(bad)
	}
	return g, found, err
}

// Delete implements Store.
func (s *Bolt) Delete(ctx context.Context, key receiver.Key) error {
	var bad *undecodable
	err := s.db.Update(func(tx *bbolt.Tx) error {
		k := []byte(key.String())
		g, found, err := getGroup(tx, k)
		if b, ok := errors.AsType[*undecodable](err); ok {
			bad = b
			return quarantineGroup(tx, b)
		}
		if err != nil || !found {
			return err
		}
		return deleteGroup(tx, k, g)
	})
	if err == nil && bad != nil {
		s.obs.quarantinedGroup(bad)
	}
	return err
}

// Prune implements Store.
func (s *Bolt) Prune(ctx context.Context, before time.Time) (int, error) {
	n := 0
	var bad []*undecodable
	err := s.db.Update(func(tx *bbolt.Tx) error {
		n, bad = 0, bad[:0]
		// Deleting while iterating confuses a bbolt cursor, so collect first.
		var doomed []Group
		err := tx.Bucket(groupsBucket).ForEach(func(k, v []byte) error {
			g, err := decodeGroup(v)
			if err != nil {
				bad = append(bad, newUndecodable(k, v, err))
				return nil
			}
			if prunable(g, before) {
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
		s.obs.quarantinedGroup(b)
	}
	return n, nil
}

// List implements Store.
func (s *Bolt) List(ctx context.Context) ([]Group, error) {
	var (
		gs  []Group
		bad []*undecodable
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(groupsBucket).ForEach(func(k, v []byte) error {
			g, err := decodeGroup(v)
			if err != nil {
				bad = append(bad, newUndecodable(k, v, err))
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
func (s *Bolt) quarantine(bad *undecodable) error {
	moved := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(groupsBucket).Get(bad.key); v == nil || !bytes.Equal(v, bad.value) {
			return nil
		}
		moved = true
		return quarantineGroup(tx, bad)
	})
	if err != nil {
		return fmt.Errorf("quarantine group record %q: %w", bad.key, err)
	}
	if moved {
		s.obs.quarantinedGroup(bad)
	}
	return nil
}

// quarantineGroup moves bad from the groups bucket to the quarantine
// bucket, where an operator can inspect it with any bbolt tool. Its message
// index entry, whose ts only the record knew, stays; ByMessage finds no
// group through it.
func quarantineGroup(tx *bbolt.Tx, bad *undecodable) error {
	if err := tx.Bucket(quarantineBucket).Put(bad.key, bad.value); err != nil {
		return err
	}
	return tx.Bucket(groupsBucket).Delete(bad.key)
}

// getGroup returns the group stored under k; an *undecodable error if its
// record cannot be decoded.
func getGroup(tx *bbolt.Tx, k []byte) (Group, bool, error) {
	v := tx.Bucket(groupsBucket).Get(k)
	if v == nil {
		return Group{}, false, nil
	}
	g, err := decodeGroup(v)
	if err != nil {
		return Group{}, false, newUndecodable(k, v, err)
	}
	return g, true, nil
}

// deleteGroup deletes g, stored under k, and its message index entry.
func deleteGroup(tx *bbolt.Tx, k []byte, g Group) error {
	if err := tx.Bucket(groupsBucket).Delete(k); err != nil {
		return err
	}
	if g.TS == "" {
		return nil
	}
	return tx.Bucket(messagesBucket).Delete([]byte(messageKey(g.Key.Channel, g.TS)))
}
