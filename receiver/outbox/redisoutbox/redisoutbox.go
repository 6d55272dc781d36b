// Package redisoutbox owns the outbox kept in Redis and shared by several
// amslack replicas: any replica accepts a notification into it, any replica
// delivers it, and a replica that dies strands nothing, because the channel
// leases it held expire and another replica takes its entries over.
//
// It needs a standalone Redis (or a primary with replicas): its scripts
// name keys that they are not passed, which Redis Cluster refuses.
package redisoutbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/outbox"
)

// Defaults of Options.
const (
	DefaultLeaseTTL = 15 * time.Second
	DefaultTimeout  = time.Second
)

// minLeaseTTL is the shortest LeaseTTL: a lease is renewed every third of
// it, and each renewal is a round trip to Redis.
const minLeaseTTL = 100 * time.Millisecond

// maxAttempts bounds how often a write that merges two entries is tried
// again after the key's pending entry changed under it. Replicas rarely
// write one key at the same moment, so running out means something is
// badly wrong.
const maxAttempts = 100

// errorBackoff is how long Claim tells its caller to wait after Redis
// failed, so that a worker does not spin while Redis is away.
const errorBackoff = time.Second

// Options configure an Outbox.
type Options struct {
	// Options mean what they mean for the outbox in bbolt, except that
	// Now is the clock of the entries' times only (ReceivedAt of a
	// refresh, dead letters' At): leases run on time.Now. Logger gets a
	// line for each takeover and lost lease too.
	outbox.Options
	// KeyPrefix starts every key of the store, such as "amslack:"; the
	// outbox's keys start with KeyPrefix and "outbox:".
	KeyPrefix string
	// Owner names this replica in the lease records, for operators; the
	// host name and process ID if empty.
	Owner string
	// LeaseTTL is how long a channel's lease lasts without renewal: how
	// long the entries of a replica that died wait for another replica.
	// DefaultLeaseTTL if zero.
	LeaseTTL time.Duration
	// MinReplicasToAck, if positive, makes Enqueue, Refresh and RetryDead
	// wait (Redis WAIT) until that many replicas have the write, and fail
	// if fewer acknowledge it within Timeout. The write stays: the
	// notification that Alertmanager sends again coalesces with it.
	MinReplicasToAck int
	// Timeout bounds each call to Redis; DefaultTimeout if zero. The
	// client must have ContextTimeoutEnabled for it to bound a call to a
	// Redis that stopped answering.
	Timeout time.Duration
}

// Outbox is an outbox.Queue in Redis, shared by replicas, and an
// outbox.Leaser: a replica claims a channel's entries only while it holds
// the channel's lease. Its methods are safe for concurrent use; Run must be
// running for leases to be renewed and for Wake to hear other replicas.
//
// Under its prefix (Options.KeyPrefix and "outbox:") it keeps:
//
//	seq                 counter of entry IDs
//	entry:<id>          hash of an entry: data (outbox.EncodeEntry), key,
//	                    channel, priority, score (its next attempt in Unix
//	                    µs, rounded up; 0 for none), next (Unix ns)
//	key:<Key.String()>  hash of a key's entries: the IDs pending and
//	                    inflight, and ver, which grows when either changes
//	ready:<channel>     sorted set of the IDs claimable now, by priority;
//	                    IDs are 20 digits, so equal scores sort by ID
//	waiting:<channel>   sorted set of the IDs claimable from their next
//	                    attempt on, by its score
//	inflight:<channel>  hash of the IDs in flight → the lease token of
//	                    their claim
//	depth               hash of channel → entries, in flight included
//	queued              hash of channel → entries not in flight
//	age                 sorted set of IDs by FirstAt (Unix ms)
//	lease:<channel>     the channel's lease: its token, expiring after
//	                    LeaseTTL unless renewed
//	fence               counter of lease tokens
//	owners              hash of channel → the Owner that took its lease last
//	dead                sorted set of dead letter IDs, all at score 0, so
//	                    in ID order
//	dead:rec            hash of dead letter ID → outbox.EncodeDeadLetter
//	dead:at             sorted set of dead letter IDs by At (Unix µs)
//	quarantine          hash of pending:<id> or dead:<id> → a record that
//	                    could not be decoded
//
// and publishes on the channel "wake" a channel's name when an entry of it
// may have become claimable, and "release", 0x1f and a channel's name when
// its lease is released.
//
// Every change happens in one Lua script, so it is atomic. A key's pending
// entry and the one it coalesces with are merged in Go (outbox.Supersede):
// the script that writes the merge checks that the pending entry is still
// the one read (its ID and the key's ver), and the merge is redone when it
// is not.
type Outbox struct {
	c         *redis.Client
	prefix    string
	owner     string
	ttl       time.Duration
	minAcks   int
	timeout   time.Duration
	now       func() time.Time
	priority  func(alertgroup.Notification) int
	logger    *slog.Logger
	metrics   *metrics
	deadLimit int
	wake      chan struct{}

	// mu guards leases, others, channels, probed, polled and unsettled.
	mu sync.Mutex
	// leases holds the leases this process holds, by channel.
	leases map[string]*lease
	// others holds, for the channels whose lease another replica held when
	// Lease last asked, when that lease ends unless renewed.
	others map[string]time.Time
	// channels is what Channels last read, for when Redis fails.
	channels []string
	// probed holds, for the channels that have entries in flight and none
	// queued, when Channels last listed them (see Channels).
	probed map[string]time.Time
	// polled is when Run last woke the sender on its own.
	polled time.Time
	// unsettled holds the settlements of entries in flight that Redis
	// failed, for Run to try again.
	unsettled []settlement
}

var (
	_ outbox.Queue  = (*Outbox)(nil)
	_ outbox.Leaser = (*Outbox)(nil)
)

// New returns an Outbox that keeps its entries in c. Run runs its
// background work.
func New(c *redis.Client, opts Options) (*Outbox, error) {
	if c == nil {
		return nil, errors.New("redis outbox: no Redis client")
	}
	if opts.LeaseTTL == 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.LeaseTTL < minLeaseTTL {
		return nil, fmt.Errorf("redis outbox: lease TTL %v is below the minimum %v", opts.LeaseTTL, minLeaseTTL)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("redis outbox: negative timeout %v", opts.Timeout)
	}
	if opts.MinReplicasToAck < 0 {
		return nil, fmt.Errorf("redis outbox: negative number of replicas to acknowledge, %d", opts.MinReplicasToAck)
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	opts.Options = opts.WithDefaults()
	o := &Outbox{
		c:         c,
		prefix:    opts.KeyPrefix + "outbox:",
		owner:     opts.Owner,
		ttl:       opts.LeaseTTL,
		minAcks:   opts.MinReplicasToAck,
		timeout:   opts.Timeout,
		now:       opts.Now,
		priority:  opts.Priority,
		logger:    opts.Logger,
		deadLimit: opts.DeadLetterLimit,
		wake:      make(chan struct{}, 1),
		leases:    map[string]*lease{},
		others:    map[string]time.Time{},
		probed:    map[string]time.Time{},
	}
	o.metrics = newMetrics(opts.Registerer, o)
	return o, nil
}

func (o *Outbox) key(name string) string { return o.prefix + name }

// leaseKey is the key of channel's lease record, which alertgroup.Fence
// names.
func (o *Outbox) leaseKey(channel string) string { return o.prefix + "lease:" + channel }

// Enqueue implements outbox.Queue: when it returns nil the notification is
// in Redis, and on MinReplicasToAck replicas.
func (o *Outbox) Enqueue(ctx context.Context, n alertgroup.Notification) error {
	if n.Message == nil {
		return errors.New("enqueue a notification without a message")
	}
	if n.ReceivedAt.IsZero() {
		n.ReceivedAt = o.now()
	}
	e := outbox.Entry{Kind: outbox.KindNotify, Notification: n, Priority: o.priority(n), FirstAt: n.ReceivedAt}
	return o.add(ctx, e)
}

// Refresh implements outbox.Queue.
func (o *Outbox) Refresh(ctx context.Context, key alertgroup.Key, route string, notes ...string) error {
	n := alertgroup.Notification{Key: key, Route: route, ReceivedAt: o.now()}
	e := outbox.Entry{Kind: outbox.KindRefresh, Notification: n, Priority: o.priority(n), FirstAt: n.ReceivedAt, Notes: notes}
	return o.add(ctx, e)
}

// add adds e and counts it.
func (o *Outbox) add(ctx context.Context, e outbox.Entry) error {
	coalesced, err := o.put(ctx, "enqueue", e, 0)
	if err != nil {
		return err
	}
	o.metrics.Enqueued(e.Kind, coalesced)
	return nil
}

// scripter runs scripts and waits for replicas: a client, or one of its
// connections, where WAIT must go for it to count the writes made before.
type scripter interface {
	redis.Scripter
	Wait(ctx context.Context, numSlaves int, timeout time.Duration) *redis.IntCmd
}

// put makes in its key's pending entry, merging it into the one there is,
// and reports whether it did; dead, if not 0, is the ID of the dead letter
// that goes in the same step.
func (o *Outbox) put(ctx context.Context, op string, in outbox.Entry, dead uint64) (coalesced bool, err error) {
	key := in.Notification.Key
	deadID := ""
	if dead != 0 {
		deadID = idString(dead)
	}
	var c scripter = o.c
	if o.minAcks > 0 {
		conn := o.c.Conn()
		defer conn.Close()
		c = conn
	}
	e := in
	var pid, ver string
	for range maxAttempts {
		v, err := outbox.EncodeEntry(e)
		if err != nil {
			return false, err
		}
		r, err := o.run(ctx, op, c, addScript, key.String(), key.Channel, pid, ver, v,
			e.Priority, nextScore(e.NextAttempt), nanos(e.NextAttempt), ageScore(e.FirstAt), deadID)
		if err != nil {
			return false, fmt.Errorf("outbox %s in Redis: %w", op, err)
		}
		switch r.status() {
		case "added", "merged":
			if err := o.waitReplicas(ctx, op, c); err != nil {
				return false, err
			}
			o.signal()
			return r.status() == "merged", nil
		case "notfound":
			return false, fmt.Errorf("dead letter %d: %w", dead, outbox.ErrNotFound)
		case "conflict":
			var cur *outbox.Entry
			if pid, ver, cur, err = o.conflicted(ctx, key, r); err != nil {
				return false, err
			}
			e = in
			if cur != nil {
				e = outbox.Supersede(*cur, in)
			}
		default:
			return false, r.unexpected(op)
		}
	}
	return false, fmt.Errorf("pending entry of %s changed under %d attempts to %s", key.Channel, maxAttempts, op)
}

// waitReplicas waits until MinReplicasToAck replicas have the writes made
// through c.
func (o *Outbox) waitReplicas(ctx context.Context, op string, c scripter) error {
	if o.minAcks == 0 {
		return nil
	}
	// WAIT answers within its own timeout; the context's deadline is for
	// a Redis that does not answer at all.
	ctx, cancel := context.WithTimeout(ctx, o.timeout+o.timeout/2)
	defer cancel()
	n, err := c.Wait(ctx, o.minAcks, o.timeout).Result()
	if err != nil {
		o.metrics.redisErrors.WithLabelValues("wait").Inc()
		return fmt.Errorf("%s: wait for %d Redis replicas to acknowledge: %w", op, o.minAcks, err)
	}
	if int(n) < o.minAcks {
		o.metrics.redisErrors.WithLabelValues("wait").Inc()
		return fmt.Errorf("%s: %d Redis replicas acknowledged the write within %v, %d required", op, n, o.timeout, o.minAcks)
	}
	return nil
}

// Claim implements outbox.Queue. It returns nothing for a channel whose
// lease this process does not hold. When Redis fails, it returns nothing
// with a next a second away. The entry's Fence is the channel's lease.
func (o *Outbox) Claim(channel string, now time.Time) (e outbox.Entry, ok bool, next time.Time) {
	o.mu.Lock()
	l := o.leases[channel]
	o.mu.Unlock()
	if l == nil {
		return outbox.Entry{}, false, time.Time{}
	}
	ctx := context.Background()
	for range maxAttempts {
		r, err := o.run(ctx, "claim", o.c, claimScript, channel, l.token, now.UnixMicro())
		if err != nil {
			o.logger.Debug("Cannot claim an outbox entry", "channel", channel, "err", err)
			return outbox.Entry{}, false, now.Add(errorBackoff)
		}
		next, err := parseNanos(r.str(1))
		if err != nil {
			o.logger.Error("Cannot read an outbox entry's next attempt", "channel", channel, "err", err)
		}
		switch r.status() {
		case "lost":
			o.lose(l, "the lease record holds another token")
			return outbox.Entry{}, false, time.Time{}
		case "none":
			return outbox.Entry{}, false, next
		case "ok":
		default:
			o.logger.Error("Cannot claim an outbox entry", "channel", channel, "err", r.unexpected("claim"))
			return outbox.Entry{}, false, now.Add(errorBackoff)
		}
		id, data := r.str(2), r.str(3)
		e, err := decodeEntry(id, data)
		if err != nil {
			key, kerr := parseKey(r.str(4), channel)
			if kerr != nil {
				o.logger.Error("Cannot quarantine an outbox entry", "channel", channel, "err", kerr)
				return outbox.Entry{}, false, now.Add(errorBackoff)
			}
			if err := o.quarantine(ctx, key, id, data, l.token, l.token, err); err != nil {
				o.logger.Error("Cannot quarantine an outbox entry", "channel", channel, "err", err)
				return outbox.Entry{}, false, now.Add(errorBackoff)
			}
			continue
		}
		e.Fence = alertgroup.Fence{Key: o.leaseKey(channel), Token: l.token}
		return e, true, next
	}
	return outbox.Entry{}, false, now.Add(errorBackoff)
}

// Done implements outbox.Queue. It fails with outbox.ErrLeaseLost, and
// changes nothing, once the lease e was claimed under is gone. When Redis
// fails, Run tries again until the entry is deleted or the lease is gone:
// until then the entry stays in flight, and its key's newer entry waits.
func (o *Outbox) Done(ctx context.Context, e outbox.Entry) error {
	if e.Fence.Token == "" {
		return fmt.Errorf("outbox entry %d: %w", e.ID, outbox.ErrNotInFlight)
	}
	return o.settle(ctx, "done", e, func(ctx context.Context) error {
		key := e.Notification.Key
		r, err := o.run(ctx, "done", o.c, doneScript, key.Channel, e.Fence.Token, idString(e.ID), key.String())
		if err != nil {
			return fmt.Errorf("delete outbox entry %d: %w", e.ID, err)
		}
		if err := o.settled(r, "done", e); err != nil {
			return err
		}
		// The entry behind e, if any, is claimable.
		o.signal()
		return nil
	})
}

// Retry implements outbox.Queue. It fails with outbox.ErrLeaseLost, and
// changes nothing, once the lease e was claimed under is gone. When Redis
// fails, Run tries again, as for Done.
func (o *Outbox) Retry(ctx context.Context, e outbox.Entry, at time.Time, cause error) error {
	if e.Fence.Token == "" {
		return fmt.Errorf("retry outbox entry %d: %w", e.ID, outbox.ErrNotInFlight)
	}
	r := e
	r.Fence = alertgroup.Fence{}
	r.Attempts++
	r.NextAttempt = at
	r.LastError = outbox.ErrorText(cause)
	return o.settle(ctx, "retry", e, func(ctx context.Context) error {
		return o.requeue(ctx, "retry", r, e.Fence.Token, e.Fence.Token)
	})
}

// settlement is a Done, Retry or DeadLetter that Redis failed, to try
// again.
type settlement struct {
	op string
	e  outbox.Entry
	do func(context.Context) error
}

// settle ends e's flight with do, and keeps do to try again (see
// resettle) if Redis failed.
func (o *Outbox) settle(ctx context.Context, op string, e outbox.Entry, do func(context.Context) error) error {
	err := do(ctx)
	if err != nil && !errors.Is(err, outbox.ErrLeaseLost) && !errors.Is(err, outbox.ErrNotInFlight) {
		o.mu.Lock()
		o.unsettled = append(o.unsettled, settlement{op: op, e: e, do: do})
		o.mu.Unlock()
	}
	return err
}

// resettle tries the settlements that Redis failed again, and keeps those
// it fails again. A settlement whose lease is gone is dropped: the
// replica that took the channel over delivers the entry again.
func (o *Outbox) resettle(ctx context.Context) {
	o.mu.Lock()
	ss := o.unsettled
	o.unsettled = nil
	o.mu.Unlock()
	var again []settlement
	for _, s := range ss {
		err := s.do(ctx)
		switch {
		case err == nil:
			o.logger.Info("Settled an outbox entry after Redis failed", "op", s.op, "entry", s.e.ID, "channel", s.e.Notification.Key.Channel)
		case errors.Is(err, outbox.ErrLeaseLost), errors.Is(err, outbox.ErrNotInFlight):
			o.logger.Info("Gave up settling an outbox entry", "op", s.op, "entry", s.e.ID, "channel", s.e.Notification.Key.Channel, "err", err)
		default:
			again = append(again, s)
		}
	}
	o.mu.Lock()
	o.unsettled = append(o.unsettled, again...)
	o.mu.Unlock()
}

// requeue makes r, in flight under token, pending again, merged with the
// pending entry of its key if there is one, under the channel's lease
// held with lease.
func (o *Outbox) requeue(ctx context.Context, op string, r outbox.Entry, lease, token string) error {
	key := r.Notification.Key
	m := r
	var pid, ver string
	for range maxAttempts {
		v, err := outbox.EncodeEntry(m)
		if err != nil {
			return err
		}
		res, err := o.run(ctx, op, o.c, retryScript, key.Channel, lease, idString(r.ID), key.String(), token,
			pid, ver, v, m.Priority, nextScore(m.NextAttempt), nanos(m.NextAttempt), ageScore(m.FirstAt))
		if err != nil {
			return fmt.Errorf("record retry of outbox entry %d: %w", r.ID, err)
		}
		if res.status() != "conflict" {
			if err := o.settled(res, op, r); err != nil {
				return err
			}
			o.signal()
			return nil
		}
		var behind *outbox.Entry
		if pid, ver, behind, err = o.conflicted(ctx, key, res); err != nil {
			return err
		}
		m = r
		if behind != nil {
			m = outbox.Supersede(r, *behind)
		}
	}
	return fmt.Errorf("pending entry of %s changed under %d attempts to %s", key.Channel, maxAttempts, op)
}

// DeadLetter implements outbox.Queue. It fails with outbox.ErrLeaseLost,
// and changes nothing, once the lease e was claimed under is gone. When
// Redis fails, Run tries again, as for Done.
func (o *Outbox) DeadLetter(ctx context.Context, e outbox.Entry, cause error) error {
	if e.Fence.Token == "" {
		return fmt.Errorf("dead-letter outbox entry %d: %w", e.ID, outbox.ErrNotInFlight)
	}
	key := e.Notification.Key
	r := e
	r.Fence = alertgroup.Fence{}
	r.LastError = outbox.ErrorText(cause)
	d := outbox.DeadLetter{ID: r.ID, Entry: r, Cause: r.LastError, At: o.now()}
	v, err := outbox.EncodeDeadLetter(d)
	if err != nil {
		return err
	}
	return o.settle(ctx, "dead_letter", e, func(ctx context.Context) error {
		res, err := o.run(ctx, "dead_letter", o.c, deadScript, key.Channel, e.Fence.Token, idString(e.ID), key.String(),
			v, d.At.UnixMicro(), o.deadLimit)
		if err != nil {
			return fmt.Errorf("dead-letter outbox entry %d: %w", e.ID, err)
		}
		if err := o.settled(res, "dead_letter", e); err != nil {
			return err
		}
		o.signal()
		o.metrics.DeadLettered(d, res.ids(1))
		return nil
	})
}

// conflicted reads the answer of a script that found key's pending entry
// other than the caller read it ("conflict"): the pending entry's ID and
// version, for the next try, and the entry, nil if there is none. It
// quarantines a pending entry that cannot be decoded, and answers none.
func (o *Outbox) conflicted(ctx context.Context, key alertgroup.Key, r reply) (pid, ver string, pending *outbox.Entry, err error) {
	pid, ver = r.str(1), r.str(2)
	if pid == "" {
		return pid, ver, nil, nil
	}
	e, err := decodeEntry(pid, r.str(3))
	if err == nil {
		return pid, ver, &e, nil
	}
	return "", "", nil, o.quarantine(ctx, key, pid, r.str(3), "", "", err)
}

// settled returns the error that the status of a script that ends e's
// flight stands for.
func (o *Outbox) settled(r reply, op string, e outbox.Entry) error {
	switch r.status() {
	case "ok":
		return nil
	case "notinflight":
		return fmt.Errorf("%s outbox entry %d: %w", op, e.ID, outbox.ErrNotInFlight)
	case "lost":
		return fmt.Errorf("%s outbox entry %d of %s: %w", op, e.ID, e.Notification.Key.Channel, outbox.ErrLeaseLost)
	default:
		return r.unexpected(op)
	}
}

// quarantine moves the entry id of key, whose data could not be decoded
// (cause), out of the queue to the quarantine hash. lease and token are
// empty for a pending entry; for one in flight, the channel's lease token
// and the token of its claim.
func (o *Outbox) quarantine(ctx context.Context, key alertgroup.Key, id, data, lease, token string, cause error) error {
	r, err := o.run(ctx, "quarantine", o.c, quarantineScript, key.Channel, id, key.String(), data, lease, token)
	if err != nil {
		return fmt.Errorf("quarantine outbox entry %s: %w", id, err)
	}
	if r.status() == "ok" {
		o.metrics.quarantined.WithLabelValues(quarantinedPending).Inc()
		o.logger.Error("quarantined an outbox record that cannot be decoded",
			"record", "pending:"+id, "channel", key.Channel, "quarantine", o.key("quarantine"), "err", cause)
	}
	return nil
}

// Channels implements outbox.Queue, except that it leaves out the channels
// whose lease another replica held when Lease last asked, until that lease
// would end unless renewed: this replica cannot claim their entries. When
// Redis fails, it returns what it read last.
//
// A channel whose entries are all in flight is listed too, once per lease
// TTL: a replica that died with the channel's last entry in flight, or
// released the lease while Redis failed the entry's settlement, left it to
// whoever takes the lease next, which requeues it (see Lease). Listed at
// every call, a channel whose entries are this replica's own, in flight
// under its current lease, would have the sender take and give up its
// lease in a loop.
func (o *Outbox) Channels() []string {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var queued, withEntries *redis.StringSliceCmd
	_, err := o.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		queued = p.HKeys(ctx, o.key("queued"))
		withEntries = p.HKeys(ctx, o.key("depth"))
		return nil
	})
	o.mu.Lock()
	defer o.mu.Unlock()
	chs := o.channels
	now := time.Now()
	if err != nil {
		o.metrics.redisErrors.WithLabelValues("channels").Inc()
		o.logger.Debug("Cannot list the outbox's channels", "err", err)
	} else {
		chs = queued.Val()
		for _, ch := range withEntries.Val() {
			if slices.Contains(chs, ch) || o.leases[ch] != nil {
				continue
			}
			if at, ok := o.probed[ch]; ok && now.Sub(at) < o.ttl {
				continue
			}
			o.probed[ch] = now
			chs = append(chs, ch)
		}
		for ch, at := range o.probed {
			if now.Sub(at) >= o.ttl {
				delete(o.probed, ch)
			}
		}
	}
	o.channels = chs
	out := make([]string, 0, len(chs))
	for _, ch := range chs {
		if until, ok := o.others[ch]; ok && now.Before(until) && o.leases[ch] == nil {
			continue
		}
		out = append(out, ch)
	}
	slices.Sort(out)
	return out
}

// Wake implements outbox.Queue. It receives when an entry may have become
// claimable on any replica (see Run), and at least every 250ms while
// another replica holds the lease of a channel with entries.
func (o *Outbox) Wake() <-chan struct{} { return o.wake }

func (o *Outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// run runs s with the prefix and args through c, within the timeout,
// counting the failures of op.
func (o *Outbox) run(ctx context.Context, op string, c redis.Scripter, s *redis.Script, args ...any) (reply, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	v, err := s.Run(ctx, c, nil, append([]any{o.prefix}, args...)...).Slice()
	if err != nil {
		o.metrics.redisErrors.WithLabelValues(op).Inc()
		return nil, err
	}
	return reply(v), nil
}

// reply is a script's answer: a status, then what the status has.
type reply []any

func (r reply) status() string { return r.str(0) }

func (r reply) str(i int) string {
	if i < len(r) {
		if s, ok := r[i].(string); ok {
			return s
		}
	}
	return ""
}

func (r reply) int(i int) int64 {
	if i < len(r) {
		if n, ok := r[i].(int64); ok {
			return n
		}
	}
	return 0
}

func (r reply) list(i int) []any {
	if i < len(r) {
		if l, ok := r[i].([]any); ok {
			return l
		}
	}
	return nil
}

// ids returns the IDs of the list at i; it skips what is not an ID.
func (r reply) ids(i int) []uint64 {
	var ids []uint64
	for _, v := range r.list(i) {
		s, _ := v.(string)
		if id, err := parseID(s); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

func (r reply) unexpected(op string) error {
	return fmt.Errorf("%s: unexpected answer from Redis: %.200v", op, []any(r))
}

// idString is the form of an ID in keys and sorted sets: 20 digits, so that
// the byte order of IDs is their order.
func idString(id uint64) string { return fmt.Sprintf("%020d", id) }

// parseID is the inverse of idString.
func parseID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || len(s) != 20 || id == 0 {
		return 0, fmt.Errorf("outbox record ID %q is not 20 digits", s)
	}
	return id, nil
}

// parseKey parses the key stored with an entry of channel.
func parseKey(s, channel string) (alertgroup.Key, error) {
	k, err := alertgroup.ParseKey(s)
	if err == nil && k.Channel != channel {
		err = fmt.Errorf("key %q is not of channel %s", s, channel)
	}
	return k, err
}

// decodeEntry decodes the entry data stored under id.
func decodeEntry(id, data string) (outbox.Entry, error) {
	n, err := parseID(id)
	if err != nil {
		return outbox.Entry{}, err
	}
	return outbox.DecodeEntry(n, []byte(data))
}

// decodeDeadLetter decodes the dead letter data stored under id.
func decodeDeadLetter(id, data string) (outbox.DeadLetter, error) {
	n, err := parseID(id)
	if err != nil {
		return outbox.DeadLetter{}, err
	}
	return outbox.DecodeDeadLetter(n, []byte(data))
}

// nextScore is the score of an entry waiting for its next attempt at t: its
// Unix µs, rounded up, so that an entry is claimable at a time whose Unix
// µs, rounded down, is at least the score only if t has come. 0 stands for
// no next attempt.
func nextScore(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// nanos is t as stored in an entry's next: Unix ns, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// parseNanos is the inverse of nanos; it reads "" as the zero time.
func parseNanos(s string) (time.Time, error) {
	if s == "" || s == "0" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("next attempt %q is not a number", s)
	}
	return time.Unix(0, n).UTC(), nil
}

// ageScore is the score of an entry in age: FirstAt's Unix ms, or "" for
// none.
func ageScore(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}
