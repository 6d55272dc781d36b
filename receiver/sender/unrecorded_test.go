package sender

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// stallingStore fails the first write that records a group's first
// message, as a store that stalls past its timeout does just after Slack
// took the post.
type stallingStore struct {
	alertgroup.Store
	mu     sync.Mutex
	failed bool
}

func (s *stallingStore) Update(ctx context.Context, key alertgroup.Key, fn func(*alertgroup.Group, bool) error) (alertgroup.Group, error) {
	g, found, err := s.Store.Get(ctx, key)
	if err != nil {
		return g, err
	}
	scratch := g
	if err := fn(&scratch, found); err == nil && g.TS == "" && scratch.TS != "" {
		s.mu.Lock()
		first := !s.failed
		s.failed = true
		s.mu.Unlock()
		if first {
			return alertgroup.Group{}, errors.New("i/o timeout")
		}
	}
	return s.Store.Update(ctx, key, fn)
}

// TestUnrecordedPostIsNotPostedAgain: Slack takes a group's first message
// and the store fails to record it. The retry updates that message rather
// than post a second one, and the store then knows it.
func TestUnrecordedPostIsNotPostedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{ThreadReplies: true})
		h.stop()
		st := &stallingStore{Store: h.store}
		s := New(Options{
			Outbox: h.outbox, Store: st, Slack: h.sender.slack,
			Routes: h.sender.routes, Controls: testControls, Registerer: prometheus.NewRegistry(),
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		defer func() { cancel(); <-done }()

		const ch = "C0STALLED1"
		n := notification("G", ch, "firing", "warning", "a")
		h.enqueue(t, n)
		h.settle(t, time.Minute)

		ms := h.fake.Messages(ch)
		if len(ms) != 1 {
			t.Fatalf("%d messages, want the one, updated by the retry", len(ms))
		}
		if !st.failed {
			t.Fatal("the store never failed the record")
		}
		g, found, err := h.store.Get(context.Background(), n.Key)
		if err != nil || !found || g.TS != ms[0].TS {
			t.Errorf("stored group TS %q (found %v, err %v), want the message's %q", g.TS, found, err, ms[0].TS)
		}
		if len(s.unrecorded) != 0 {
			t.Errorf("%d unrecorded messages kept after the record succeeded", len(s.unrecorded))
		}
	})
}
