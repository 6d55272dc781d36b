package sender

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestCriticalWaitsOneWorkspaceSlot queues warnings in many channels on a
// tight workspace limit, then sends a critical alert to another channel:
// the channels' own limits hold nobody back, so only the workspace's order
// decides, and the critical alert must take the next workspace slot.
func TestCriticalWaitsOneWorkspaceSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 61 a minute is one send slot a second (see perMinute).
		const perMinute, slot = 61, time.Second
		h := newHarness(t, slackfake.SlackRateLimits(), Limits{WorkspacePerMinute: perMinute}, RouteOptions{})
		const warnings = 120
		for i := range warnings {
			h.enqueue(t, notification(fmt.Sprintf("Warn%03d", i), fmt.Sprintf("C0WARN%04d", i), "firing", "warning", "w"))
		}
		// Let every warning's worker line up at the workspace limit, and a
		// few warnings go out.
		time.Sleep(5 * time.Second)
		synctest.Wait()

		const crit = "C0CRIT0001"
		enqueued := time.Now()
		h.enqueue(t, notification("Crit", crit, "firing", "critical", "c"))
		deadline := enqueued.Add(5 * time.Minute)
		for len(h.fake.Messages(crit)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the critical alert was not posted within %s", deadline.Sub(enqueued))
			}
			time.Sleep(10 * time.Millisecond)
			synctest.Wait()
		}
		posted := h.fake.Messages(crit)[0].Posted
		if waited := posted.Sub(enqueued); waited > slot {
			warned := 0
			for _, r := range h.fake.Requests() {
				if r.Method == "chat.postMessage" && r.Time.After(enqueued) && r.Time.Before(posted) {
					warned++
				}
			}
			t.Errorf("the critical alert was posted %s after it was enqueued, behind %d warnings; want within one workspace slot (%s)", waited, warned, slot)
		}

		h.settle(t, 5*time.Minute)
		for i := range warnings {
			if n := len(h.fake.Messages(fmt.Sprintf("C0WARN%04d", i))); n != 1 {
				t.Errorf("warning %d: %d messages, want 1", i, n)
			}
		}
		if v := h.fake.Violations(); len(v) != 0 {
			t.Errorf("rate-limit violations: %+v", v)
		}
	})
}

func TestAdmission(t *testing.T) {
	t.Run("most urgent first, one token a slot", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := newAdmission(rate.NewLimiter(1, 1))
			if err := a.wait(t.Context(), turn{priority: 9}); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			old := start.Add(-time.Hour)
			type grant struct {
				name string
				at   time.Duration
			}
			grants := make(chan grant, 4)
			for _, w := range []struct {
				name string
				turn turn
			}{
				{"info", turn{priority: 3, since: old}},
				{"warning-new", turn{priority: 2, since: start}},
				{"warning-old", turn{priority: 2, since: old}},
				{"critical", turn{priority: 0, since: start}},
			} {
				go func() {
					if err := a.wait(t.Context(), w.turn); err != nil {
						t.Error(err)
					}
					grants <- grant{w.name, time.Since(start)}
				}()
				synctest.Wait()
			}
			var got []grant
			for range 4 {
				got = append(got, <-grants)
			}
			want := []grant{{"critical", time.Second}, {"warning-old", 2 * time.Second}, {"warning-new", 3 * time.Second}, {"info", 4 * time.Second}}
			if diff := cmp.Diff(got, want, cmp.AllowUnexported(grant{})); diff != "" {
				t.Errorf("grants (-got +want):\n%s", diff)
			}
		})
	})

	t.Run("a waiter that gives up returns its token", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := newAdmission(rate.NewLimiter(1, 1))
			if err := a.wait(t.Context(), turn{}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error)
			go func() { done <- a.wait(ctx, turn{}) }()
			time.Sleep(500 * time.Millisecond)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("wait = %v, want %v", err, context.Canceled)
			}
			// The token held for the waiter went back to the bucket: the
			// next caller gets it when it comes due, half a second on,
			// rather than the one after it.
			start := time.Now()
			if err := a.wait(t.Context(), turn{}); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d != 500*time.Millisecond {
				t.Errorf("next caller waited %s, want 500ms", d)
			}
		})
	})
}
