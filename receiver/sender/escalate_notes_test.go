package sender

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
	"github.com/amslack/amslack/render"
)

// TestUrgentNotes checks that an urgent note (an escalation) goes to the
// thread also on a route whose thread replies are off, where other notes do
// not, and that one marked for broadcast is sent with reply_broadcast.
func TestUrgentNotes(t *testing.T) {
	for _, tc := range []struct {
		name          string
		threadReplies bool
		notes         []string
		// want is the text of the one thread reply, "" for none.
		want      string
		broadcast bool
	}{
		{"plain note, replies off", false, []string{"👀 Acknowledged by <@U0ALICE001>"}, "", false},
		{"urgent note, replies off", false, []string{"👀 Acknowledged by <@U0ALICE001>", render.UrgentNote("📣 Escalated to <!subteam^S0ONCALL>", false)}, "📣 Escalated to <!subteam^S0ONCALL>", false},
		{"broadcast note", true, []string{render.UrgentNote("📣 Escalated to <@U0LEAD>", true)}, "📣 Escalated to <@U0LEAD>", true},
		{"plain note, replies on", true, []string{"👀 Acknowledged by <@U0ALICE001>"}, "👀 Acknowledged by <@U0ALICE001>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{ThreadReplies: tc.threadReplies})
				const ch = "C0ESCALATE"
				n := notification("G", ch, "firing", "critical", "a")
				h.enqueue(t, n)
				h.settle(t, time.Minute)
				ts := h.fake.Messages(ch)[0].TS
				if err := h.outbox.Refresh(context.Background(), n.Key, "default", tc.notes...); err != nil {
					t.Fatal(err)
				}
				h.settle(t, time.Minute)
				m, _ := h.fake.Message(ch, ts)
				switch {
				case tc.want == "" && len(m.Replies) != 0:
					t.Errorf("thread replies = %+v, want none", m.Replies)
				case tc.want == "":
				case len(m.Replies) != 1 || m.Replies[0].Text != tc.want || m.Replies[0].Broadcast != tc.broadcast:
					t.Errorf("thread replies = %+v, want one %q with broadcast %v", m.Replies, tc.want, tc.broadcast)
				}
			})
		})
	}
}

// TestUrgentNotesReplyOneEach: two escalation steps due in one pass, with
// what people did, become three replies: the change, then each step on its
// own, broadcast only where its step asks.
func TestUrgentNotesReplyOneEach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, RouteOptions{ThreadReplies: true})
		const ch = "C0ESCALATE"
		n := notification("G", ch, "firing", "critical", "a")
		h.enqueue(t, n)
		h.settle(t, time.Minute)
		ts := h.fake.Messages(ch)[0].TS
		notes := []string{
			render.UrgentNote("📣 Escalated to <@U0CAROL01>", false),
			"👀 Acknowledged by <@U0ALICE001>",
			render.UrgentNote("📣 Escalated to <!subteam^S0ONCALL>", true),
		}
		if err := h.outbox.Refresh(context.Background(), n.Key, "default", notes...); err != nil {
			t.Fatal(err)
		}
		h.settle(t, time.Minute)
		m, _ := h.fake.Message(ch, ts)
		type reply struct {
			text      string
			broadcast bool
		}
		var got []reply
		for _, r := range m.Replies {
			got = append(got, reply{r.Text, r.Broadcast})
		}
		want := []reply{
			{"👀 Acknowledged by <@U0ALICE001>", false},
			{"📣 Escalated to <@U0CAROL01>", false},
			{"📣 Escalated to <!subteam^S0ONCALL>", true},
		}
		if len(got) != len(want) {
			t.Fatalf("thread replies = %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("reply %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}
