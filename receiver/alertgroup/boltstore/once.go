package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// onceBucket holds the claims of Once: name → when the claim ends, as Unix
// nanoseconds in 8 big-endian bytes. It is part of the on-disk format.
var onceBucket = []byte("store.once")

// Once implements alertgroup.Store. The claim is a record in its own
// bucket; each call also deletes the claims that have ended, which are few:
// one per digest route and due time.
func (s *Store) Once(ctx context.Context, name string, keep time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if name == "" {
		return false, errors.New("once: empty name")
	}
	now := time.Now()
	first := false
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(onceBucket)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", onceBucket, err)
		}
		if err := dropEnded(b, now); err != nil {
			return err
		}
		if b.Get([]byte(name)) != nil {
			return nil
		}
		first = true
		v := make([]byte, 8)
		binary.BigEndian.PutUint64(v, uint64(now.Add(keep).UnixNano()))
		return b.Put([]byte(name), v)
	})
	if err != nil {
		return false, err
	}
	return first, nil
}

// Forget implements alertgroup.Store.
func (s *Store) Forget(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(onceBucket)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(name))
	})
}

// dropEnded deletes the claims of b that ended before now. A record that is
// not 8 bytes long cannot come from Once; it is dropped too.
func dropEnded(b *bbolt.Bucket, now time.Time) error {
	var ended [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) <= now.UnixNano() {
			ended = append(ended, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range ended {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
