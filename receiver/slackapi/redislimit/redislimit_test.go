package redislimit_test

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/receiver/slackapi/redislimit"
)

// jitter is how late a test may notice that a call was let through: the
// time between Redis granting a token and the caller reading the clock,
// which the scheduler of a loaded machine stretches. It widens every
// window of the rate checks; the replicas' calls without shared limits
// would break them by far more.
const jitter = 150 * time.Millisecond

func TestAllow(t *testing.T) {
	c := storetest.RedisClient(t)
	prefix := storetest.RedisPrefix(t, c)
	l := redislimit.New(c, prefix)
	ctx := t.Context()
	ch := slackapi.ChannelScope("C1")
	for i := range 3 {
		if d, err := l.Allow(ctx, ch, 10, 3); err != nil || d != 0 {
			t.Fatalf("call %d within the burst: Allow = %s, %v; want 0, nil", i, d, err)
		}
	}
	d, err := l.Allow(ctx, ch, 10, 3)
	if err != nil || d <= 0 || d > 100*time.Millisecond {
		t.Fatalf("call after the burst: Allow = %s, %v; want (0, 100ms], nil", d, err)
	}
	// A refused call takes nothing: the wait does not grow.
	if d2, err := l.Allow(ctx, ch, 10, 3); err != nil || d2 <= 0 || d2 > d {
		t.Errorf("call refused again: Allow = %s, %v; want (0, %s], nil", d2, err, d)
	}
	// Another scope has a bucket of its own.
	if d, err := l.Allow(ctx, slackapi.ChannelScope("C2"), 10, 3); err != nil || d != 0 {
		t.Errorf("another channel: Allow = %s, %v; want 0, nil", d, err)
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{prefix + "limit:chat.postMessage:C1", prefix + "limit:chat.postMessage:C2"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys = %q, want %q", keys, want)
	}
	for _, k := range keys {
		if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 || ttl > 300*time.Millisecond {
			t.Errorf("%s expires in %s, want (0, 300ms]: when its bucket is full again", k, ttl)
		}
	}
}

func TestAllowRejects(t *testing.T) {
	c := storetest.RedisClient(t)
	l := redislimit.New(c, storetest.RedisPrefix(t, c))
	for _, tt := range []struct {
		name      string
		scope     slackapi.Scope
		perSecond float64
	}{
		{"zero scope", slackapi.Scope{}, 1},
		{"zero rate", slackapi.MethodScope("chat.update"), 0},
		{"negative rate", slackapi.MethodScope("chat.update"), -1},
	} {
		if _, err := l.Allow(t.Context(), tt.scope, tt.perSecond, 1); err == nil {
			t.Errorf("%s: Allow = nil error", tt.name)
		}
	}
}

func TestPause(t *testing.T) {
	c := storetest.RedisClient(t)
	l := redislimit.New(c, storetest.RedisPrefix(t, c))
	ctx := t.Context()
	m := slackapi.MethodScope("chat.update")
	if d, err := l.Paused(ctx, m); err != nil || d != 0 {
		t.Fatalf("Paused before any pause = %s, %v; want 0, nil", d, err)
	}
	if err := l.Pause(ctx, m, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// A shorter pause leaves the longer one in place.
	if err := l.Pause(ctx, m, time.Second); err != nil {
		t.Fatal(err)
	}
	if d, err := l.Paused(ctx, m); err != nil || d <= 5*time.Second || d > 10*time.Second {
		t.Errorf("Paused = %s, %v; want (5s, 10s], nil", d, err)
	}
	// A longer one replaces it.
	if err := l.Pause(ctx, m, time.Minute); err != nil {
		t.Fatal(err)
	}
	if d, err := l.Paused(ctx, m); err != nil || d <= 50*time.Second {
		t.Errorf("Paused after a longer pause = %s, %v; want over 50s", d, err)
	}
	if d, err := l.Paused(ctx, slackapi.WebhookScope("status")); err != nil || d != 0 {
		t.Errorf("Paused of another scope = %s, %v; want 0, nil", d, err)
	}
}

// replicas are two Limiters that keep to the same limits and share them
// in Redis under one prefix, each through a client of its own, as two
// replicas of amslack do.
type replicas struct {
	lims [2]*slackapi.Limiter
	// regs holds each limiter's metrics.
	regs [2]*prometheus.Registry
	// shared is the first replica's view of the shared limits.
	shared *redislimit.Limits
}

func newReplicas(t *testing.T, limits slackapi.Limits) replicas {
	t.Helper()
	c := storetest.RedisClient(t)
	prefix := storetest.RedisPrefix(t, c)
	c2 := redis.NewClient(&redis.Options{Addr: storetest.RedisAddr})
	t.Cleanup(func() { c2.Close() })
	var r replicas
	for i, rc := range []*redis.Client{c, c2} {
		shared := redislimit.New(rc, prefix)
		if i == 0 {
			r.shared = shared
		}
		r.regs[i] = prometheus.NewRegistry()
		r.lims[i] = slackapi.NewLimiter(limits, nil)
		r.lims[i].Share(shared, slackapi.SharedOptions{Registerer: r.regs[i]})
	}
	return r
}

// waits returns how many calls waited for kind at the shared limits, on
// both replicas.
func (r replicas) waits(t *testing.T, kind string) float64 {
	t.Helper()
	return value(t, r.regs[0], "amslack_shared_limiter_waits_total", kind) +
		value(t, r.regs[1], "amslack_shared_limiter_waits_total", kind)
}

// calls makes n calls through each limiter at once, with call, and
// returns when each went out.
func calls(t *testing.T, lims [2]*slackapi.Limiter, n int, call func(ctx context.Context, replica int, l *slackapi.Limiter) error) []time.Time {
	t.Helper()
	var mu sync.Mutex
	var times []time.Time
	var wg sync.WaitGroup
	for r, l := range lims {
		wg.Go(func() {
			for range n {
				if err := call(t.Context(), r, l); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				times = append(times, time.Now())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	return times
}

// checkRate fails t if, in any window of times, more calls went out than a
// bucket of perSecond and burst allows in it, the window widened by jitter.
func checkRate(t *testing.T, times []time.Time, perSecond float64, burst int) {
	t.Helper()
	for i := range times {
		for j := i; j < len(times); j++ {
			window := times[j].Sub(times[i]) + jitter
			if n, most := j-i+1, perSecond*window.Seconds()+float64(burst); float64(n) > most {
				t.Fatalf("%d calls within %s (%s with jitter); the shared bucket allows %.1f", n, times[j].Sub(times[i]), window, most)
			}
		}
	}
}

// TestReplicasShareChannel sends to one channel from two replicas at once,
// one as the sender does (local slot, then the shared one after choosing
// what to send) and one as an interaction does: together they keep to the
// channel's rate and burst.
func TestReplicasShareChannel(t *testing.T) {
	limits := slackapi.Limits{ChannelRate: 10, ChannelBurst: 4}
	r := newReplicas(t, limits)
	dest := slackapi.ChannelScope("C1")
	times := calls(t, r.lims, 12, func(ctx context.Context, r int, l *slackapi.Limiter) error {
		if r == 0 {
			if err := l.Slot(dest).Wait(ctx); err != nil {
				return err
			}
			if err := l.TakeShared(ctx, dest); err != nil {
				return err
			}
			return l.Wait(ctx, slackapi.Call{Method: slackapi.MethodPost, Dest: dest, Slotted: true})
		}
		return l.Wait(ctx, slackapi.Call{Method: slackapi.MethodPost, Dest: dest})
	})
	// The local slot keeps one less burst than Slack allows; so does the
	// shared one.
	checkRate(t, times, limits.ChannelRate, limits.ChannelBurst-1)
	if r.waits(t, "channel") == 0 {
		t.Error("no call waited for a shared channel token")
	}
}

// TestReplicasShareMethod calls one method from two replicas at once:
// together they keep to its per-minute bucket.
func TestReplicasShareMethod(t *testing.T) {
	// 601 a minute is ten a second with a burst of one.
	r := newReplicas(t, slackapi.Limits{MethodPerMinute: map[string]int{slackapi.MethodUpdate: 601}})
	times := calls(t, r.lims, 8, func(ctx context.Context, r int, l *slackapi.Limiter) error {
		return l.Wait(ctx, slackapi.Call{Method: slackapi.MethodUpdate, Turn: slackapi.Turn{Priority: r}})
	})
	checkRate(t, times, 10, 1)
	if r.waits(t, "method") == 0 {
		t.Error("no call waited for a shared method token")
	}
}

// TestReplicasSharePause checks that a 429 one replica records holds the
// other one's calls in that scope until it passes.
func TestReplicasSharePause(t *testing.T) {
	r := newReplicas(t, slackapi.Limits{})
	ctx := t.Context()
	call := slackapi.Call{Method: slackapi.MethodUpdate, Dest: slackapi.ChannelScope("C1"), Slotted: true}
	r.lims[0].RateLimited(call, 300*time.Millisecond)
	start := time.Now()
	left, err := r.shared.Paused(ctx, slackapi.MethodScope(slackapi.MethodUpdate))
	if err != nil || left <= 0 {
		t.Fatalf("Paused after a 429 = %s, %v; want more than 0", left, err)
	}
	if err := r.lims[1].Wait(ctx, call); err != nil {
		t.Fatal(err)
	}
	// The pause's end is on Redis's clock, read to the millisecond.
	if waited := time.Since(start); waited < left-time.Millisecond {
		t.Errorf("the other replica's call went out after %s, with the pause %s from its end", waited, left)
	}
	if left, err := r.shared.Paused(ctx, slackapi.MethodScope(slackapi.MethodUpdate)); err != nil || left != 0 {
		t.Errorf("Paused after the call = %s, %v; want 0", left, err)
	}
	if got := value(t, r.regs[1], "amslack_shared_limiter_waits_total", "pause"); got != 1 {
		t.Errorf("the other replica's pause waits = %v, want 1", got)
	}
}

// TestRedisDown checks that calls go on within the local limits when Redis
// does not answer, and that the failures are counted.
func TestRedisDown(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	reg := prometheus.NewRegistry()
	l := slackapi.NewLimiter(slackapi.Limits{ChannelRate: 100, ChannelBurst: 10, MethodPerMinute: map[string]int{slackapi.MethodUpdate: 6000}}, nil)
	l.Share(redislimit.New(c, "amslack-test:down:"), slackapi.SharedOptions{Registerer: reg, Timeout: 200 * time.Millisecond})
	ctx := t.Context()
	dest := slackapi.ChannelScope("C1")
	for _, call := range []slackapi.Call{
		{Method: slackapi.MethodPost, Dest: dest},
		{Method: slackapi.MethodUpdate, Dest: dest},
		{Method: slackapi.MethodUpdate, Dest: dest, Slotted: true},
	} {
		if err := l.Wait(ctx, call); err != nil {
			t.Fatalf("Wait(%+v) = %v", call, err)
		}
	}
	if err := l.TakeShared(ctx, dest); err != nil {
		t.Fatalf("TakeShared = %v", err)
	}
	l.RateLimited(slackapi.Call{Method: slackapi.MethodUpdate}, time.Millisecond)
	if got := value(t, reg, "amslack_shared_limiter_errors_total", ""); got != 5 {
		t.Errorf("errors = %v, want 5: one for each call", got)
	}
}

// value returns the value of the counter name with the label value label
// (any, when empty) in reg.
func value(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || (len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() == label) {
				v += m.GetCounter().GetValue()
			}
		}
	}
	return v
}

// closedAddr returns an address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// BenchmarkAllow measures one token taken from a shared bucket in the
// local Redis: a round trip and the script, per call of Wait and scope.
func BenchmarkAllow(b *testing.B) {
	c := storetest.RedisClient(b)
	l := redislimit.New(c, storetest.RedisPrefix(b, c))
	ctx := context.Background()
	scope := slackapi.MethodScope("chat.update")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Allow(ctx, scope, 1e6, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSharedWait measures what sharing the limits adds to a
// chat.update to a channel: the pause check and the channel's and the
// method's shared tokens, three round trips.
func BenchmarkSharedWait(b *testing.B) {
	c := storetest.RedisClient(b)
	l := slackapi.NewLimiter(slackapi.Limits{ChannelRate: 1e6, ChannelBurst: 1 << 20, MethodPerMinute: map[string]int{slackapi.MethodUpdate: 1 << 30}}, nil)
	l.Share(redislimit.New(c, storetest.RedisPrefix(b, c)), slackapi.SharedOptions{})
	ctx := context.Background()
	call := slackapi.Call{Method: slackapi.MethodUpdate, Dest: slackapi.ChannelScope("C1")}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Wait(ctx, call); err != nil {
			b.Fatal(err)
		}
	}
}
