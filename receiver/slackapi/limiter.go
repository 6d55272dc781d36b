package slackapi

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Limits are the rates amslack keeps to. Slack's own limits are per method
// and per workspace in per-minute windows, plus about one message per
// second per channel (https://docs.slack.dev/apis/web-api/rate-limits).
type Limits struct {
	// ChannelRate is calls per second to one channel or incoming webhook,
	// ChannelBurst the burst on top.
	ChannelRate  float64
	ChannelBurst int
	// MethodPerMinute caps calls per Web API method ("chat.update": 50);
	// MethodWebhook caps the posts to incoming webhooks.
	MethodPerMinute map[string]int
	// WorkspacePerMinute caps chat.postMessage calls across channels.
	WorkspacePerMinute int
	// RateLimitedBackoff is the pause after a 429 without Retry-After.
	RateLimitedBackoff time.Duration
}

// withDefaults fills in what l leaves unset.
func (l Limits) withDefaults() Limits {
	if l.ChannelRate <= 0 {
		l.ChannelRate = 1
	}
	if l.ChannelBurst <= 0 {
		l.ChannelBurst = 1
	}
	if l.RateLimitedBackoff <= 0 {
		l.RateLimitedBackoff = time.Minute
	}
	return l
}

// Web API methods that the limiter treats apart, and the pseudo-method of
// incoming webhooks, as metric labels and keys of Limits.MethodPerMinute.
const (
	MethodPost    = "chat.postMessage"
	MethodUpdate  = "chat.update"
	MethodWebhook = "webhook"
)

// Call is one Slack call as the limiter sees it.
type Call struct {
	// Method is the Web API method, or MethodWebhook.
	Method string
	// Dest is the channel (KindChannel) or incoming webhook (KindWebhook)
	// the call posts to; zero for a call that posts nothing.
	Dest Scope
	// Turn is the call's place in line at the limits that all channels
	// share.
	Turn Turn
	// Slotted is set when the caller took Dest's slot already (see
	// Limiter.Slot); otherwise Wait takes it.
	Slotted bool
}

// pauseScope is the scope that a 429 to c pauses: the incoming webhook
// for a webhook post, otherwise the method. Slack's 429 does not say which
// of a call's scopes was over, and the method's is the one every call of
// it shares.
func (c Call) pauseScope() Scope {
	if c.Dest.Kind == KindWebhook {
		return c.Dest
	}
	return MethodScope(c.Method)
}

// Limiter keeps Slack's rate limits for every caller of one workspace: a
// token bucket per channel and per incoming webhook, a bucket per method
// and one for the workspace that admit the most urgent call first (see
// admission), and the pauses that Slack's 429s impose. Replicas that share
// Slack's limits share them through Share as well. All its methods are
// safe for concurrent use.
type Limiter struct {
	limits Limits
	now    func() time.Time

	// shared holds the limits shared with other replicas; nil until Share.
	shared atomic.Pointer[shared]

	// workspace and methods are the limits that all channels share; they
	// admit calls by Turn. Both are fixed at NewLimiter.
	workspace *admission
	methods   map[string]*admission

	// mu guards slots and paused.
	mu sync.Mutex
	// slots holds a token bucket per channel or incoming webhook.
	slots map[Scope]*rate.Limiter
	// paused holds, per scope, the time before which Slack told amslack
	// not to call it again.
	paused map[Scope]time.Time
}

// NewLimiter returns a Limiter that keeps to l; now is its clock (nil is
// time.Now).
func NewLimiter(l Limits, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l = l.withDefaults()
	lim := &Limiter{
		limits:  l,
		now:     now,
		methods: map[string]*admission{},
		slots:   map[Scope]*rate.Limiter{},
		paused:  map[Scope]time.Time{},
	}
	if l.WorkspacePerMinute > 0 {
		lim.workspace = newAdmission(perMinute(l.WorkspacePerMinute))
	}
	for m, n := range l.MethodPerMinute {
		if n > 0 {
			lim.methods[m] = newAdmission(perMinute(n))
		}
	}
	return lim
}

// perMinute returns a token bucket that admits at most n calls in any 60
// seconds, however Slack aligns its minute windows.
func perMinute(n int) *rate.Limiter { return rate.NewLimiter(perMinuteRate(n)) }

// perMinuteRate is the rate and burst of perMinute(n): one call at once and
// n-1 spread over the minute after it, so that a window that opens with the
// burst still holds at most n.
func perMinuteRate(n int) (rate.Limit, int) {
	if n <= 1 {
		return rate.Every(time.Minute), 1
	}
	return rate.Limit(float64(n-1) / 60), 1
}

// slotBurst is the burst of a channel's or incoming webhook's token bucket:
// one slot less than Slack allows. Slack counts calls when they arrive,
// amslack when they leave, and a few milliseconds of network jitter would
// otherwise turn a full burst into a 429. The sustained rate is unchanged.
func (l Limits) slotBurst() int { return max(1, l.ChannelBurst-1) }

// Slot returns the token bucket of a channel or incoming webhook. A caller
// that reserves its slot before it chooses what to send (the sender) passes
// Call.Slotted to Wait.
func (l *Limiter) Slot(dest Scope) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.slots[dest]
	if !ok {
		b = rate.NewLimiter(rate.Limit(l.limits.ChannelRate), l.limits.slotBurst())
		l.slots[dest] = b
	}
	return b
}

// Wait blocks until c may be made, or ctx ends: it waits out a pause that
// a 429 imposed, then Dest's slot, then the method's and (for
// chat.postMessage) the workspace's token buckets, which admit the most
// urgent call first by c.Turn. With limits shared by replicas (Share) it
// then does the same at the shared limits.
func (l *Limiter) Wait(ctx context.Context, c Call) error {
	scope := c.pauseScope()
	paused := false
	for {
		l.mu.Lock()
		until := l.paused[scope]
		l.mu.Unlock()
		d := until.Sub(l.now())
		if d <= 0 {
			break
		}
		if !sleep(ctx, d) {
			return ctx.Err()
		}
		paused = true
	}
	// After a pause the channel's bucket has refilled and a slot taken
	// before it is spent. Take a fresh one, or the calls after a pause go
	// out as a burst that Slack answers with another 429.
	if c.Dest != (Scope{}) && (paused || !c.Slotted) {
		if err := l.Slot(c.Dest).Wait(ctx); err != nil {
			return err
		}
	}
	if a := l.methods[c.Method]; a != nil {
		if err := a.wait(ctx, c.Turn); err != nil {
			return err
		}
	}
	if c.Method == MethodPost && l.workspace != nil {
		if err := l.workspace.wait(ctx, c.Turn); err != nil {
			return err
		}
	}
	if sh := l.shared.Load(); sh != nil {
		return sh.wait(ctx, c, paused)
	}
	return nil
}

// RateLimited records Slack's 429 to c: no call in its scope goes out
// before retryAfter has passed, or Limits.RateLimitedBackoff when Slack
// sent no Retry-After. With limits shared by replicas (Share) the pause
// holds for every replica.
func (l *Limiter) RateLimited(c Call, retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = l.limits.RateLimitedBackoff
	}
	scope := c.pauseScope()
	until := l.now().Add(retryAfter)
	l.mu.Lock()
	if until.After(l.paused[scope]) {
		l.paused[scope] = until
	}
	l.mu.Unlock()
	if sh := l.shared.Load(); sh != nil {
		sh.pause(scope, retryAfter)
	}
}

// Forget drops the state of idle scopes, so that the limiter's memory
// follows the channels in use, not every channel it ever saw. A slot goes
// once its bucket is full and busy reports false for it, which makes it
// the same as the new bucket Slot would return: no call can go out sooner
// for it. busy is called with l's lock held; it must not call l. Pauses go
// once they are over.
func (l *Limiter) Forget(busy func(dest Scope) bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for dest, b := range l.slots {
		if !busy(dest) && b.Tokens() >= float64(b.Burst()) {
			delete(l.slots, dest)
		}
	}
	for scope, until := range l.paused {
		if !until.After(now) {
			delete(l.paused, scope)
		}
	}
}

// Held returns how many slots and pauses the limiter holds.
func (l *Limiter) Held() (slots, pauses int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.slots), len(l.paused)
}

// sleep waits for d or ctx, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
