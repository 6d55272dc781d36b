package sender

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestCriticalWaitsOneWorkspaceSlot queues warnings in many channels on a
// tight workspace limit, then sends a critical alert to another channel:
// the channels' own limits hold nobody back, so only the workspace's order
// decides, and the critical alert must take the next workspace slot.
func TestCriticalWaitsOneWorkspaceSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 61 a minute is one send slot a second (see slackapi's perMinute).
		const perMinute, slot = 61, time.Second
		h := newHarness(t, slackfake.SlackRateLimits(), limits{Limits: slackapi.Limits{WorkspacePerMinute: perMinute}}, RouteOptions{})
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
