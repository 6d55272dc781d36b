// Package sender delivers the outbox's notifications to Slack: it keeps one
// message per alert group (post, then update in place with a thread reply
// for each change), spends Slack's rate limits without exceeding them,
// honours Retry-After, backs off on failures, and dead-letters what Slack
// refuses for good, posting it to the route's fallback channel when the
// route has one.
package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/render"
)

// RouteOptions are a route's delivery and rendering options.
type RouteOptions struct {
	Render render.Options
	// ThreadReplies adds a thread reply for each change of the group.
	ThreadReplies bool
	// RepeatInThread bumps a repeat notification with no change as a
	// thread reply; otherwise it changes nothing.
	RepeatInThread bool
	// WebhookURL is set for a route that posts through an incoming webhook.
	WebhookURL string
	// FallbackChannel, if set, receives a notification that Slack refuses
	// for good in the route's channel (see fallbackReasons); the entry is
	// dead-lettered for the route's channel all the same.
	FallbackChannel string
}

// Options configure a Sender.
type Options struct {
	// Outbox is the queue to drain. When it is an outbox.Leaser (the
	// Redis outbox that replicas share), a channel is worked only while
	// this replica holds its lease.
	Outbox outbox.Queue
	Store  alertgroup.Store
	// Slack makes the calls, within the rate limits of its Limiter, which
	// it shares with everything else that calls Slack.
	Slack *slackapi.Client
	// Routes returns the current options of a route by name; it is called
	// for every delivery so that reloads apply at once.
	Routes func(name string) RouteOptions
	// Controls returns the buttons and selects of a firing group's message
	// in state st on a route with options o (interact.Controls); nil puts
	// only the route's runbook actions on messages.
	Controls func(st alertgroup.State, o render.Options) []render.Control
	// MaxAge is how long a notification is retried before it is
	// dead-lettered.
	MaxAge     time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Sender drains the outbox into Slack.
type Sender struct {
	outbox outbox.Queue
	// leaser is outbox as an outbox.Leaser, nil for a queue of one's own.
	leaser  outbox.Leaser
	store   alertgroup.Store
	slack   *slackapi.Client
	limiter *slackapi.Limiter
	routes  func(string) RouteOptions
	// controls chooses a message's controls; nil for none.
	controls func(alertgroup.State, render.Options) []render.Control
	maxAge   time.Duration
	logger   *slog.Logger
	now      func() time.Time

	// mu guards workers and failing.
	mu sync.Mutex
	// workers holds a wake-up channel per running channel worker.
	workers map[string]chan struct{}
	// failing holds, per channel, the consecutive failed deliveries and
	// the end of the backoff they imposed.
	failing map[string]backoffState
	// unrecorded holds the groups whose first message Slack took while the
	// store failed to record it, so that the delivery's retry updates that
	// message rather than post a second one.
	unrecorded map[alertgroup.Key]postedMessage

	deliveries *prometheus.CounterVec
	retries    prometheus.Counter
	replies    *prometheus.CounterVec
	templates  *prometheus.CounterVec
	// fallbacks and fallbackFailures count, per route, the notifications
	// posted to the route's fallback channel by the reason its channel
	// refused them, and those the fallback channel refused too.
	fallbacks        *prometheus.CounterVec
	fallbackFailures *prometheus.CounterVec
}

// Results of a delivery, the values of the result label.
const (
	deliveredPosted    = "posted"
	deliveredUpdated   = "updated"
	deliveredUnchanged = "unchanged"
	deliveredRetry     = "retry"
	deliveredDead      = "dead_lettered"
	// deliveredFenced counts the entries whose lease passed to another
	// replica during delivery.
	deliveredFenced = "lease_lost"
)

// New returns a Sender. Run starts it.
func New(o Options) *Sender {
	o = o.withDefaults()
	s := &Sender{
		outbox:   o.Outbox,
		store:    o.Store,
		slack:    o.Slack,
		limiter:  o.Slack.Limiter(),
		routes:   o.Routes,
		controls: o.Controls,
		maxAge:   o.MaxAge,
		logger:   o.Logger,
		now:      o.Now,
		workers:  map[string]chan struct{}{},
		failing:  map[string]backoffState{},

		unrecorded: map[alertgroup.Key]postedMessage{},
	}
	s.leaser, _ = o.Outbox.(outbox.Leaser)
	s.registerMetrics(o.Registerer)
	return s
}

// withDefaults fills in what o leaves unset.
func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 24 * time.Hour
	}
	return o
}

// registerMetrics creates the sender's metrics on r, each series with a
// bounded label value at zero.
func (s *Sender) registerMetrics(r prometheus.Registerer) {
	reg := promauto.With(r)
	s.deliveries = reg.NewCounterVec(prometheus.CounterOpts{
		Namespace: "amslack", Name: "deliveries_total",
		Help: "Outbox entries handled, by result.",
	}, []string{"result"})
	s.retries = reg.NewCounter(prometheus.CounterOpts{
		Namespace: "amslack", Name: "delivery_retries_total",
		Help: "Deliveries scheduled for another attempt.",
	})
	s.replies = reg.NewCounterVec(prometheus.CounterOpts{
		Namespace: "amslack", Name: "thread_replies_total",
		Help: "Thread replies describing a change, by result.",
	}, []string{"result"})
	for _, r := range []string{deliveredPosted, deliveredUpdated, deliveredUnchanged, deliveredRetry, deliveredDead, deliveredFenced} {
		s.deliveries.WithLabelValues(r)
	}
	s.templates = reg.NewCounterVec(prometheus.CounterOpts{
		Namespace: "amslack", Name: "template_errors_total",
		Help: "Message parts whose template failed and fell back to the built-in rendering.",
	}, []string{"part"})
	for _, p := range render.Parts() {
		s.templates.WithLabelValues(p)
	}
	s.replies.WithLabelValues("ok")
	s.replies.WithLabelValues("failed")
	// The route label's values are the configured route names, which the
	// sender learns only as it delivers: the series start with a route's
	// first fallback.
	s.fallbacks = reg.NewCounterVec(prometheus.CounterOpts{
		Namespace: "amslack", Name: "fallbacks_total",
		Help: "Notifications posted to the route's fallback channel because Slack refused the route's channel, by route and reason.",
	}, []string{"route", "reason"})
	s.fallbackFailures = reg.NewCounterVec(prometheus.CounterOpts{
		Namespace: "amslack", Name: "fallback_failures_total",
		Help: "Notifications that the route's fallback channel refused too, by route; they stay dead-lettered.",
	}, []string{"route"})
}

// destScope is the rate-limit scope of a Key's Channel: the channel, or the
// incoming webhook of the route that posts through one.
func destScope(channel string) slackapi.Scope {
	if route, ok := strings.CutPrefix(channel, alertgroup.WebhookPrefix); ok && route != "" {
		return slackapi.WebhookScope(route)
	}
	return slackapi.ChannelScope(channel)
}

// pruneEvery is how often Run forgets the state of idle channels (see
// forgetIdle); idleAfter is how long a channel without entries keeps its
// run of failures after its backoff ended.
const (
	pruneEvery = time.Minute
	idleAfter  = 5 * time.Minute
)

// Run delivers until ctx ends. Each channel with pending entries gets a
// worker of its own, so a slow or rate-limited channel never holds up the
// others; a worker exits when its channel drains.
func (s *Sender) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	// rescan is signalled when a worker exits, so that an entry enqueued
	// just as its channel's worker was leaving is not stranded.
	rescan := make(chan struct{}, 1)
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	for {
		for _, ch := range s.outbox.Channels() {
			s.mu.Lock()
			wake, running := s.workers[ch]
			if !running {
				wake = make(chan struct{}, 1)
				s.workers[ch] = wake
			}
			s.mu.Unlock()
			if running {
				select {
				case wake <- struct{}{}:
				default:
				}
				continue
			}
			lease, ok := s.channelLease(ctx, ch)
			if !ok {
				s.mu.Lock()
				delete(s.workers, ch)
				s.mu.Unlock()
				continue
			}
			wg.Go(func() {
				s.work(ctx, ch, wake, lease)
				s.mu.Lock()
				delete(s.workers, ch)
				s.mu.Unlock()
				select {
				case rescan <- struct{}{}:
				default:
				}
			})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.outbox.Wake():
		case <-rescan:
		case <-prune.C:
			s.forgetIdle()
		}
	}
}

// forgetIdle drops the state of channels that have no worker, so that the
// sender's memory follows the channels in use, not every channel it ever
// saw (a mistyped or junk ?channel= leaves one dead letter, and no more):
// the limiter forgets their full token buckets and the pauses that are
// over (Limiter.Forget), and the sender a run of failures idleAfter after
// its backoff ended. s.mu is held throughout, so that no worker starts and
// takes a channel's bucket while it goes.
func (s *Sender) forgetIdle() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	busy := make(map[slackapi.Scope]bool, len(s.workers))
	for ch := range s.workers {
		busy[destScope(ch)] = true
	}
	s.limiter.Forget(func(dest slackapi.Scope) bool { return busy[dest] })
	for ch, b := range s.failing {
		if _, busy := s.workers[ch]; !busy && now.Sub(b.until) > idleAfter {
			delete(s.failing, ch)
		}
	}
	// A message whose record failed is needed until the entry's retry,
	// which comes within the backoff's cap, or never (dead-lettered, or
	// delivered by another replica).
	for key, p := range s.unrecorded {
		if now.Sub(p.at) > s.maxAge {
			delete(s.unrecorded, key)
		}
	}
}

// heldLease is the lease of a channel that a worker holds; the zero value
// stands for the queue of one's own, which needs none.
type heldLease struct{ outbox.Lease }

// lost returns a channel closed when the lease is lost; nil (never ready)
// without a lease.
func (l heldLease) lost() <-chan struct{} {
	if l.Lease == nil {
		return nil
	}
	return l.Lost()
}

// channelLease takes the lease on delivering channel ch when the outbox is shared
// by replicas, and reports whether this replica may work ch: always for an
// outbox of its own; for a shared one, when no other replica holds ch.
func (s *Sender) channelLease(ctx context.Context, ch string) (heldLease, bool) {
	if s.leaser == nil {
		return heldLease{}, true
	}
	l, ok, err := s.leaser.Lease(ctx, ch)
	if err != nil {
		s.logger.Warn("Cannot take the lease on a channel; another pass will try again", "channel", ch, "err", err)
		return heldLease{}, false
	}
	return heldLease{l}, ok
}

// backoffState is a channel's run of failed deliveries.
type backoffState struct {
	failures int
	until    time.Time
}

// work sends one channel's entries, most urgent first, until none is left
// or, on an outbox that replicas share, until the channel's lease is lost.
// It gives the lease up when it ends.
func (s *Sender) work(ctx context.Context, ch string, wake <-chan struct{}, lease heldLease) {
	if lease.Lease != nil {
		defer func() {
			if err := lease.Release(context.WithoutCancel(ctx)); err != nil {
				s.logger.Warn("Cannot give up the lease on a channel; it runs out on its own", "channel", ch, "err", err)
			}
		}()
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-lease.lost():
				s.logger.Warn("Lost the lease on a channel; another replica delivers it now", "channel", ch)
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	dest := destScope(ch)
	lim := s.limiter.Slot(dest)
	for ctx.Err() == nil {
		// While deliveries to the channel fail (Slack down, network), the
		// whole channel backs off rather than each entry on its own clock:
		// when Slack recovers, the backlog goes out in priority order.
		s.mu.Lock()
		until := s.failing[ch].until
		s.mu.Unlock()
		if d := until.Sub(s.now()); d > 0 {
			if !sleep(ctx, d, nil) {
				return
			}
			continue
		}
		// Take the send slot before choosing what to send: the entry sent
		// is then the most urgent one when the slot opens, so a critical
		// alert arriving behind a backlog waits at most one slot.
		r := lim.Reserve()
		if !sleep(ctx, r.Delay(), nil) {
			r.Cancel()
			return
		}
		e, ok, next := s.outbox.Claim(ch, s.now())
		if !ok {
			r.Cancel()
			if next.IsZero() {
				return
			}
			sleep(ctx, next.Sub(s.now()), wake)
			continue
		}
		// Replicas share the channel's slot too: take its token in Redis
		// once there is an entry to spend it on, so that a replica whose
		// channel drained wastes none.
		if err := s.limiter.TakeShared(ctx, dest); err != nil {
			s.deliver(ctx, e, lim, err)
			continue
		}
		s.deliver(ctx, e, lim, nil)
	}
}

// sleep waits for d, ctx or wake, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-wake:
	}
	return true
}

// deliver sends one entry and settles it in the outbox; failed, if not nil,
// is why it cannot be sent now.
func (s *Sender) deliver(ctx context.Context, e outbox.Entry, lim *rate.Limiter, failed error) {
	n := e.Notification
	logger := s.logger.With("group_key", n.Key.GroupKey, "channel", n.Key.Channel, "entry", e.ID)
	// The store writes made for the entry hold only while the lease it was
	// claimed under does (alertgroup.Fence).
	ctx = alertgroup.WithFence(ctx, e.Fence)
	result, err := "", failed
	if err == nil {
		result, err = s.send(ctx, e, lim, logger)
	}
	// Settle the entry even when shutdown has begun: what was sent must not
	// be sent again after the restart.
	ctx = context.WithoutCancel(ctx)
	if errors.Is(err, alertgroup.ErrFenced) || errors.Is(err, outbox.ErrLeaseLost) {
		// The lease passed to another replica while this one delivered:
		// that replica delivers the entry again, and nothing here may be
		// recorded over its work.
		s.deliveries.WithLabelValues(deliveredFenced).Inc()
		logger.Warn("Lease lost during delivery; the replica that holds it now delivers the entry", "err", err)
		return
	}
	if err == nil {
		s.mu.Lock()
		delete(s.failing, n.Key.Channel)
		s.mu.Unlock()
		s.deliveries.WithLabelValues(result).Inc()
		if err := s.outbox.Done(ctx, e); errors.Is(err, outbox.ErrLeaseLost) {
			logger.Warn("Lease lost before the delivered entry was marked done; the replica that holds it now may send it again", "err", err)
		} else if err != nil {
			logger.Error("Cannot mark a delivered entry done; it may be sent again", "err", err)
		}
		return
	}
	if errors.Is(err, context.Canceled) {
		// Shutting down while waiting for a slot: the entry stays pending
		// on disk and is sent after the restart.
		if err := s.outbox.Retry(ctx, e, time.Time{}, err); err != nil && !errors.Is(err, outbox.ErrLeaseLost) {
			logger.Error("Cannot release an entry", "err", err)
		}
		return
	}
	f, ok := errors.AsType[*slackapi.Failure](err)
	if !ok {
		// Not Slack's answer: the store failed. Retry.
		f = &slackapi.Failure{Class: slackapi.Retry, Code: "store", Err: err}
	}
	now := s.now()
	// The entry is ready again at once; what delays it is the pause of the
	// rate-limited scope (see slackapi.Limiter) or the channel's backoff.
	var at, notBefore time.Time
	switch {
	case f.Class != slackapi.Retry || f.RateLimited:
	case f.SlackDown():
		s.mu.Lock()
		b := s.failing[n.Key.Channel]
		b.until = now.Add(backoff(b.failures))
		b.failures++
		s.failing[n.Key.Channel] = b
		s.mu.Unlock()
		notBefore = b.until
	default:
		// A failure of this entry alone (an unknown Slack error, the
		// store): it backs off on its own, so that it cannot hold up the
		// rest of the channel.
		at = now.Add(backoff(e.Attempts))
		notBefore = at
	}
	switch {
	case f.Class == slackapi.Retry && now.Sub(e.FirstAt) < s.maxAge:
		s.deliveries.WithLabelValues(deliveredRetry).Inc()
		s.retries.Inc()
		logger.Warn("Delivery failed; will retry", "err", err, "code", f.Code, "attempt", e.Attempts+1, "not_before", notBefore)
		if err := s.outbox.Retry(ctx, e, at, f); err != nil {
			logger.Error("Cannot reschedule an entry", "err", err)
		}
	default:
		s.deliveries.WithLabelValues(deliveredDead).Inc()
		logger.Error("Delivery failed for good; dead-lettered", "err", err, "code", f.Code, "class", f.Class)
		if err := s.outbox.DeadLetter(ctx, e, f); err != nil {
			logger.Error("Cannot dead-letter an entry", "err", err)
		}
	}
}

// backoff is exponential with full jitter: 1s, 2s, 4s … capped at 5m.
func backoff(attempts int) time.Duration {
	d := time.Second << min(attempts, 9)
	d = min(d, 5*time.Minute)
	return d/2 + rand.N(d/2+1)
}

// send makes the Slack calls for one entry and records the result in the
// store.
func (s *Sender) send(ctx context.Context, e outbox.Entry, lim *rate.Limiter, logger *slog.Logger) (string, error) {
	d, ok, err := s.prepare(ctx, e, logger)
	if err != nil {
		return "", err
	}
	if !ok {
		return deliveredUnchanged, nil
	}
	summary, err := s.publish(ctx, &d, logger)
	if err != nil {
		if ferr := s.fallBack(ctx, d, err, logger); ferr != nil {
			return "", ferr
		}
		return "", err
	}
	notes, urgent := threadNotes(e.Notes, d.ro.ThreadReplies)
	if !d.fresh && len(notes) > 0 {
		// What people did (acknowledged, silenced, an action's result)
		// joins the thread with what Alertmanager changed.
		summary = strings.TrimSpace(summary + "\n" + strings.Join(notes, "\n"))
	}
	n := e.Notification
	if d.g.TS != "" && !n.Key.IsWebhook() {
		// Each escalation is a reply of its own, so that each mention
		// notifies, and only the steps that ask for it show in the
		// channel.
		replies := urgent
		if summary != "" {
			replies = append([]threadReply{{text: summary}}, urgent...)
		}
		// The replies go before the store learns the new state: if one
		// fails or shutdown interrupts it, the entry is delivered again,
		// and the same replies are computed from the same stored state.
		for _, r := range replies {
			if err := s.reply(ctx, n.Key.Channel, d.g.TS, r.text, r.broadcast, lim, d.t); err != nil {
				s.replies.WithLabelValues("failed").Inc()
				return "", err
			}
			s.replies.WithLabelValues("ok").Inc()
		}
	}

	result := deliveredUpdated
	switch {
	case d.fresh:
		result = deliveredPosted
	case d.unchanged, e.Kind == outbox.KindRefresh && n.Key.IsWebhook():
		result = deliveredUnchanged
	}
	if err := s.record(context.WithoutCancel(ctx), d); err != nil {
		// Slack has the message but the store does not know it. The entry
		// is retried, and this replica remembers the message, so that the
		// retry updates it. Should the retry happen elsewhere (a lease
		// lost, a restart), it posts a second message, which is better
		// than losing the notification.
		if d.fresh && d.g.TS != "" && !n.Key.IsWebhook() {
			s.mu.Lock()
			s.unrecorded[n.Key] = postedMessage{ts: d.g.TS, at: s.now()}
			s.mu.Unlock()
		}
		return "", err
	}
	if d.fresh {
		s.mu.Lock()
		delete(s.unrecorded, n.Key)
		s.mu.Unlock()
	}
	return result, nil
}

// postedMessage is a group's message that Slack took and the store did
// not record.
type postedMessage struct {
	ts string
	at time.Time
}

// postedBefore returns the message posted for key whose record failed, if
// any.
func (s *Sender) postedBefore(key alertgroup.Key) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.unrecorded[key]
	return p.ts, ok
}

// delivery is an outbox entry on its way to Slack: what send works out from
// the entry and the stored group before it calls Slack.
type delivery struct {
	e  outbox.Entry
	ro RouteOptions
	// g is the stored group; publish sets its TS to the message's.
	g   alertgroup.Group
	msg *alertgroup.Message
	in  render.Input
	// alerts are the statuses of msg's alerts, by fingerprint.
	alerts map[string]string
	t      slackapi.Turn
	now    time.Time
	// fresh is set when the group gets a new message.
	fresh bool
	// unchanged is set when the notification changes nothing the message
	// shows.
	unchanged bool
}

// prepare works out the delivery of e. It reports false when there is
// nothing to deliver.
func (s *Sender) prepare(ctx context.Context, e outbox.Entry, logger *slog.Logger) (delivery, bool, error) {
	n := e.Notification
	ro := s.routes(n.Route)
	g, found, err := s.store.Get(ctx, n.Key)
	if err != nil {
		return delivery{}, false, err
	}
	msg := n.Message
	if e.Kind == outbox.KindNotify && found && n.ReceivedAt.Before(g.NotifiedAt) {
		// The message already shows a newer notification of the group.
		logger.Info("Skipped a notification older than the one the message shows", "received_at", n.ReceivedAt, "shown", g.NotifiedAt)
		return delivery{}, false, nil
	}
	if e.Kind == outbox.KindRefresh {
		if !found || g.Message == nil || (g.TS == "" && !n.Key.IsWebhook()) {
			return delivery{}, false, nil
		}
		msg = g.Message
		if n.Route == "" {
			ro = s.routes(g.Route)
		}
	}
	now := s.now()
	state := g.State
	fresh := !found || g.Message == nil || (g.TS == "" && !n.Key.IsWebhook()) ||
		(g.Status == alertgroup.StatusResolved && msg.Status == alertgroup.StatusFiring)
	if fresh {
		// A new message, also for a group that fires again after it fully
		// resolved: what people did to the old incident does not carry over.
		state = alertgroup.State{}
	}
	// Only a group's first message carries the route's mention. Updates,
	// a message posted again in place of a deleted one and, for incoming
	// webhooks, each later message follow one that called people already.
	in := render.Input{
		Group: msg.Data, GroupKey: msg.GroupKey, TruncatedAlerts: msg.TruncatedAlerts,
		State: state, Options: ro.Render, Now: now, Update: !fresh,
	}
	if s.controls != nil {
		in.Controls = s.controls(state, ro.Render)
	}
	alerts := alertStates(msg)
	return delivery{
		e: e, ro: ro, g: g, msg: msg, in: in, alerts: alerts, now: now, fresh: fresh,
		// The entry's calls take their turn at the limits shared by all
		// channels by its priority and age.
		t:         slackapi.Turn{Priority: e.Priority, Since: e.FirstAt},
		unchanged: !fresh && e.Kind == outbox.KindNotify && !e.Refreshed && g.Status == msg.Status && maps.Equal(g.Alerts, alerts),
	}, true, nil
}

// publish posts or updates the group's message as d says, and returns the
// summary of the change for the thread.
func (s *Sender) publish(ctx context.Context, d *delivery, logger *slog.Logger) (string, error) {
	n, ro, in, t := d.e.Notification, d.ro, d.in, d.t
	var summary string
	switch {
	case n.Key.IsWebhook():
		if d.unchanged && !ro.RepeatInThread {
			break
		}
		// Incoming webhooks return no ts: every notification is a new
		// message, and nothing can be updated.
		if err := s.webhook(ctx, n.Key.Channel, ro.WebhookURL, in, t); err != nil {
			return "", err
		}
	case d.unchanged:
		if ro.RepeatInThread {
			summary = "Still " + d.msg.Status + " (repeat notification)"
		}
	case d.fresh:
		if ts, ok := s.postedBefore(n.Key); ok {
			// Posted by an earlier attempt whose record failed: that
			// message becomes the group's, updated to show the latest.
			err := s.update(ctx, n.Key.Channel, ts, in, t)
			if f, ok := errors.AsType[*slackapi.Failure](err); !ok || !messageGone[f.Code] {
				if err != nil {
					return "", err
				}
				d.g.TS = ts
				logger.Info("Updated the message posted before the store could record it", "ts", ts)
				break
			}
		}
		ts, err := s.post(ctx, n.Key.Channel, in, "", t)
		if err != nil {
			return "", err
		}
		d.g.TS = ts
		logger.Info("Posted a new message", "ts", ts)
	default:
		err := s.update(ctx, n.Key.Channel, d.g.TS, in, t)
		if f, ok := errors.AsType[*slackapi.Failure](err); ok && messageGone[f.Code] {
			// Someone deleted the message, or Slack no longer lets it be
			// edited: the group gets a new one rather than no updates
			// at all.
			logger.Warn("The group's message can no longer be updated; posting a new one", "code", f.Code, "ts", d.g.TS)
			ts, err := s.post(ctx, n.Key.Channel, in, "", t)
			if err != nil {
				return "", err
			}
			d.g.TS = ts
			break
		}
		if err != nil {
			return "", err
		}
		if d.e.Kind == outbox.KindNotify && ro.ThreadReplies {
			summary = render.Summary(d.g.Message.Data, d.msg.Data)
		}
	}
	return summary, nil
}

// record stores what the delivery showed in Slack.
func (s *Sender) record(ctx context.Context, d delivery) error {
	n, msg, now := d.e.Notification, d.msg, d.now
	ts := d.g.TS
	_, err := s.store.Update(ctx, n.Key, func(cur *alertgroup.Group, _ bool) error {
		if n.Route != "" {
			cur.Route = n.Route
		}
		cur.TS = ts
		if d.e.Kind == outbox.KindNotify && n.ReceivedAt.After(cur.NotifiedAt) {
			cur.NotifiedAt = n.ReceivedAt
		}
		cur.Message = msg
		cur.Status = msg.Status
		cur.Alerts = d.alerts
		cur.UpdatedAt = now
		if d.fresh {
			cur.State = alertgroup.State{}
			cur.FirstAt = now
			cur.ResolvedAt = time.Time{}
		}
		if msg.Status == alertgroup.StatusResolved && cur.ResolvedAt.IsZero() {
			cur.ResolvedAt = now
		}
		return nil
	})
	return err
}

// messageGone are chat.update's errors for a message that was deleted or
// may no longer be edited.
var messageGone = map[string]bool{"message_not_found": true, "cant_update_message": true, "edit_window_closed": true}

func alertStates(m *alertgroup.Message) map[string]string {
	out := make(map[string]string, len(m.Alerts))
	for _, a := range m.Alerts {
		out[a.Fingerprint] = a.Status
	}
	return out
}

// post posts the rendering as a new message, falling back once to the
// minimal rendering if Slack refuses its shape.
func (s *Sender) post(ctx context.Context, channel string, in render.Input, threadTS string, t slackapi.Turn) (string, error) {
	var ts string
	err := s.shrinking(in, func(m render.Message) error {
		opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks.BlockSet...)}
		if threadTS != "" {
			opts = append(opts, slack.MsgOptionTS(threadTS))
		}
		var err error
		ts, err = s.slack.Post(ctx, t, channel, opts...)
		return err
	})
	return ts, err
}

func (s *Sender) update(ctx context.Context, channel, ts string, in render.Input, t slackapi.Turn) error {
	return s.shrinking(in, func(m render.Message) error {
		return s.slack.Update(ctx, t, channel, ts,
			slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks.BlockSet...))
	})
}

func (s *Sender) webhook(ctx context.Context, dest, url string, in render.Input, t slackapi.Turn) error {
	if url == "" {
		return &slackapi.Failure{Class: slackapi.Permanent, Code: "no_webhook_url", Err: errors.New("the route has no webhook_url any more")}
	}
	route := destScope(dest).Name
	return s.shrinking(in, func(m render.Message) error {
		return s.slack.Webhook(ctx, t, route, url, m.Text, m.Blocks.BlockSet)
	})
}

func (s *Sender) reply(ctx context.Context, channel, ts, text string, broadcast bool, lim *rate.Limiter, t slackapi.Turn) error {
	if err := s.waitSlot(ctx, lim, slackapi.ChannelScope(channel)); err != nil {
		return fmt.Errorf("wait for a send slot: %w", err)
	}
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionTS(ts)}
	if broadcast {
		// reply_broadcast shows the reply in the channel as well
		// (https://api.slack.com/methods/chat.postMessage#arg_reply_broadcast).
		opts = append(opts, slack.MsgOptionBroadcast())
	}
	_, err := s.slack.Post(ctx, t, channel, opts...)
	return err
}

// threadNotes splits the notes that go in the thread: the texts that join
// the summary of what changed, where the route has thread replies, and the
// urgent ones (see render.UrgentNote), which go in any case, each as a
// reply of its own with its own broadcast.
func threadNotes(notes []string, threadReplies bool) (texts []string, urgent []threadReply) {
	for _, n := range notes {
		text, isUrgent, b := render.ParseNote(n)
		switch {
		case isUrgent:
			urgent = append(urgent, threadReply{text: text, broadcast: b})
		case threadReplies:
			texts = append(texts, text)
		}
	}
	return texts, urgent
}

// threadReply is one reply in a group's thread.
type threadReply struct {
	text string
	// broadcast also shows the reply in the channel (reply_broadcast).
	broadcast bool
}

// shrinking sends the full rendering and, if Slack refuses its shape, the
// minimal one once. Sending the refused rendering again could never work.
func (s *Sender) shrinking(in render.Input, send func(render.Message) error) error {
	err := send(s.checked(render.Render(in), in))
	if f, ok := errors.AsType[*slackapi.Failure](err); ok && f.Class == slackapi.Shrink {
		s.logger.Warn("Slack refused the message's shape; sending a minimal rendering", "code", f.Code, "group_key", in.GroupKey)
		err = send(s.checked(render.Minimal(in), in))
		if f, ok := errors.AsType[*slackapi.Failure](err); ok && f.Class == slackapi.Shrink {
			f.Class = slackapi.Permanent
		}
	}
	return err
}

// checked logs and counts the parts whose template failed; they were
// rendered without it.
func (s *Sender) checked(m render.Message, in render.Input) render.Message {
	for _, e := range m.TemplateErrors {
		s.templates.WithLabelValues(e.Part).Inc()
		s.logger.Warn("Message template failed; part rendered without it", "part", e.Part, "err", e.Err, "group_key", in.GroupKey)
	}
	return m
}

// waitSlot waits for a send slot of dest: the replica's own bucket lim,
// then the one that replicas share, if they do.
func (s *Sender) waitSlot(ctx context.Context, lim *rate.Limiter, dest slackapi.Scope) error {
	if err := lim.Wait(ctx); err != nil {
		return err
	}
	return s.limiter.TakeShared(ctx, dest)
}
