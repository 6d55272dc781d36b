package redisoutbox

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/outbox"
)

// othersTick is how often Run wakes the sender while another replica holds
// the lease of a channel that this replica saw entries in, so that a lease
// left by a replica that died is taken soon after it expires.
const othersTick = 250 * time.Millisecond

// pollEvery is how often Run wakes the sender anyway, for the wake-ups
// published while its subscription was down.
const pollEvery = 2 * time.Second

// releaseTag starts the wake message of a released lease; the channel's
// name follows.
const releaseTag = "release\x1f"

// lease is a channel's lease held by this process.
type lease struct {
	o       *Outbox
	channel string
	token   string
	lost    chan struct{}
	// renewed is when the last renewal that succeeded, or the SET that
	// took the lease, was sent: the lease lasts the TTL from then at
	// least. o.mu guards it and released.
	renewed time.Time
	// released is set by Release.
	released bool
}

// Lost implements outbox.Lease.
func (l *lease) Lost() <-chan struct{} { return l.lost }

// Release implements outbox.Lease. It deletes the lease record only if it
// still holds the lease's token, so it is safe after the lease was lost
// too: a lease that Run stopped renewing is handed over at once rather than
// after its TTL. The replicas waiting for the lease are woken.
func (l *lease) Release(ctx context.Context) error {
	o := l.o
	o.mu.Lock()
	released := l.released
	l.released = true
	if o.leases[l.channel] == l {
		delete(o.leases, l.channel)
		o.metrics.leasesHeld.Dec()
	}
	o.mu.Unlock()
	if released {
		return nil
	}
	if _, err := o.run(ctx, "release", o.c, releaseScript, l.channel, l.token); err != nil {
		return fmt.Errorf("release the outbox lease of %s: %w", l.channel, err)
	}
	return nil
}

// Lease implements outbox.Leaser. A channel whose lease this process holds
// already gets that lease back. A channel whose lease another replica held
// when Lease last asked gets ok false without asking Redis again until that
// lease would end unless renewed, or until its holder releases it.
//
// The entries left in flight under an older lease of the channel become
// pending again, with no attempt counted, merged with the pending entry
// behind them as Retry does; they are counted in
// amslack_outbox_takeovers_total.
func (o *Outbox) Lease(ctx context.Context, channel string) (outbox.Lease, bool, error) {
	o.mu.Lock()
	if l := o.leases[channel]; l != nil {
		o.mu.Unlock()
		return l, true, nil
	}
	if until, ok := o.others[channel]; ok && time.Now().Before(until) {
		o.mu.Unlock()
		return nil, false, nil
	}
	o.mu.Unlock()

	start := time.Now()
	r, err := o.run(ctx, "lease", o.c, leaseScript, channel, o.ttl.Milliseconds(), o.owner, rand.Text())
	if err != nil {
		return nil, false, fmt.Errorf("take the outbox lease of %s: %w", channel, err)
	}
	switch r.status() {
	case "held":
		pttl := time.Duration(r.int(1)) * time.Millisecond
		if pttl <= 0 {
			pttl = o.ttl
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		if l := o.leases[channel]; l != nil {
			// Taken by a concurrent call of this process.
			return l, true, nil
		}
		o.others[channel] = start.Add(pttl)
		return nil, false, nil
	case "ok":
	default:
		return nil, false, r.unexpected("lease")
	}

	l := &lease{o: o, channel: channel, token: r.str(1), lost: make(chan struct{}), renewed: start}
	o.mu.Lock()
	o.leases[channel] = l
	delete(o.others, channel)
	o.mu.Unlock()
	o.metrics.leasesHeld.Inc()

	if prev := r.str(3); prev != "" && prev != o.owner {
		// The previous holder never released the lease: it died or
		// stalled, and its channel waited for the lease to run out.
		o.metrics.leaseTakeovers.Inc()
		o.logger.Warn("Took over a channel whose lease its holder left to run out", "channel", channel, "previous_owner", prev)
	}
	n := int(r.int(2))
	for _, v := range r.list(4) {
		fields, _ := v.([]any)
		m := reply(fields)
		id, token, data := m.str(0), m.str(1), m.str(3)
		e, derr := decodeEntry(id, data)
		var err error
		if derr == nil {
			if err = o.requeue(ctx, "lease", e, l.token, token); err == nil {
				n++
			}
		} else {
			var key alertgroup.Key
			if key, err = parseKey(m.str(2), channel); err == nil {
				err = o.quarantine(ctx, key, id, data, l.token, token, derr)
			}
		}
		if err != nil {
			o.metrics.takeovers.Add(float64(n))
			if rerr := l.Release(context.WithoutCancel(ctx)); rerr != nil {
				o.logger.Warn("Cannot release an outbox lease", "channel", channel, "err", rerr)
			}
			return nil, false, fmt.Errorf("take over the entries in flight of %s: %w", channel, err)
		}
	}
	if n > 0 {
		o.metrics.takeovers.Add(float64(n))
		o.logger.Warn("Took over outbox entries left in flight under an older lease",
			"channel", channel, "entries", n, "previous_owner", r.str(3))
		o.signal()
	}
	return l, true, nil
}

// lose forgets l, which is lost for reason, and closes its Lost.
func (o *Outbox) lose(l *lease, reason string) {
	o.mu.Lock()
	held := o.leases[l.channel] == l
	if held {
		delete(o.leases, l.channel)
	}
	o.mu.Unlock()
	if !held {
		return
	}
	o.metrics.leasesHeld.Dec()
	o.metrics.leasesLost.Inc()
	o.logger.Warn("Lost an outbox lease", "channel", l.channel, "reason", reason)
	close(l.lost)
}

// loseAll loses every lease held, for reason.
func (o *Outbox) loseAll(reason string) {
	o.mu.Lock()
	ls := make([]*lease, 0, len(o.leases))
	for _, l := range o.leases {
		ls = append(ls, l)
	}
	o.mu.Unlock()
	for _, l := range ls {
		o.lose(l, reason)
	}
}

// Run does the outbox's background work until ctx ends: it renews the
// leases held every third of their TTL, and then tries again the Done,
// Retry and DeadLetter calls that Redis failed; it signals Wake when another
// replica publishes that an entry may have become claimable or a lease
// was released, every 250ms while another replica holds the lease of a
// channel that Lease was asked for, and every 2s anyway.
//
// While Redis is away, renewals fail, and a lease is lost once they have
// failed for its TTL; go-redis subscribes again when Redis is back. When
// Run returns the leases are no longer renewed: it closes their Lost
// without releasing them, so they expire after the TTL unless their
// holders release them.
func (o *Outbox) Run(ctx context.Context) error {
	ps := o.c.Subscribe(ctx, o.key("wake"))
	defer ps.Close()
	msgs := ps.Channel()
	renew := time.NewTicker(o.ttl / 3)
	defer renew.Stop()
	tick := time.NewTicker(othersTick)
	defer tick.Stop()
	defer o.loseAll("the outbox stopped renewing its leases")
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-msgs:
			if !ok {
				return nil
			}
			o.heard(m)
		case <-renew.C:
			o.renew(ctx)
			o.resettle(ctx)
		case <-tick.C:
			o.tick()
		}
	}
}

// heard handles a message published on the wake channel.
func (o *Outbox) heard(m *redis.Message) {
	if ch, ok := strings.CutPrefix(m.Payload, releaseTag); ok {
		o.mu.Lock()
		delete(o.others, ch)
		o.mu.Unlock()
	}
	o.signal()
}

// tick signals Wake while other replicas hold leases, and forgets those
// leases once they would have expired, or pollEvery after it last did.
func (o *Outbox) tick() {
	now := time.Now()
	o.mu.Lock()
	wake := len(o.others) > 0 || now.Sub(o.polled) >= pollEvery
	for ch, until := range o.others {
		if !now.Before(until) {
			delete(o.others, ch)
		}
	}
	if wake {
		o.polled = now
	}
	o.mu.Unlock()
	if wake {
		o.signal()
	}
}

// renew renews every lease held, in one round trip. A lease whose record
// holds another token is lost; so is one whose renewals failed for the
// TTL.
func (o *Outbox) renew(ctx context.Context) {
	o.mu.Lock()
	ls := make([]*lease, 0, len(o.leases))
	for _, l := range o.leases {
		ls = append(ls, l)
	}
	o.mu.Unlock()
	if len(ls) == 0 {
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	cmds := make([]*redis.Cmd, len(ls))
	// A pipeline cannot fall back from EVALSHA to EVAL, so it sends the
	// script, which is short.
	_, _ = o.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, l := range ls {
			cmds[i] = renewScript.Eval(ctx, p, nil, o.prefix, l.channel, l.token, o.ttl.Milliseconds())
		}
		return nil
	})
	for i, l := range ls {
		held, err := cmds[i].Int()
		switch {
		case err != nil:
			o.metrics.redisErrors.WithLabelValues("renew").Inc()
			o.mu.Lock()
			expired := time.Since(l.renewed) >= o.ttl
			o.mu.Unlock()
			if expired {
				o.lose(l, "renewals failed for the lease TTL: "+err.Error())
			} else {
				o.logger.Warn("Cannot renew an outbox lease", "channel", l.channel, "err", err)
			}
		case held == 0:
			o.lose(l, "the lease record holds another token")
		default:
			o.mu.Lock()
			l.renewed = start
			o.mu.Unlock()
		}
	}
}
