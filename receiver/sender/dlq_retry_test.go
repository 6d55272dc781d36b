package sender

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestRetriedDeadLetterStartsANewAge retries a dead letter a day after its
// notification arrived, longer than the sender retries an entry: Slack's
// first answer is a 429, which the retry must wait out rather than be
// dead-lettered again for its age.
func TestRetriedDeadLetterStartsANewAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{maxAge: time.Hour}, RouteOptions{})
		const ch = "C0RETRY001"
		h.fake.FailNext("chat.postMessage", 1, http.StatusOK, "not_in_channel")
		h.enqueue(t, notification("G", ch, "firing", "critical", "a"))
		h.settle(t, time.Minute)
		dead, err := h.outbox.DeadLetters(context.Background())
		if err != nil || len(dead) != 1 {
			t.Fatalf("dead letters = %v, %v; want one", dead, err)
		}

		// A day later the bot is in the channel, and an operator retries.
		time.Sleep(24 * time.Hour)
		h.fake.FailNext("chat.postMessage", 1, http.StatusTooManyRequests, "")
		if err := h.outbox.RetryDead(context.Background(), dead[0].ID); err != nil {
			t.Fatal(err)
		}
		h.settle(t, 5*time.Minute)
		if n := len(h.fake.Messages(ch)); n != 1 {
			t.Errorf("%d messages after the retry, want 1", n)
		}
		dead, err = h.outbox.DeadLetters(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dead {
			t.Errorf("the retried entry was dead-lettered again after %d attempts and %d retries: %s", d.Entry.Attempts, d.Entry.Retries, d.Cause)
		}
	})
}
