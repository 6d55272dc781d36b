package slackapi

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// SharedLimits are Slack's rate limits kept for several replicas of amslack
// at once, so that together they spend one workspace's budget, not one
// each. Implementations are safe for concurrent use; redislimit keeps them
// in Redis.
type SharedLimits interface {
	// Allow takes one token from scope's bucket (perSecond rate, burst) if
	// it has one and returns 0; otherwise it takes nothing and returns how
	// long until it will have one.
	Allow(ctx context.Context, scope Scope, perSecond float64, burst int) (time.Duration, error)
	// Pause records that Slack said not to call scope for d (a 429's
	// Retry-After), for all replicas. A shorter pause leaves a longer one
	// in place.
	Pause(ctx context.Context, scope Scope, d time.Duration) error
	// Paused returns how long scope is still paused, 0 if not.
	Paused(ctx context.Context, scope Scope) (time.Duration, error)
}

// SharedOptions configure how a Limiter keeps the limits it shares.
type SharedOptions struct {
	// Timeout bounds each call to the shared limits; 0 is one second.
	Timeout    time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Kinds of wait at the shared limits, as the label of
// amslack_shared_limiter_waits_total.
const (
	waitChannel   = "channel"
	waitWebhook   = "webhook"
	waitMethod    = "method"
	waitWorkspace = "workspace"
	waitPause     = "pause"
)

// failureLogEvery is how often at most a Limiter logs that the shared
// limits fail: while Redis is down every Slack call finds out.
const failureLogEvery = time.Minute

// Share makes l keep, besides its own limits, the limits in s that it
// shares with other replicas: Wait then also waits out the pauses that any
// replica recorded and takes the shared tokens of the call's scopes, at the
// same rates and bursts as l's own buckets; RateLimited records each pause
// in s too; TakeShared takes the shared token of a slot. Call it once,
// before the calls that are to share the limits.
//
// When s fails (an error, or no answer within o.Timeout), the call goes on
// within l's own limits, which keep this replica within Slack's: delivery
// does not stop for a failure of the shared limits. Each failure is counted
// and logged, at most once a minute.
func (l *Limiter) Share(s SharedLimits, o SharedOptions) {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	sh := &shared{
		limits:  s,
		timeout: o.Timeout,
		logger:  o.Logger,
		now:     l.now,
		channel: bucket{perSecond: l.limits.ChannelRate, burst: l.limits.slotBurst()},
		methods: map[string]*sharedBucket{},
	}
	if n := l.limits.WorkspacePerMinute; n > 0 {
		sh.workspace = &sharedBucket{bucket: perMinuteBucket(n)}
	}
	for m, n := range l.limits.MethodPerMinute {
		if n > 0 {
			sh.methods[m] = &sharedBucket{bucket: perMinuteBucket(n)}
		}
	}
	reg := promauto.With(o.Registerer)
	sh.waits = reg.NewCounterVec(prometheus.CounterOpts{
		Namespace: "amslack", Name: "shared_limiter_waits_total",
		Help: "Slack calls that waited at the rate limits shared by replicas, by what they waited for: a token of a channel, webhook, method or the workspace, or a pause after a 429.",
	}, []string{"kind"})
	for _, k := range []string{waitChannel, waitWebhook, waitMethod, waitWorkspace, waitPause} {
		sh.waits.WithLabelValues(k)
	}
	sh.waitSeconds = reg.NewHistogram(prometheus.HistogramOpts{
		Namespace: "amslack", Name: "shared_limiter_wait_seconds",
		Help:    "Time a Slack call spent at the rate limits shared by replicas, round trips included.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	})
	sh.errors = reg.NewCounter(prometheus.CounterOpts{
		Namespace: "amslack", Name: "shared_limiter_errors_total",
		Help: "Calls to the rate limits shared by replicas that failed; the Slack calls that needed them kept to this replica's own limits.",
	})
	l.shared.Store(sh)
}

// TakeShared waits for and takes the shared token of dest's slot, the
// channel's or incoming webhook's. A caller that took dest's Slot before it
// chose what to send, and passes Call.Slotted to Wait, calls TakeShared
// once it has chosen. It returns nil at once without shared limits (see
// Share) and when they fail; otherwise only ctx's error.
func (l *Limiter) TakeShared(ctx context.Context, dest Scope) error {
	sh := l.shared.Load()
	if sh == nil || dest == (Scope{}) {
		return nil
	}
	start := sh.now()
	err := sh.takeSlot(ctx, dest)
	sh.waitSeconds.Observe(sh.now().Sub(start).Seconds())
	return sh.settle(err)
}

// shared is a Limiter's side of the limits it shares with other replicas.
type shared struct {
	limits  SharedLimits
	timeout time.Duration
	logger  *slog.Logger
	now     func() time.Time

	// channel is the bucket of each channel and incoming webhook;
	// workspace and methods hold the buckets that all channels share. All
	// are fixed at Share.
	channel   bucket
	workspace *sharedBucket
	methods   map[string]*sharedBucket

	waits       *prometheus.CounterVec
	waitSeconds prometheus.Histogram
	errors      prometheus.Counter

	// mu guards failedAt and failCount.
	mu sync.Mutex
	// failedAt is when the last failure was logged; failCount counts the
	// failures since.
	failedAt  time.Time
	failCount int
}

// bucket is the rate and burst of a shared token bucket.
type bucket struct {
	perSecond float64
	burst     int
}

// perMinuteBucket is the shared bucket of n calls a minute, the same as
// perMinute(n).
func perMinuteBucket(n int) bucket {
	r, b := perMinuteRate(n)
	return bucket{perSecond: float64(r), burst: b}
}

// sharedBucket is a bucket that all channels share, with the line of this
// replica's callers waiting for its tokens.
type sharedBucket struct {
	bucket
	line sharedQueue
}

// failure is an error of the shared limits, as opposed to the end of the
// caller's ctx.
type failure struct{ err error }

func (f *failure) Error() string { return "shared rate limits: " + f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// wait is Wait's part at the shared limits, after c passed the local ones:
// it waits out the pause of c's scope, then takes the shared token of
// c.Dest (unless c.Slotted, and no pause came between the slot and now),
// of the method and, for chat.postMessage, of the workspace.
func (s *shared) wait(ctx context.Context, c Call, paused bool) error {
	start := s.now()
	err := s.steps(ctx, c, paused)
	s.waitSeconds.Observe(s.now().Sub(start).Seconds())
	return s.settle(err)
}

// steps does wait's steps in turn and returns the first error.
func (s *shared) steps(ctx context.Context, c Call, paused bool) error {
	waited, err := s.waitPaused(ctx, c.pauseScope())
	if err != nil {
		return err
	}
	if c.Dest != (Scope{}) && (paused || waited || !c.Slotted) {
		if err := s.takeSlot(ctx, c.Dest); err != nil {
			return err
		}
	}
	if b := s.methods[c.Method]; b != nil {
		if err := s.takeInLine(ctx, MethodScope(c.Method), b, c.Turn); err != nil {
			return err
		}
	}
	if c.Method == MethodPost && s.workspace != nil {
		if err := s.takeInLine(ctx, WorkspaceScope(), s.workspace, c.Turn); err != nil {
			return err
		}
	}
	return nil
}

// settle ends a call's steps at the shared limits: when they failed, the
// call goes on within the local limits that it passed.
func (s *shared) settle(err error) error {
	if _, ok := errors.AsType[*failure](err); ok {
		return nil
	}
	return err
}

// waitPaused waits until no replica's pause of scope holds, and reports
// whether it had to wait.
func (s *shared) waitPaused(ctx context.Context, scope Scope) (bool, error) {
	waited := false
	for {
		cctx, cancel := context.WithTimeout(ctx, s.timeout)
		d, err := s.limits.Paused(cctx, scope)
		cancel()
		if err != nil {
			return waited, s.failed(ctx, err)
		}
		if d <= 0 {
			return waited, nil
		}
		if !waited {
			s.waits.WithLabelValues(waitPause).Inc()
			waited = true
		}
		if !sleep(ctx, d) {
			return waited, ctx.Err()
		}
	}
}

// takeSlot waits for and takes the shared token of dest, a channel or an
// incoming webhook.
func (s *shared) takeSlot(ctx context.Context, dest Scope) error {
	waited, err := s.take(ctx, dest, s.channel)
	if waited {
		s.waits.WithLabelValues(waitKind(dest)).Inc()
	}
	return err
}

// take waits for and takes a token of scope's shared bucket b, and reports
// whether it had to wait.
func (s *shared) take(ctx context.Context, scope Scope, b bucket) (bool, error) {
	waited := false
	for {
		cctx, cancel := context.WithTimeout(ctx, s.timeout)
		d, err := s.limits.Allow(cctx, scope, b.perSecond, b.burst)
		cancel()
		if err != nil {
			return waited, s.failed(ctx, err)
		}
		if d <= 0 {
			return waited, nil
		}
		waited = true
		if !sleep(ctx, d) {
			return waited, ctx.Err()
		}
	}
}

// takeInLine takes a token of scope's shared bucket b in this replica's
// line for it, most urgent first by t.
func (s *shared) takeInLine(ctx context.Context, scope Scope, b *sharedBucket, t Turn) error {
	waited, err := b.line.take(ctx, t, func(ctx context.Context) (bool, error) {
		return s.take(ctx, scope, b.bucket)
	})
	if waited {
		s.waits.WithLabelValues(waitKind(scope)).Inc()
	}
	return err
}

// pause records a pause of scope for d at the shared limits.
func (s *shared) pause(scope Scope, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := s.limits.Pause(ctx, scope, d); err != nil {
		s.failed(context.Background(), err)
	}
}

// failed handles err from the shared limits: ctx's error when ctx ended,
// otherwise a *failure, counted and logged at most once per
// failureLogEvery.
func (s *shared) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.errors.Inc()
	now := s.now()
	s.mu.Lock()
	s.failCount++
	n := s.failCount
	log := s.failedAt.IsZero() || now.Sub(s.failedAt) >= failureLogEvery
	if log {
		s.failedAt, s.failCount = now, 0
	}
	s.mu.Unlock()
	if log {
		s.logger.Warn("Rate limits shared with other replicas failed; keeping to this replica's own limits",
			"err", err, "failures", n)
	}
	return &failure{err: err}
}

// waitKind is the waits_total label of a scope's bucket.
func waitKind(scope Scope) string {
	switch scope.Kind {
	case KindChannel:
		return waitChannel
	case KindWebhook:
		return waitWebhook
	case KindMethod:
		return waitMethod
	}
	return waitWorkspace
}

// sharedQueue lines up this replica's callers for the tokens of one shared
// bucket, most urgent first, as admission does for a local one. The local
// admission alone would not keep the order: replicas together take the
// shared tokens more slowly than one replica's own bucket hands them out,
// so callers would pile up behind it and win the shared tokens by the luck
// of their timing.
//
// One caller at a time, the poller, asks the shared limits for a token.
// When it gets one it gives it to the most urgent caller waiting then,
// itself included; if that is another, it asks again for itself, otherwise
// it leaves with the token and the first in line becomes the poller. When
// the shared limits fail, everyone in line leaves with the failure, so
// that they all go on within the local limits at once instead of each
// waiting out a timeout in turn.
type sharedQueue struct {
	// mu guards every field below.
	mu      sync.Mutex
	waiters waiterHeap
	// polling is set while a caller asks for tokens.
	polling bool
	// seq numbers the waiters in arrival order.
	seq uint64
}

// take returns once the caller has a token, or ctx ends, or the shared
// limits fail, and reports whether the caller had to wait. get takes a
// token for the poller and reports whether it had to wait; its errors are
// ctx's or a *failure.
func (q *sharedQueue) take(ctx context.Context, t Turn, get func(context.Context) (bool, error)) (bool, error) {
	q.mu.Lock()
	q.seq++
	w := &waiter{Turn: t, seq: q.seq, ready: make(chan struct{})}
	waited := q.polling
	if q.polling {
		heap.Push(&q.waiters, w)
		q.mu.Unlock()
		select {
		case <-w.ready:
		case <-ctx.Done():
			return true, q.leave(w, ctx.Err())
		}
		if !w.poll {
			return true, w.err
		}
	} else {
		q.polling = true
		q.mu.Unlock()
	}
	for {
		slow, err := get(ctx)
		waited = waited || slow
		q.mu.Lock()
		if err != nil {
			if _, ok := errors.AsType[*failure](err); ok {
				q.failLocked(err)
			} else {
				q.passLocked()
			}
			q.mu.Unlock()
			return waited, err
		}
		if len(q.waiters) > 0 && before(q.waiters[0], w) {
			o := heap.Pop(&q.waiters).(*waiter)
			o.granted = true
			close(o.ready)
			q.mu.Unlock()
			waited = true
			continue
		}
		q.passLocked()
		q.mu.Unlock()
		return waited, nil
	}
}

// leave takes w, whose ctx ended with err, out of line. What came to w as
// ctx ended goes on: a token to the next in line, the poller's role to
// the first in line.
func (q *sharedQueue) leave(w *waiter, err error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !w.granted {
		heap.Remove(&q.waiters, w.i)
		return err
	}
	switch {
	case w.err != nil:
	case w.poll:
		q.passLocked()
	case len(q.waiters) > 0:
		o := heap.Pop(&q.waiters).(*waiter)
		o.granted = true
		close(o.ready)
	}
	return err
}

// passLocked makes the first in line the poller, or leaves nobody polling.
// q.mu must be held.
func (q *sharedQueue) passLocked() {
	if len(q.waiters) == 0 {
		q.polling = false
		return
	}
	o := heap.Pop(&q.waiters).(*waiter)
	o.granted, o.poll = true, true
	close(o.ready)
}

// failLocked sends everyone in line away with err. q.mu must be held.
func (q *sharedQueue) failLocked(err error) {
	for len(q.waiters) > 0 {
		o := heap.Pop(&q.waiters).(*waiter)
		o.granted, o.err = true, err
		close(o.ready)
	}
	q.polling = false
}
