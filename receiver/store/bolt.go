package store

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/receiver"
)

// Buckets of the Bolt store. The database is shared with other parts of
// amslack, so the names carry the package's prefix.
var (
	groupsBucket   = []byte("store.groups")   // Key.String() → JSON Group
	messagesBucket = []byte("store.messages") // channel, 0x1f, ts → Key.String()
)

// Bolt is a Store in an embedded bbolt database, for a single amslack
// process.
type Bolt struct {
	db *bbolt.DB
}

var _ Store = (*Bolt)(nil)

// OpenBolt returns a Store that keeps its groups in its own buckets of db,
// creating them if needed. The caller keeps owning db and closes it.
func OpenBolt(db *bbolt.DB) (*Bolt, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{groupsBucket, messagesBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Bolt{db: db}, nil
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
	return g, found, err
}

// Update implements Store. fn runs exactly once, inside the write
// transaction.
func (s *Bolt) Update(ctx context.Context, key receiver.Key, fn func(g *Group, found bool) error) (Group, error) {
	if err := ctx.Err(); err != nil {
		return Group{}, err
	}
	var g Group
	err := s.db.Update(func(tx *bbolt.Tx) error {
		k := []byte(key.String())
		old, found, err := getGroup(tx, k)
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
	return g, found, err
}

// Delete implements Store.
func (s *Bolt) Delete(ctx context.Context, key receiver.Key) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		k := []byte(key.String())
		g, found, err := getGroup(tx, k)
		if err != nil || !found {
			return err
		}
		return deleteGroup(tx, k, g)
	})
}

// Prune implements Store.
func (s *Bolt) Prune(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		n = 0
		// Deleting while iterating confuses a bbolt cursor, so collect first.
		var doomed []Group
		err := tx.Bucket(groupsBucket).ForEach(func(k, v []byte) error {
			g, err := decodeGroup(v)
			if err != nil {
				return fmt.Errorf("%q: %w", k, err)
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
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// List implements Store.
func (s *Bolt) List(ctx context.Context) ([]Group, error) {
	var gs []Group
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(groupsBucket).ForEach(func(k, v []byte) error {
			g, err := decodeGroup(v)
			if err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
			gs = append(gs, g)
			return nil
		})
	})
	return gs, err
}

func getGroup(tx *bbolt.Tx, k []byte) (Group, bool, error) {
	v := tx.Bucket(groupsBucket).Get(k)
	if v == nil {
		return Group{}, false, nil
	}
	g, err := decodeGroup(v)
	if err != nil {
		return Group{}, false, fmt.Errorf("%q: %w", k, err)
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
