package sender

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
	"github.com/amslack/amslack/render"
)

// TestMentionOnlyOnFirstPost checks that the route's mention, which calls
// people to a new alert group, is in the group's first message only: not in
// its updates, not in thread replies, and not in a message posted again in
// place of a deleted one.
func TestMentionOnlyOnFirstPost(t *testing.T) {
	const mention = "<!here>"
	ro := RouteOptions{ThreadReplies: true, Render: render.Options{Mentions: map[string]string{"critical": mention}}}
	// The blocks are JSON as slack-go sends it, with < and > escaped.
	hasMention := func(m slackfake.Message) bool {
		return strings.Contains(string(m.Blocks), "!here") || strings.Contains(m.Text, mention)
	}
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, ro)
		const ch = "C0MENTION1"
		h.enqueue(t, notification("G", ch, "firing", "critical", "a"))
		h.settle(t, time.Minute)
		msgs := h.fake.Messages(ch)
		if len(msgs) != 1 || !hasMention(msgs[0]) {
			t.Fatalf("first post %q: want one message with the mention", headers(msgs))
		}

		// A new alert joins the group: the message is updated, with a
		// thread reply, and neither calls people again.
		h.enqueue(t, notification("G", ch, "firing", "critical", "a", "b"))
		h.settle(t, time.Minute)
		m, _ := h.fake.Message(ch, msgs[0].TS)
		if m.Edits != 1 || len(m.Replies) != 1 {
			t.Fatalf("after a new alert: %d edits, %d replies; want 1 and 1", m.Edits, len(m.Replies))
		}
		if hasMention(m) {
			t.Errorf("updated message still mentions: %s", m.Blocks)
		}
		if hasMention(m.Replies[0]) {
			t.Errorf("thread reply mentions: %q", m.Replies[0].Text)
		}

		// The message was deleted: the group gets a new one, which is an
		// update of what people have seen, without the mention.
		h.fake.FailNext("chat.update", 1, 200, "message_not_found")
		h.enqueue(t, notification("G", ch, "firing", "critical", "a", "b", "c"))
		h.settle(t, time.Minute)
		msgs = h.fake.Messages(ch)
		if len(msgs) != 2 {
			t.Fatalf("messages %q, want the group posted again", headers(msgs))
		}
		if hasMention(msgs[1]) {
			t.Errorf("message posted again mentions: %s", msgs[1].Blocks)
		}

		// The group resolves and fires again: a new incident, a new first
		// post with the mention.
		h.enqueue(t, notification("G", ch, "resolved", "critical", "a:resolved", "b:resolved", "c:resolved"))
		h.settle(t, time.Minute)
		time.Sleep(time.Minute)
		h.enqueue(t, notification("G", ch, "firing", "critical", "a"))
		h.settle(t, time.Minute)
		msgs = h.fake.Messages(ch)
		if len(msgs) != 3 || !hasMention(msgs[2]) {
			t.Errorf("messages %q: want a third, mentioning, for the group firing again", headers(msgs))
		}
	})
}

// TestMentionDroppedWhenHandled checks that a refresh after someone
// acknowledged the group shows it handled and calls nobody.
func TestMentionDroppedWhenHandled(t *testing.T) {
	ro := RouteOptions{Render: render.Options{Mentions: map[string]string{"critical": "<!here>"}}}
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, slackfake.SlackRateLimits(), limits{}, ro)
		const ch = "C0MENTION2"
		n := notification("G", ch, "firing", "critical", "a")
		h.enqueue(t, n)
		h.settle(t, time.Minute)
		ts := h.fake.Messages(ch)[0].TS
		if _, err := h.store.Update(context.Background(), n.Key, func(g *alertgroup.Group, _ bool) error {
			g.State.Acked = &alertgroup.Mark{By: alertgroup.User{ID: "U0ALICE001", Name: "alice"}, At: time.Now()}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := h.outbox.Refresh(context.Background(), n.Key, "default"); err != nil {
			t.Fatal(err)
		}
		h.settle(t, time.Minute)
		m, _ := h.fake.Message(ch, ts)
		if m.Edits != 1 || strings.Contains(string(m.Blocks), "!here") {
			t.Errorf("after the ack: %d edits, blocks %s; want one edit without the mention", m.Edits, m.Blocks)
		}
		if got, want := m.HeaderText(), "👀 G — alice is on it"; got != want {
			t.Errorf("header = %q, want %q", got, want)
		}
	})
}
