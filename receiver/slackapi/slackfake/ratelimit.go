package slackfake

import (
	"math"
	"time"
)

// limiter decides whether a scope admits one more request at a time.
type limiter interface {
	// wait returns how long until the scope admits a request; 0 means now.
	wait(now time.Time) time.Duration
	// take counts an admitted request.
	take(now time.Time)
}

// window admits at most limit requests in any period (a sliding window).
// Slack states its method tiers and the workspace message cap as counts per
// minute, so per-minute scopes use a window: a client that sends more than
// the count within any minute is over the limit, bursts included.
type window struct {
	limit  int
	period time.Duration
	// times are the admitted requests still inside the window, oldest first.
	times []time.Time
}

func newWindow(limit int, period time.Duration) *window {
	return &window{limit: limit, period: period}
}

func (w *window) drop(now time.Time) {
	i := 0
	for i < len(w.times) && !w.times[i].Add(w.period).After(now) {
		i++
	}
	w.times = w.times[i:]
}

func (w *window) wait(now time.Time) time.Duration {
	w.drop(now)
	if len(w.times) < w.limit {
		return 0
	}
	return w.times[len(w.times)-w.limit].Add(w.period).Sub(now)
}

func (w *window) take(now time.Time) {
	w.times = append(w.times, now)
}

// bucket is a token bucket: rate requests per second on average with bursts
// of up to burst. Slack describes chat.postMessage per channel and incoming
// webhooks as "1 per second, short bursts allowed".
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int) *bucket {
	b := max(float64(burst), 1)
	return &bucket{rate: rate, burst: b, tokens: b}
}

func (b *bucket) refill(now time.Time) {
	if b.last.IsZero() {
		b.last = now
		return
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
}

func (b *bucket) wait(now time.Time) time.Duration {
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - b.tokens) / b.rate * float64(time.Second)))
}

func (b *bucket) take(now time.Time) {
	b.refill(now)
	b.tokens--
}

// retryAfterSeconds rounds a wait up to the whole seconds that a Retry-After
// header carries, at least one.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
