package slackapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"
)

// memShared is SharedLimits in memory, as replicas in one process would
// share them, on the clock of time.Now (a synctest bubble's in tests).
type memShared struct {
	// mu guards every field below.
	mu      sync.Mutex
	buckets map[Scope]*rate.Limiter
	paused  map[Scope]time.Time
	// allows counts the calls of Allow per scope.
	allows map[Scope]int
	// fail, when set, is the error of every call.
	fail error
	// block, when set, holds each call of Allow until it is closed.
	block chan struct{}
}

func newMemShared() *memShared {
	return &memShared{buckets: map[Scope]*rate.Limiter{}, paused: map[Scope]time.Time{}, allows: map[Scope]int{}}
}

func (m *memShared) bucket(scope Scope, perSecond float64, burst int) *rate.Limiter {
	b, ok := m.buckets[scope]
	if !ok {
		b = rate.NewLimiter(rate.Limit(perSecond), burst)
		m.buckets[scope] = b
	}
	return b
}

// drain draws scope's bucket, of perSecond and a burst of one, down so
// that its next token is due in d, as other replicas' calls would.
func (m *memShared) drain(scope Scope, perSecond float64, d time.Duration) {
	b := m.bucket(scope, perSecond, 1)
	for range int(d.Seconds() * perSecond) {
		b.Reserve()
	}
}

func (m *memShared) Allow(ctx context.Context, scope Scope, perSecond float64, burst int) (time.Duration, error) {
	m.mu.Lock()
	block, fail := m.block, m.fail
	m.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if fail != nil {
		return 0, fail
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.allows[scope]++
	b := m.bucket(scope, perSecond, burst)
	if b.Allow() {
		return 0, nil
	}
	return time.Duration(math.Ceil((1 - b.Tokens()) / perSecond * float64(time.Second))), nil
}

func (m *memShared) Pause(ctx context.Context, scope Scope, d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if until := time.Now().Add(d); until.After(m.paused[scope]) {
		m.paused[scope] = until
	}
	return nil
}

func (m *memShared) Paused(ctx context.Context, scope Scope) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return 0, m.fail
	}
	return max(0, time.Until(m.paused[scope])), nil
}

// TestSharedMostUrgentFirst lines up three calls at a method's shared
// bucket, which other replicas have drawn down for five seconds: each
// passed this replica's own bucket as it came, least urgent first, and the
// shared tokens go to them most urgent first.
func TestSharedMostUrgentFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemShared()
		// 61 a minute is one a second with a burst of one (perMinute).
		l := NewLimiter(Limits{MethodPerMinute: map[string]int{MethodUpdate: 61}}, nil)
		l.Share(m, SharedOptions{})
		m.drain(MethodScope(MethodUpdate), 1, 5*time.Second)
		start := time.Now()
		type grant struct {
			name string
			at   time.Duration
		}
		grants := make(chan grant, 3)
		for _, w := range []struct {
			name     string
			priority int
		}{{"info", 3}, {"warning", 2}, {"critical", 0}} {
			go func() {
				if err := l.Wait(t.Context(), Call{Method: MethodUpdate, Turn: Turn{Priority: w.priority}}); err != nil {
					t.Error(err)
				}
				grants <- grant{w.name, time.Since(start)}
			}()
			time.Sleep(time.Second)
		}
		var got []grant
		for range 3 {
			got = append(got, <-grants)
		}
		want := []grant{{"critical", 5 * time.Second}, {"warning", 6 * time.Second}, {"info", 7 * time.Second}}
		if diff := cmp.Diff(got, want, cmp.AllowUnexported(grant{})); diff != "" {
			t.Errorf("grants (-got +want):\n%s", diff)
		}
		if got := testutil.ToFloat64(l.shared.Load().waits.WithLabelValues(waitMethod)); got != 3 {
			t.Errorf("method waits = %v, want 3", got)
		}
	})
}

// TestSharedLeaveLine checks that a call that gives up in line leaves the
// others their place: a waiter's token and the poller's role go on.
func TestSharedLeaveLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemShared()
		l := NewLimiter(Limits{MethodPerMinute: map[string]int{MethodUpdate: 61}}, nil)
		l.Share(m, SharedOptions{})
		m.drain(MethodScope(MethodUpdate), 1, 5*time.Second)
		start := time.Now()
		wait := func(ctx context.Context, priority int) chan error {
			done := make(chan error, 1)
			go func() { done <- l.Wait(ctx, Call{Method: MethodUpdate, Turn: Turn{Priority: priority}}) }()
			return done
		}
		pollerCtx, cancelPoller := context.WithCancel(t.Context())
		poller := wait(pollerCtx, 3)
		time.Sleep(time.Second)
		waiterCtx, cancelWaiter := context.WithCancel(t.Context())
		waiter := wait(waiterCtx, 0)
		time.Sleep(time.Second)
		last := wait(t.Context(), 5)
		time.Sleep(time.Second)
		cancelWaiter()
		if err := <-waiter; !errors.Is(err, context.Canceled) {
			t.Fatalf("waiter's Wait = %v, want %v", err, context.Canceled)
		}
		cancelPoller()
		if err := <-poller; !errors.Is(err, context.Canceled) {
			t.Fatalf("poller's Wait = %v, want %v", err, context.Canceled)
		}
		if err := <-last; err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("last in line got the token after %s, want 5s", d)
		}
	})
}

// TestSharedSlot checks which calls take a channel's shared token: those
// that did not take its slot, TakeShared, and a slotted call after a pause.
func TestSharedSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemShared()
		l := NewLimiter(Limits{ChannelRate: 1, ChannelBurst: 3}, nil)
		l.Share(m, SharedOptions{})
		ch := ChannelScope("C1")
		if err := l.Wait(t.Context(), Call{Method: MethodPost, Dest: ch, Slotted: true}); err != nil {
			t.Fatal(err)
		}
		if n := m.allows[ch]; n != 0 {
			t.Errorf("slotted call asked for %d shared tokens, want 0", n)
		}
		if err := l.TakeShared(t.Context(), ch); err != nil {
			t.Fatal(err)
		}
		if err := l.Wait(t.Context(), Call{Method: MethodPost, Dest: ch}); err != nil {
			t.Fatal(err)
		}
		if n := m.allows[ch]; n != 2 {
			t.Errorf("TakeShared and an unslotted call asked for %d shared tokens, want 2", n)
		}
		// The shared bucket has the local slot's burst: ChannelBurst-1.
		if got, want := m.buckets[ch].Burst(), 2; got != want {
			t.Errorf("shared channel burst = %d, want %d", got, want)
		}
		if err := m.Pause(t.Context(), MethodScope(MethodPost), time.Second); err != nil {
			t.Fatal(err)
		}
		if err := l.Wait(t.Context(), Call{Method: MethodPost, Dest: ch, Slotted: true}); err != nil {
			t.Fatal(err)
		}
		if n := m.allows[ch]; n != 3 {
			t.Errorf("slotted call after a pause: %d shared tokens asked in all, want 3", n)
		}
	})
}

// TestSharedPause checks that a 429 one replica records holds the other
// replica's calls in that scope until it passes.
func TestSharedPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemShared()
		a, b := NewLimiter(Limits{}, nil), NewLimiter(Limits{}, nil)
		a.Share(m, SharedOptions{})
		b.Share(m, SharedOptions{})
		c := Call{Method: MethodUpdate, Dest: ChannelScope("C1"), Slotted: true}
		a.RateLimited(c, 300*time.Millisecond)
		start := time.Now()
		if err := b.Wait(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Errorf("the other replica's call waited %s, want 300ms", d)
		}
		if got := testutil.ToFloat64(b.shared.Load().waits.WithLabelValues(waitPause)); got != 1 {
			t.Errorf("pause waits = %v, want 1", got)
		}
	})
}

// TestSharedFailure checks that calls go on within the local limits while
// the shared limits fail, and that the failures are counted and logged at
// most once a minute.
func TestSharedFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemShared()
		m.fail = errors.New("connection refused")
		var logs bytes.Buffer
		l := NewLimiter(Limits{MethodPerMinute: map[string]int{MethodPost: 1000}, WorkspacePerMinute: 1000}, nil)
		l.Share(m, SharedOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		c := Call{Method: MethodPost, Dest: ChannelScope("C1")}
		for range 3 {
			if err := l.Wait(t.Context(), c); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.TakeShared(t.Context(), c.Dest); err != nil {
			t.Fatal(err)
		}
		l.RateLimited(c, time.Millisecond)
		time.Sleep(time.Minute)
		if err := l.Wait(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if got := testutil.ToFloat64(l.shared.Load().errors); got != 6 {
			t.Errorf("errors = %v, want 6", got)
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "failures=1") || !strings.Contains(lines[1], "failures=5") {
			t.Errorf("logged:\n%s\nwant two lines, the first of 1 failure, the second of the 5 since", logs.String())
		}
	})
}

// TestSharedFailureEmptiesLine checks that when the shared limits fail,
// the calls in line go on at once rather than each trying in turn.
func TestSharedFailureEmptiesLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemShared()
		m.block = make(chan struct{})
		l := NewLimiter(Limits{MethodPerMinute: map[string]int{MethodUpdate: 1 << 20}}, nil)
		l.Share(m, SharedOptions{})
		done := make(chan error, 3)
		for i := range 3 {
			go func() { done <- l.Wait(t.Context(), Call{Method: MethodUpdate, Turn: Turn{Priority: i}}) }()
			// Past the local bucket, into the shared line.
			time.Sleep(time.Millisecond)
		}
		m.mu.Lock()
		m.fail = errors.New("connection reset")
		close(m.block)
		m.mu.Unlock()
		for range 3 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if got := testutil.ToFloat64(l.shared.Load().errors); got != 1 {
			t.Errorf("errors = %v, want 1: one caller asked, the others left with its answer", got)
		}
	})
}

// TestTakeSharedWithoutShare checks that TakeShared asks nothing of a
// limiter that shares no limits.
func TestTakeSharedWithoutShare(t *testing.T) {
	l := NewLimiter(Limits{}, nil)
	if err := l.TakeShared(t.Context(), ChannelScope("C1")); err != nil {
		t.Fatal(err)
	}
}
