package slackapi

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Turn is a call's place in line for a limit shared by channels: lower
// Priority first (the sender uses the outbox entry's, which ranks severity,
// then new messages before updates), then the earlier Since (the entry that
// has waited longer), then the call that came first.
type Turn struct {
	Priority int
	Since    time.Time
}

// admission hands out the tokens of a token bucket that all channels share
// (the workspace's, a method's) to the most urgent caller waiting when each
// token comes due, rather than in arrival order as rate.Limiter.Wait does:
// a critical alert arriving behind warnings for a hundred other channels
// waits for one token, not for theirs. The bucket does the accounting, so
// the calls never exceed its rate.
//
// While anyone waits, admission holds a reservation for the next token and
// a timer for when it comes due. The timer's function gives that token to
// the first in line and reserves the next, so the reservation always
// belongs to the slot, never to a caller that might be overtaken.
type admission struct {
	lim *rate.Limiter

	// mu guards every field below.
	mu      sync.Mutex
	waiters waiterHeap
	// slot is the reservation of the next token and timer its due time;
	// slot is nil when nobody waits.
	slot  *rate.Reservation
	timer *time.Timer
	// seq numbers the waiters in arrival order.
	seq uint64
}

func newAdmission(lim *rate.Limiter) *admission { return &admission{lim: lim} }

// wait blocks until the caller may make one call, or ctx ends.
func (a *admission) wait(ctx context.Context, t Turn) error {
	a.mu.Lock()
	if a.slot == nil {
		// Nobody waits: a token available now is the caller's.
		r := a.lim.Reserve()
		d := r.Delay()
		if d == 0 {
			a.mu.Unlock()
			return nil
		}
		a.hold(r, d)
	}
	a.seq++
	w := &waiter{Turn: t, seq: a.seq, ready: make(chan struct{})}
	heap.Push(&a.waiters, w)
	a.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.granted {
		// The token came as ctx ended: it is the next waiter's.
		a.handOut()
		return ctx.Err()
	}
	heap.Remove(&a.waiters, w.i)
	if len(a.waiters) == 0 && a.timer.Stop() {
		// Nobody is left for the token: give it back to the bucket.
		a.slot.Cancel()
		a.slot, a.timer = nil, nil
	}
	return ctx.Err()
}

// hold keeps r, due in d, for whoever is first in line then. a.mu must be
// held.
func (a *admission) hold(r *rate.Reservation, d time.Duration) {
	a.slot = r
	a.timer = time.AfterFunc(d, a.due)
}

// due runs when the held token comes due.
func (a *admission) due() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.slot, a.timer = nil, nil
	a.handOut()
}

// handOut gives a token that is due to the first waiter, and holds the next
// token if others wait. With nobody waiting the token goes unused: that
// happens only when the last waiter's ctx ended as the token came due.
// a.mu must be held.
func (a *admission) handOut() {
	if len(a.waiters) == 0 {
		return
	}
	w := heap.Pop(&a.waiters).(*waiter)
	w.granted = true
	close(w.ready)
	if len(a.waiters) > 0 && a.slot == nil {
		r := a.lim.Reserve()
		a.hold(r, r.Delay())
	}
}

// waiter is a caller waiting in an admission.
type waiter struct {
	Turn
	seq uint64
	// ready is closed when the waiter is given a token; granted says so
	// under the admission's mu.
	ready   chan struct{}
	granted bool
	// poll, set with granted by a sharedQueue, makes the waiter the one
	// that asks the shared limits for the next token instead of giving it
	// one; err, set with granted, is the failure of the shared limits that
	// it waited on.
	poll bool
	err  error
	// i is the waiter's index in the heap.
	i int
}

// waiterHeap is a container/heap of waiters, first in line first.
type waiterHeap []*waiter

func (h waiterHeap) Len() int { return len(h) }

func (h waiterHeap) Less(i, j int) bool { return before(h[i], h[j]) }

// before reports whether a is ahead of b in line.
func before(a, b *waiter) bool {
	if a.Priority != b.Priority {
		return a.Priority < b.Priority
	}
	if !a.Since.Equal(b.Since) {
		return a.Since.Before(b.Since)
	}
	return a.seq < b.seq
}

func (h waiterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].i = i
	h[j].i = j
}

func (h *waiterHeap) Push(x any) {
	w := x.(*waiter)
	w.i = len(*h)
	*h = append(*h, w)
}

func (h *waiterHeap) Pop() any {
	old := *h
	n := len(old) - 1
	w := old[n]
	old[n] = nil
	*h = old[:n]
	w.i = -1
	return w
}
