package outbox

import (
	"cmp"
	"slices"

	"go.etcd.io/bbolt"
)

// This file exports to the tests of package outbox_test what they check
// beyond Queue. They are an external package so that they can use
// outboxtest, which imports outbox.

// Buckets of the outbox, and the database key of an ID.
var (
	PendingBucket    = pendingBucket
	DeadBucket       = deadBucket
	QuarantineBucket = quarantineBucket
	IDKey            = idKey
)

// Stored returns the entries in tx's pending bucket, in ID order.
func Stored(tx *bbolt.Tx) ([]Entry, error) {
	var es []Entry
	err := tx.Bucket(pendingBucket).ForEach(func(k, v []byte) error {
		e, err := decodeEntry(k, v)
		es = append(es, e)
		return err
	})
	return es, err
}

// Held returns the entries that o holds in memory, pending and in flight,
// in ID order, and how many keys and channels its index keeps.
func (o *Outbox) Held() (entries []Entry, keys, channels int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.slots {
		for _, it := range []*item{s.pending, s.inflight} {
			if it != nil {
				entries = append(entries, it.Entry)
			}
		}
	}
	slices.SortFunc(entries, func(a, b Entry) int { return cmp.Compare(a.ID, b.ID) })
	return entries, len(o.slots), len(o.queues)
}

// Unclaim makes e, in flight, pending again without touching the database.
func (o *Outbox) Unclaim(e Entry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := e.Notification.Key
	s := o.slots[key]
	s.pending, s.inflight = s.inflight, nil
	o.queues[key.Channel].inflight--
	o.settle(key, s)
}
