// Package outbox owns the durable queue between the webhook receiver and the
// sender. An accepted notification is committed to disk before Alertmanager
// gets its 200, so nothing accepted is lost to a crash; each alert group and
// destination has at most one entry waiting, which newer notifications
// replace; and the sender claims entries per channel by priority, retries
// them with backoff, and sets aside what can never be delivered in a
// dead-letter list for an operator.
//
// The queue lives in bbolt and is mirrored by an in-memory index (a heap of
// ready entries and a heap of entries waiting for their next attempt per
// channel), which Open rebuilds from the database.
package outbox

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Buckets of the outbox. The database is shared with other parts of
// amslack, so the names carry the package's prefix.
var (
	pendingBucket    = []byte("outbox.pending")    // ID → JSON Entry
	deadBucket       = []byte("outbox.dead")       // ID → JSON DeadLetter
	quarantineBucket = []byte("outbox.quarantine") // bucket, 0x1f, key → a record that could not be decoded
)

var (
	// ErrNotInFlight is returned by Done, Retry and DeadLetter for an entry
	// that is not claimed.
	ErrNotInFlight = errors.New("outbox entry is not in flight")
	// ErrNotFound is returned for a dead letter that does not exist.
	ErrNotFound = errors.New("no such dead letter")
)

// Options configure a Queue: the Outbox in bbolt, and the outbox in Redis,
// whose options embed them. The zero value works.
type Options struct {
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Priority ranks a notification at enqueue time: lower sends first.
	// SeverityPriority(DefaultSeverityOrder) if nil. For a KindRefresh entry it gets a
	// notification without a Message.
	Priority func(alertgroup.Notification) int
	// Logger gets a line for each dead letter; nothing is logged if nil.
	Logger *slog.Logger
	// Registerer gets the outbox's metrics; they are not registered if nil.
	Registerer prometheus.Registerer
	// DeadLetterLimit is the most dead letters kept: beyond it, the dead
	// letters of the entries enqueued first are dropped. 0 keeps them all.
	DeadLetterLimit int
}

// WithDefaults returns opts with the defaults of what it leaves unset:
// time.Now, SeverityPriority(DefaultSeverityOrder) and a Logger that
// discards. A negative DeadLetterLimit is 0.
func (opts Options) WithDefaults() Options {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Priority == nil {
		opts.Priority = SeverityPriority(DefaultSeverityOrder)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.DeadLetterLimit = max(0, opts.DeadLetterLimit)
	return opts
}

// Outbox is the durable queue. Its methods are safe for concurrent use.
//
// Each alertgroup.Key has at most one pending entry and at most one entry in
// flight. Writes for one key are serialised (see hold), writes for
// different keys share bbolt transactions through DB.Batch, so concurrent
// callers share one fsync.
type Outbox struct {
	db       *bbolt.DB
	now      func() time.Time
	priority func(alertgroup.Notification) int
	logger   *slog.Logger
	metrics  *metrics
	wake     chan struct{}
	// writers counts the enqueues committing now.
	writers atomic.Int32
	// deadLimit is Options.DeadLetterLimit.
	deadLimit int
	// deadMu serialises the writes to the dead-letter list, so that dead
	// counts it exactly and the limit holds.
	deadMu sync.Mutex

	// mu guards slots, queues, entries and dead, and the items they hold.
	mu sync.Mutex
	// slots has the state of every key that has an entry or a write going
	// on, and no other: memory grows with keys, not notifications.
	slots map[alertgroup.Key]*slot
	// queues has a queue for every channel that has an entry.
	queues  map[string]*queue
	entries int
	dead    int
}

// slot is one key's state.
type slot struct {
	// pending is the entry waiting to be claimed. It is in its queue's
	// heaps unless inflight or writing is set.
	pending *item
	// inflight is the claimed entry.
	inflight *item
	// writing is set while a write holds the key, and closed when it ends.
	writing chan struct{}
}

// Open returns the outbox kept in db, creating its buckets if needed, and
// loads the pending entries into memory. Entries that were in flight when the
// process stopped are pending again. The caller keeps owning db.
func Open(db *bbolt.DB, opts Options) (*Outbox, error) {
	opts = opts.WithDefaults()
	o := &Outbox{
		db:        db,
		now:       opts.Now,
		priority:  opts.Priority,
		logger:    opts.Logger,
		deadLimit: opts.DeadLetterLimit,
		wake:      make(chan struct{}, 1),
		slots:     map[alertgroup.Key]*slot{},
		queues:    map[string]*queue{},
	}

	var (
		entries []Entry
		dead    int
		merged  int
		bad     []badRecord
		dropped []uint64
	)
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{pendingBucket, deadBucket, quarantineBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		var err error
		entries, merged, bad, err = loadPending(tx)
		if err != nil {
			return err
		}
		// A limit lowered since the last run applies at once.
		deadB := tx.Bucket(deadBucket)
		dead = deadB.Stats().KeyN
		if o.deadLimit > 0 && dead > o.deadLimit {
			dropped, err = trimDead(deadB, dead-o.deadLimit, 0)
			dead -= len(dropped)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load outbox: %w", err)
	}
	if merged > 0 {
		o.logger.Info("merged outbox entries left in flight", "merged", merged)
	}

	o.metrics = newMetrics(opts.Registerer, o.logger, o.oldestPendingSeconds)
	o.quarantined(pendingBucket, bad)
	o.metrics.DroppedDead(DroppedLimit, dropped)
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range entries {
		s := &slot{pending: &item{Entry: e, i: -1}}
		o.slots[e.Notification.Key] = s
		o.added(e.Notification.Key.Channel)
		o.settle(e.Notification.Key, s)
	}
	o.dead = dead
	o.metrics.deadLetters.Set(float64(dead))
	return o, nil
}

// loadPending returns the pending entries. A key can have two entries
// stored: the one in flight when the process stopped and the one that
// waited behind it. loadPending makes them one, as Retry would have, and
// returns how many it merged away. It moves the records it cannot decode to
// the quarantine bucket and returns them: one bad record must not keep
// amslack from delivering the others.
func loadPending(tx *bbolt.Tx) (entries []Entry, merged int, bad []badRecord, err error) {
	b := tx.Bucket(pendingBucket)
	byKey := map[alertgroup.Key]int{}
	touched := map[int]bool{}
	var stale []uint64
	err = b.ForEach(func(k, v []byte) error {
		e, err := decodeEntry(k, v)
		if err != nil {
			bad = append(bad, newBadRecord(k, v, err))
			return nil
		}
		i, ok := byKey[e.Notification.Key]
		if !ok {
			byKey[e.Notification.Key] = len(entries)
			entries = append(entries, e)
			return nil
		}
		// ForEach goes in ID order: entries[i] is the older one.
		entries[i] = supersede(entries[i], e)
		touched[i] = true
		stale = append(stale, e.ID)
		return nil
	})
	if err != nil {
		return nil, 0, nil, err
	}
	// A bbolt cursor must not see deletes while it iterates, so they wait.
	for _, id := range stale {
		if err := b.Delete(idKey(id)); err != nil {
			return nil, 0, nil, err
		}
	}
	for _, r := range bad {
		if err := quarantine(tx, pendingBucket, r); err != nil {
			return nil, 0, nil, err
		}
	}
	for i := range touched {
		v, err := encodeEntry(entries[i])
		if err != nil {
			return nil, 0, nil, err
		}
		if err := b.Put(idKey(entries[i].ID), v); err != nil {
			return nil, 0, nil, err
		}
	}
	return entries, len(stale), bad, nil
}

// DefaultSeverityOrder ranks severities, most urgent first, where no other
// order is configured.
var DefaultSeverityOrder = []string{"critical", "error", "warning", "info", "none"}

// SeverityPriority returns a Priority that ranks a notification by the most
// urgent "severity" label among its alerts, by its index in order (most
// urgent first, compared without case). A severity that order does not
// name, or none at all, ranks as "none" where order names it, else after
// every named one. A notification without a Message, that is a refresh
// after a click, ranks 0: someone is waiting to see their click take
// effect.
func SeverityPriority(order []string) func(alertgroup.Notification) int {
	rank := make(map[string]int, len(order))
	for i, s := range order {
		rank[strings.ToLower(s)] = i
	}
	unnamed, ok := rank["none"]
	if !ok {
		unnamed = len(order)
	}
	of := func(severity string) int {
		if r, ok := rank[strings.ToLower(severity)]; ok {
			return r
		}
		return unnamed
	}
	return func(n alertgroup.Notification) int {
		if n.Message == nil || n.Message.Data == nil {
			return 0
		}
		p := of(n.Message.CommonLabels["severity"])
		for _, a := range n.Message.Alerts {
			p = min(p, of(a.Labels["severity"]))
		}
		return p
	}
}

// Enqueue durably adds n as its key's pending entry: when it returns nil the
// notification survives a crash. A pending entry of the same key that is
// not claimed yet takes n's place in it (coalescing); one in flight is left
// alone, and n waits behind it.
func (o *Outbox) Enqueue(ctx context.Context, n alertgroup.Notification) error {
	if n.Message == nil {
		return errors.New("enqueue a notification without a message")
	}
	if n.ReceivedAt.IsZero() {
		n.ReceivedAt = o.now()
	}
	e := Entry{Kind: KindNotify, Notification: n, Priority: o.priority(n), FirstAt: n.ReceivedAt}
	return o.add(ctx, e)
}

// Refresh durably asks for the stored group of key to be rendered again,
// as route says, for example after a click changed its state; notes say
// what changed, for a thread reply. A pending notification of key already
// renders the latest state: the refresh is merged into it (see supersede),
// marking it Refreshed so that it is sent even if its alerts did not change.
func (o *Outbox) Refresh(ctx context.Context, key alertgroup.Key, route string, notes ...string) error {
	n := alertgroup.Notification{Key: key, Route: route, ReceivedAt: o.now()}
	e := Entry{Kind: KindRefresh, Notification: n, Priority: o.priority(n), FirstAt: n.ReceivedAt, Notes: notes}
	return o.add(ctx, e)
}

// add durably adds e and counts it.
func (o *Outbox) add(ctx context.Context, e Entry) error {
	coalesced, err := o.put(ctx, e, nil)
	if err != nil {
		return err
	}
	o.metrics.Enqueued(e.Kind, coalesced)
	return nil
}

// put durably makes in its key's pending entry, coalescing it into the one
// there is, and reports whether it did. drop, if not nil, runs in the same
// transaction.
func (o *Outbox) put(ctx context.Context, in Entry, drop func(*bbolt.Tx) error) (coalesced bool, err error) {
	key := in.Notification.Key
	s, err := o.hold(ctx, key)
	if err != nil {
		return false, err
	}
	cur := s.pending
	var curEntry Entry
	if cur != nil {
		curEntry = cur.Entry
	}
	o.mu.Unlock()

	e := in
	if cur != nil {
		e = supersede(curEntry, in)
	}
	v, err := encodeEntry(e)
	if err == nil {
		// A lone write commits at once; writes that overlap share a commit
		// through Batch, which waits up to MaxBatchDelay for company. That
		// wait is pure latency when nobody else is writing.
		commit := o.db.Batch
		if o.writers.Add(1) == 1 {
			commit = o.db.Update
		}
		defer o.writers.Add(-1)
		err = commit(func(tx *bbolt.Tx) error {
			b := tx.Bucket(pendingBucket)
			if cur == nil {
				// Batch may run this more than once; each run's
				// transaction starts from the same sequence.
				id, err := b.NextSequence()
				if err != nil {
					return err
				}
				e.ID = id
			}
			if drop != nil {
				if err := drop(tx); err != nil {
					return err
				}
			}
			return b.Put(idKey(e.ID), v)
		})
		o.countCommitError(err)
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	defer o.unhold(key, s)
	if err != nil {
		return false, fmt.Errorf("commit outbox entry: %w", err)
	}
	if cur != nil {
		cur.Entry = e
	} else {
		s.pending = &item{Entry: e, i: -1}
		o.added(key.Channel)
	}
	return cur != nil, nil
}

// hold waits until no other write holds key, then holds it and returns its
// slot with o.mu locked. While a write holds a key, the key's pending entry
// is out of the heaps, so nobody claims it, and only the holder changes it.
// unhold ends the hold.
func (o *Outbox) hold(ctx context.Context, key alertgroup.Key) (*slot, error) {
	o.mu.Lock()
	for {
		s := o.slots[key]
		if s == nil {
			s = &slot{}
			o.slots[key] = s
		}
		if s.writing == nil {
			s.writing = make(chan struct{})
			if s.pending != nil {
				remove(s.pending)
			}
			return s, nil
		}
		done := s.writing
		o.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		o.mu.Lock()
	}
}

// unhold ends a write's hold on key. o.mu must be held.
func (o *Outbox) unhold(key alertgroup.Key, s *slot) {
	close(s.writing)
	s.writing = nil
	o.settle(key, s)
}

// settle makes the pending entry of key claimable when nothing holds it
// back, and forgets the key when it has nothing left. o.mu must be held.
func (o *Outbox) settle(key alertgroup.Key, s *slot) {
	switch {
	case s.writing != nil || s.inflight != nil:
	case s.pending != nil:
		if s.pending.h == nil {
			o.queues[key.Channel].push(s.pending)
		}
		o.signal()
	default:
		delete(o.slots, key)
	}
}

// added counts a new entry of channel. o.mu must be held.
func (o *Outbox) added(channel string) {
	q := o.queues[channel]
	if q == nil {
		q = newQueue()
		o.queues[channel] = q
	}
	q.entries++
	o.entries++
	o.metrics.pending.WithLabelValues(channel).Set(float64(q.entries))
}

// removed counts an entry of channel gone. o.mu must be held.
func (o *Outbox) removed(channel string) {
	q := o.queues[channel]
	q.entries--
	o.entries--
	if q.entries > 0 {
		o.metrics.pending.WithLabelValues(channel).Set(float64(q.entries))
		return
	}
	// Channels come and go with configuration; a drained one keeps no
	// series.
	delete(o.queues, channel)
	o.metrics.pending.DeleteLabelValues(channel)
}

// Claim returns the ready entry of channel that sends first, by Priority and
// then by age, and marks it in flight: the caller must end it with Done,
// Retry or DeadLetter, and must not change it. ok is false if no entry is
// ready. next is the earliest NextAttempt of the channel's entries that are
// not ready yet, zero if there are none; entries waiting for their key's
// entry in flight are not counted, and Wake signals when they become ready.
func (o *Outbox) Claim(channel string, now time.Time) (e Entry, ok bool, next time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	q := o.queues[channel]
	if q == nil {
		return Entry{}, false, time.Time{}
	}
	for q.waiting.Len() > 0 && !q.waiting.peek().NextAttempt.After(now) {
		heap.Push(&q.ready, heap.Pop(&q.waiting))
	}
	if q.waiting.Len() > 0 {
		next = q.waiting.peek().NextAttempt
	}
	if q.ready.Len() == 0 {
		return Entry{}, false, next
	}
	it := heap.Pop(&q.ready).(*item)
	s := o.slots[it.Notification.Key]
	s.pending, s.inflight = nil, it
	q.inflight++
	return it.Entry, true, next
}

// Done durably deletes e, which was delivered, and lets the entry waiting
// behind it, if any, be claimed.
//
// Done, Retry and DeadLetter release e from memory even when the database
// fails, so that one storage error cannot hold back its key: the database
// then still has e, and it is delivered again after a restart.
func (o *Outbox) Done(ctx context.Context, e Entry) error {
	if _, err := o.inFlight(e); err != nil {
		return err
	}
	err := o.db.Batch(func(tx *bbolt.Tx) error {
		return tx.Bucket(pendingBucket).Delete(idKey(e.ID))
	})
	o.countCommitError(err)
	o.release(e)
	if err != nil {
		return fmt.Errorf("delete outbox entry %d: %w", e.ID, err)
	}
	return nil
}

// Retry durably records a failed delivery of e and makes it pending again
// from at on, with Attempts increased and cause as LastError. If a newer
// entry of the key waits behind e, the two become one: e's place in line and
// backoff with the newer delivery.
func (o *Outbox) Retry(ctx context.Context, e Entry, at time.Time, cause error) error {
	key := e.Notification.Key
	// The wait is for one commit at most, and giving up would leave e in
	// flight for good.
	s, err := o.hold(context.WithoutCancel(ctx), key)
	if err != nil {
		return err
	}
	if s.inflight == nil || s.inflight.ID != e.ID {
		o.unhold(key, s)
		o.mu.Unlock()
		return fmt.Errorf("retry outbox entry %d: %w", e.ID, ErrNotInFlight)
	}
	it, behind := s.inflight, s.pending
	r := it.Entry
	o.mu.Unlock()

	r.Attempts++
	r.NextAttempt = at
	r.LastError = errorText(cause)
	if behind != nil {
		r = supersede(r, behind.Entry)
	}
	v, err := encodeEntry(r)
	if err == nil {
		err = o.db.Batch(func(tx *bbolt.Tx) error {
			b := tx.Bucket(pendingBucket)
			if behind != nil {
				if err := b.Delete(idKey(behind.ID)); err != nil {
					return err
				}
			}
			return b.Put(idKey(r.ID), v)
		})
		o.countCommitError(err)
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	if behind != nil {
		o.removed(key.Channel)
	}
	it.Entry = r
	s.inflight, s.pending = nil, it
	o.queues[key.Channel].inflight--
	o.unhold(key, s)
	if err != nil {
		return fmt.Errorf("record retry of outbox entry %d: %w", e.ID, err)
	}
	return nil
}

// DeadLetter durably moves e, which can never be delivered, to the
// dead-letter list with cause, and lets the entry waiting behind it, if any,
// be claimed.
//
// With Options.DeadLetterLimit dead letters already kept, the one of the
// entry enqueued first, other than e, is dropped to make room.
func (o *Outbox) DeadLetter(ctx context.Context, e Entry, cause error) error {
	r, err := o.inFlight(e)
	if err != nil {
		return err
	}
	r.LastError = errorText(cause)
	d := DeadLetter{ID: r.ID, Entry: r, Cause: r.LastError, At: o.now()}
	o.deadMu.Lock()
	defer o.deadMu.Unlock()
	over := 0
	if o.deadLimit > 0 {
		over = max(0, o.deadCount()+1-o.deadLimit)
	}
	var dropped []uint64
	v, err := encodeDeadLetter(d)
	if err == nil {
		err = o.db.Update(func(tx *bbolt.Tx) error {
			if err := tx.Bucket(pendingBucket).Delete(idKey(r.ID)); err != nil {
				return err
			}
			deadB := tx.Bucket(deadBucket)
			var err error
			if dropped, err = trimDead(deadB, over, r.ID); err != nil {
				return err
			}
			return deadB.Put(idKey(r.ID), v)
		})
		o.countCommitError(err)
	}
	o.release(e)
	if err != nil {
		return fmt.Errorf("dead-letter outbox entry %d: %w", e.ID, err)
	}
	o.addDead(1 - len(dropped))
	o.metrics.DeadLettered(d, dropped)
	return nil
}

// inFlight returns the entry in flight with e's key and ID, or
// ErrNotInFlight.
func (o *Outbox) inFlight(e Entry) (Entry, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.slots[e.Notification.Key]
	if s == nil || s.inflight == nil || s.inflight.ID != e.ID {
		return Entry{}, fmt.Errorf("outbox entry %d: %w", e.ID, ErrNotInFlight)
	}
	return s.inflight.Entry, nil
}

// release forgets e, which was in flight.
func (o *Outbox) release(e Entry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := e.Notification.Key
	s := o.slots[key]
	if s == nil || s.inflight == nil || s.inflight.ID != e.ID {
		// Released by a concurrent call for the same entry.
		return
	}
	s.inflight = nil
	o.queues[key.Channel].inflight--
	o.removed(key.Channel)
	o.settle(key, s)
}

// Channels returns the channels that have entries to claim, now or later,
// in order.
func (o *Outbox) Channels() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var chs []string
	for ch, q := range o.queues {
		if q.entries > q.inflight {
			chs = append(chs, ch)
		}
	}
	slices.Sort(chs)
	return chs
}

// Wake returns a channel that receives when an entry may have become
// claimable: after an enqueue and when an entry in flight is released. It
// holds at most one signal, so a slow reader sees one for many.
func (o *Outbox) Wake() <-chan struct{} { return o.wake }

func (o *Outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Len returns the number of entries, in flight or not.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.entries
}

// DeadLetters returns the whole dead-letter list, in ID order: the entries
// enqueued first come first.
func (o *Outbox) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	return o.deadLetters(ctx, 0, 0)
}

// RetryDead durably moves the dead letter id back into the queue as a new
// delivery: no attempts, no backoff, its age counted from now, and one more
// in Retries. If its key has a pending entry, the two coalesce as on
// Enqueue.
func (o *Outbox) RetryDead(ctx context.Context, id uint64) error {
	o.deadMu.Lock()
	defer o.deadMu.Unlock()
	var d DeadLetter
	err := o.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(deadBucket).Get(idKey(id))
		if v == nil {
			return fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
		}
		var err error
		d, err = decodeDeadLetter(idKey(id), v)
		return err
	})
	if err != nil {
		return err
	}
	e := d.Entry
	// The entry was dead-lettered, perhaps after retrying up to the
	// sender's maximum age: measured from its first notification, a retry
	// would be dead-lettered again on its first temporary failure, such as
	// a 429.
	e.ID, e.Attempts, e.NextAttempt, e.FirstAt = 0, 0, time.Time{}, o.now()
	e.Retries++
	coalesced, err := o.put(ctx, e, func(tx *bbolt.Tx) error { return deleteDead(tx, id) })
	if err != nil {
		return err
	}
	if coalesced {
		o.metrics.Coalesced(e.Kind)
	}
	o.addDead(-1)
	return nil
}

// DropDead durably deletes the dead letter id.
func (o *Outbox) DropDead(ctx context.Context, id uint64) error {
	o.deadMu.Lock()
	defer o.deadMu.Unlock()
	err := o.db.Batch(func(tx *bbolt.Tx) error { return deleteDead(tx, id) })
	o.countCommitError(err)
	if err != nil {
		return err
	}
	o.addDead(-1)
	return nil
}

// addDead counts n more dead letters.
func (o *Outbox) addDead(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dead += n
	o.metrics.deadLetters.Set(float64(o.dead))
}

// deadCount returns the number of dead letters.
func (o *Outbox) deadCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dead
}

func deleteDead(tx *bbolt.Tx, id uint64) error {
	b := tx.Bucket(deadBucket)
	if b.Get(idKey(id)) == nil {
		return fmt.Errorf("dead letter %d: %w", id, ErrNotFound)
	}
	return b.Delete(idKey(id))
}

// countCommitError counts err if the database failed.
func (o *Outbox) countCommitError(err error) {
	if err != nil && !errors.Is(err, ErrNotFound) {
		o.metrics.commitErrors.Inc()
	}
}

// oldestPendingSeconds is the age of the oldest entry, for the metric. It
// looks at every key, which is cheap next to a scrape.
func (o *Outbox) oldestPendingSeconds() float64 {
	o.mu.Lock()
	var oldest time.Time
	for _, s := range o.slots {
		for _, it := range []*item{s.pending, s.inflight} {
			if it != nil && !it.FirstAt.IsZero() && (oldest.IsZero() || it.FirstAt.Before(oldest)) {
				oldest = it.FirstAt
			}
		}
	}
	o.mu.Unlock()
	if oldest.IsZero() {
		return 0
	}
	return max(0, o.now().Sub(oldest).Seconds())
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
