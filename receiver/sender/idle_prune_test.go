package sender

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestIdleChannelsAreForgotten sends to 150 channels that do not exist: once
// their entries are dead-lettered and their limits idle, the sender keeps no
// state for them.
func TestIdleChannelsAreForgotten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{})
		const real = "C0REAL0001"
		h.fake.SetChannels(real)
		const junk = 150
		for i := range junk {
			h.enqueue(t, notification(fmt.Sprintf("Junk%03d", i), fmt.Sprintf("C0JUNK%04d", i), "firing", "warning", "j"))
		}
		h.enqueue(t, notification("Real", real, "firing", "warning", "r"))
		h.settle(t, 5*time.Minute)
		dead, err := h.outbox.DeadLetters(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != junk {
			t.Fatalf("%d dead letters, want %d", len(dead), junk)
		}

		time.Sleep(idleAfter + pruneEvery)
		synctest.Wait()
		s := h.sender
		slots, pauses := s.limiter.Held()
		s.mu.Lock()
		defer s.mu.Unlock()
		if n := slots + pauses + len(s.failing) + len(s.workers); n != 0 {
			t.Errorf("after the channels idled, the sender holds %d limiters, %d pauses, %d backoffs and %d workers; want none",
				slots, pauses, len(s.failing), len(s.workers))
		}
	})
}
