package sender

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

const (
	refusingChannel = "C0REFUSE01"
	fallbackChannel = "C0FALLBACK"
)

// TestFallbackChannel checks that a notification Slack refuses for good in
// the route's channel is posted to the route's fallback channel under a
// line naming the channel and the refusal, while the dead letter keeps the
// notification for the route's channel.
func TestFallbackChannel(t *testing.T) {
	tests := []struct {
		name string
		// refuse makes the fake refuse the route's channel.
		refuse func(*slackfake.Server)
		// postFirst posts the group before the refusal, so that what is
		// refused is the update of its message.
		postFirst  bool
		code       string
		reason     string
		textOnly   bool
		wantBlocks bool
	}{
		{
			name:   "archived channel",
			refuse: func(f *slackfake.Server) { f.Archive(refusingChannel) },
			code:   "is_archived", reason: "is_archived",
		},
		{
			name:      "channel archived after the first post",
			refuse:    func(f *slackfake.Server) { f.Archive(refusingChannel) },
			postFirst: true,
			code:      "is_archived", reason: "is_archived",
		},
		{
			name:   "unknown channel",
			refuse: func(f *slackfake.Server) { f.SetChannels(fallbackChannel) },
			code:   "channel_not_found", reason: "channel_not_found",
		},
		{
			name:   "bot not in the channel",
			refuse: func(f *slackfake.Server) { f.FailNext("chat.postMessage", 1, http.StatusOK, "not_in_channel") },
			code:   "not_in_channel", reason: "not_in_channel",
		},
		{
			// Both the full and the minimal rendering are refused: the
			// fallback carries the message's text alone.
			name:   "blocks refused after the minimal rendering",
			refuse: func(f *slackfake.Server) { f.FailNext("chat.postMessage", 2, http.StatusOK, "invalid_blocks") },
			code:   "invalid_blocks", reason: "invalid_blocks", textOnly: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{ThreadReplies: true, FallbackChannel: fallbackChannel})
				n := notification("DiskFull", refusingChannel, "firing", "critical", "a")
				if tt.postFirst {
					h.enqueue(t, n)
					h.settle(t, time.Minute)
					n = notification("DiskFull", refusingChannel, "firing", "critical", "a", "b")
				}
				tt.refuse(h.fake)
				h.enqueue(t, n)
				h.settle(t, time.Minute)

				msgs := h.fake.Messages(fallbackChannel)
				if len(msgs) != 1 {
					t.Fatalf("%d messages in the fallback channel, want 1", len(msgs))
				}
				m := msgs[0]
				cause := "⚠️ Posted here because <#" + refusingChannel + "> refused it: " + tt.code
				if !strings.HasPrefix(m.Text, cause+"\n") || !strings.Contains(m.Text, "DiskFull") {
					t.Errorf("fallback text = %q, want the line %q, then the message", m.Text, cause)
				}
				switch {
				case tt.textOnly && len(m.Blocks) > 0:
					t.Errorf("fallback blocks = %s, want none after Slack refused the minimal rendering's", m.Blocks)
				case !tt.textOnly:
					// slack-go escapes < and > in the blocks' JSON.
					if !strings.Contains(string(m.Blocks), "refused it: "+tt.code) || !strings.Contains(m.HeaderText(), "DiskFull") {
						t.Errorf("fallback blocks %s lack the cause line or the group's header", m.Blocks)
					}
				}
				// Clicks on the fallback message could not find the group,
				// which Slack knows by the route's channel and message.
				if ids := m.ActionIDs(); len(ids) > 0 {
					t.Errorf("fallback message has controls %q, want none", ids)
				}

				dead, err := h.outbox.DeadLetters(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(dead) != 1 {
					t.Fatalf("%d dead letters, want 1", len(dead))
				}
				d := dead[0]
				if got := d.Entry.Notification.Key.Channel; got != refusingChannel || !strings.Contains(d.Cause, tt.code) {
					t.Errorf("dead letter for %s with cause %q, want the original for %s naming %s", got, d.Cause, refusingChannel, tt.code)
				}
				if got := len(d.Entry.Notification.Message.Data.Alerts); got != len(n.Message.Data.Alerts) {
					t.Errorf("dead letter holds %d alerts, want the notification's %d", got, len(n.Message.Data.Alerts))
				}
				if got := testutil.ToFloat64(h.sender.fallbacks.WithLabelValues("default", tt.reason)); got != 1 {
					t.Errorf("amslack_fallbacks_total{route=default,reason=%s} = %v, want 1", tt.reason, got)
				}
				if v := h.fake.Violations(); len(v) > 0 {
					t.Errorf("rate-limit violations: %+v", v)
				}
			})
		})
	}
}

// TestNoFallbackChannel checks that without a fallback channel a refused
// notification is dead-lettered and posted nowhere.
func TestNoFallbackChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{ThreadReplies: true})
		h.fake.Archive(refusingChannel)
		h.enqueue(t, notification("DiskFull", refusingChannel, "firing", "critical", "a"))
		h.settle(t, time.Minute)
		if chs := h.fake.Channels(); len(chs) > 0 {
			t.Errorf("messages posted to %q, want none", chs)
		}
		dead, err := h.outbox.DeadLetters(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || !strings.Contains(dead[0].Cause, "is_archived") {
			t.Errorf("dead letters %+v, want one naming is_archived", dead)
		}
		if n := testutil.CollectAndCount(h.sender.fallbacks); n != 0 {
			t.Errorf("%d fallback series, want none", n)
		}
	})
}

// TestFallbackChannelRefusesToo checks that when the fallback channel
// refuses as well, the notification is dead-lettered as without one, and
// the log names both refusals.
func TestFallbackChannelRefusesToo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{FallbackChannel: fallbackChannel})
		var logs bytes.Buffer
		h.sender.logger = slog.New(slog.NewTextHandler(&logs, nil))
		h.fake.Archive(refusingChannel)
		h.fake.SetChannels(refusingChannel)
		h.enqueue(t, notification("DiskFull", refusingChannel, "firing", "critical", "a"))
		h.settle(t, time.Minute)
		if chs := h.fake.Channels(); len(chs) > 0 {
			t.Errorf("messages posted to %q, want none", chs)
		}
		dead, err := h.outbox.DeadLetters(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || !strings.Contains(dead[0].Cause, "is_archived") {
			t.Errorf("dead letters %+v, want one naming is_archived", dead)
		}
		if got := testutil.ToFloat64(h.sender.fallbacks.WithLabelValues("default", "is_archived")); got != 0 {
			t.Errorf("amslack_fallbacks_total = %v, want 0", got)
		}
		if got := testutil.ToFloat64(h.sender.fallbackFailures.WithLabelValues("default")); got != 1 {
			t.Errorf("amslack_fallback_failures_total = %v, want 1", got)
		}
		var line string
		for l := range strings.Lines(logs.String()) {
			if strings.Contains(l, "fallback_code=channel_not_found") {
				line = l
			}
		}
		if !strings.Contains(line, "code=is_archived") || !strings.Contains(line, "fallback_channel="+fallbackChannel) {
			t.Errorf("no log line names both refusals and the fallback channel:\n%s", logs.String())
		}
	})
}
