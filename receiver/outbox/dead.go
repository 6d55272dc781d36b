package outbox

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"go.etcd.io/bbolt"
)

// DeadLetterPage returns up to limit dead letters whose ID is above after,
// in ID order: a listing pages through the dead-letter list by passing the
// last ID of each page as the next after, starting from 0.
func (o *Outbox) DeadLetterPage(ctx context.Context, after uint64, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("dead letter page limit must be positive, got %d", limit)
	}
	return o.deadLetters(ctx, after, limit)
}

// deadLetters returns up to limit dead letters after the ID after, all if
// limit is 0. Records it cannot decode are quarantined and left out.
func (o *Outbox) deadLetters(ctx context.Context, after uint64, limit int) ([]DeadLetter, error) {
	ds := []DeadLetter{}
	if after == math.MaxUint64 {
		return ds, nil
	}
	var bad []badRecord
	err := o.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(deadBucket).Cursor()
		for k, v := c.Seek(idKey(after + 1)); k != nil && (limit == 0 || len(ds) < limit); k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			d, err := decodeDeadLetter(k, v)
			if err != nil {
				bad = append(bad, newBadRecord(k, v, err))
				continue
			}
			ds = append(ds, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	if len(bad) > 0 {
		if err := o.quarantineDead(bad); err != nil {
			o.logger.Error("Cannot quarantine undecodable dead letters", "err", err)
		}
	}
	return ds, nil
}

// quarantineDead moves the undecodable dead letters bad, read in an
// earlier transaction, to the quarantine bucket, unless they changed since.
func (o *Outbox) quarantineDead(bad []badRecord) error {
	o.deadMu.Lock()
	defer o.deadMu.Unlock()
	var moved []badRecord
	err := o.db.Update(func(tx *bbolt.Tx) error {
		moved = moved[:0]
		for _, r := range bad {
			if string(tx.Bucket(deadBucket).Get(r.key)) != string(r.value) {
				continue
			}
			if err := quarantine(tx, deadBucket, r); err != nil {
				return err
			}
			moved = append(moved, r)
		}
		return nil
	})
	o.countCommitError(err)
	if err != nil {
		return err
	}
	o.addDead(-len(moved))
	o.quarantined(deadBucket, moved)
	return nil
}

// PruneDead durably deletes the dead letters that were dead-lettered before
// before, and returns how many it deleted.
func (o *Outbox) PruneDead(ctx context.Context, before time.Time) (int, error) {
	o.deadMu.Lock()
	defer o.deadMu.Unlock()
	var (
		doomed []uint64
		bad    []badRecord
	)
	err := o.db.Update(func(tx *bbolt.Tx) error {
		doomed, bad = doomed[:0], bad[:0]
		b := tx.Bucket(deadBucket)
		err := b.ForEach(func(k, v []byte) error {
			d, err := decodeDeadLetter(k, v)
			switch {
			case err != nil:
				bad = append(bad, newBadRecord(k, v, err))
			case d.At.Before(before):
				doomed = append(doomed, d.ID)
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		// A bbolt cursor must not see deletes while it iterates, so they
		// wait.
		for _, id := range doomed {
			if err := b.Delete(idKey(id)); err != nil {
				return err
			}
		}
		for _, r := range bad {
			if err := quarantine(tx, deadBucket, r); err != nil {
				return err
			}
		}
		return nil
	})
	o.countCommitError(err)
	if err != nil {
		return 0, fmt.Errorf("prune dead letters: %w", err)
	}
	o.addDead(-len(doomed) - len(bad))
	o.quarantined(deadBucket, bad)
	o.metrics.DroppedDead(DroppedRetention, doomed)
	return len(doomed), nil
}

// trimDead deletes the first n dead letters in ID order other than keep,
// and returns their IDs.
func trimDead(b *bbolt.Bucket, n int, keep uint64) ([]uint64, error) {
	var ids []uint64
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(ids) < n; k, _ = c.Next() {
		if id := keyID(k); id != keep {
			ids = append(ids, id)
		}
	}
	// A bbolt cursor must not see deletes while it iterates, so they wait.
	for _, id := range ids {
		if err := b.Delete(idKey(id)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// keyID returns the ID under the database key k, or 0 for a key that is
// not an ID.
func keyID(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}
