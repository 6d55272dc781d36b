package slackfake

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

// newSlackGo starts the fake behind a real HTTP server and returns a slack-go
// client pointed at it, as amslack's configuration would.
func newSlackGo(t *testing.T, opts Options) (*Server, *slack.Client, *httptest.Server) {
	t.Helper()
	s := New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	api := slack.New(testToken, slack.OptionAPIURL(s.APIURL(srv.URL)), slack.OptionHTTPClient(srv.Client()))
	return s, api, srv
}

func alertBlocks(title string) slack.MsgOption {
	return slack.MsgOptionBlocks(
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, title, false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*db-1* disk 97%", false, false), nil, nil),
		slack.NewActionBlock("actions",
			slack.NewButtonBlockElement("ack", "REF", slack.NewTextBlockObject(slack.PlainTextType, "Acknowledge", false, false)),
		),
	)
}

func TestSlackGo(t *testing.T) {
	s, api, srv := newSlackGo(t, Options{Token: testToken, Now: fixedClock})
	ctx := t.Context()
	s.SetUser(User{ID: "U1", Name: "alice", RealName: "Alice"})
	s.SetUserGroup("S1", []string{"U1"})

	auth, err := api.AuthTestContext(ctx)
	if err != nil || auth.BotID != BotID || auth.UserID != BotUserID {
		t.Fatalf("AuthTest = %+v, %v", auth, err)
	}

	ch, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("DiskFull firing", false), alertBlocks("DiskFull firing"))
	if err != nil || ch != "C1" || ts != ts0 {
		t.Fatalf("PostMessage = %q, %q, %v", ch, ts, err)
	}
	_, replyTS, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("2 new alerts", false), slack.MsgOptionTS(ts))
	if err != nil {
		t.Fatalf("PostMessage reply: %v", err)
	}
	ch, uts, text, err := api.UpdateMessageContext(ctx, "C1", ts,
		slack.MsgOptionText("DiskFull resolved", false), alertBlocks("DiskFull resolved"))
	if err != nil || ch != "C1" || uts != ts || text != "DiskFull resolved" {
		t.Fatalf("UpdateMessage = %q, %q, %q, %v", ch, uts, text, err)
	}
	ets, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("You acked it", false))
	if err != nil || ets == "" {
		t.Fatalf("PostEphemeral = %q, %v", ets, err)
	}
	members, err := api.GetUserGroupMembersContext(ctx, "S1")
	if err != nil || !cmp.Equal(members, []string{"U1"}) {
		t.Errorf("GetUserGroupMembers = %v, %v", members, err)
	}
	user, err := api.GetUserInfoContext(ctx, "U1")
	if err != nil || user.Name != "alice" || user.RealName != "Alice" {
		t.Errorf("GetUserInfo = %+v, %v", user, err)
	}
	link, err := api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: "C1", Ts: ts})
	if err != nil || !strings.HasSuffix(link, "/archives/C1/p1764425522000100") {
		t.Errorf("GetPermalink = %q, %v", link, err)
	}
	view, err := api.OpenViewContext(ctx, s.NewTriggerID(), slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  slack.NewTextBlockObject(slack.PlainTextType, "Silence", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}},
	})
	if err != nil || view.ID == "" {
		t.Errorf("OpenView = %+v, %v", view, err)
	}

	respURL := s.NewResponseURL(srv.URL, "C1", "U1", ts)
	if _, _, err := api.PostMessageContext(ctx, "", slack.MsgOptionReplaceOriginal(respURL),
		slack.MsgOptionText("Acked by alice", false)); err != nil {
		t.Errorf("response_url replace_original: %v", err)
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, s.WebhookURL(srv.URL, "C2"), srv.Client(),
		&slack.WebhookMessage{Text: "via webhook"}); err != nil {
		t.Errorf("PostWebhook: %v", err)
	}

	msgs := s.Messages("C1")
	if len(msgs) != 1 {
		t.Fatalf("messages in C1 = %d, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Text != "Acked by alice" || m.Edits != 2 || m.History[1].HeaderText() != "DiskFull resolved" {
		t.Errorf("message = %+v", m)
	}
	if len(m.Replies) != 1 || m.Replies[0].TS != replyTS {
		t.Errorf("replies = %+v", m.Replies)
	}
	if diff := cmp.Diff(m.History[0].ActionIDs(), []string{"ack"}); diff != "" {
		t.Errorf("action ids (-got +want):\n%s", diff)
	}
	if got := s.Messages("C2"); len(got) != 1 || got[0].Text != "via webhook" {
		t.Errorf("webhook messages = %+v", got)
	}
}

func TestSlackGoErrors(t *testing.T) {
	s, api, srv := newSlackGo(t, Options{Token: testToken, Now: fixedClock, ChannelPerSecond: 0.5})
	ctx := t.Context()
	s.SetChannels("C1", "C2")

	_, _, err := api.PostMessageContext(ctx, "C9", slack.MsgOptionText("x", false))
	var slackErr slack.SlackErrorResponse
	if !errors.As(err, &slackErr) || slackErr.Err != "channel_not_found" {
		t.Errorf("unknown channel: %v", err)
	}

	long := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Repeat("x", 3001), false, false), nil, nil)
	_, _, err = api.PostMessageContext(ctx, "C2", slack.MsgOptionBlocks(long))
	if !errors.As(err, &slackErr) || slackErr.Err != "invalid_blocks" || len(slackErr.Errors) != 1 ||
		slackErr.Errors[0].Message == nil ||
		*slackErr.Errors[0].Message != "must be less than 3001 characters [json-pointer:/blocks/0/text/text]" {
		t.Errorf("long section: %#v", err)
	}

	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("first", false)); err != nil {
		t.Fatalf("first post: %v", err)
	}
	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("second", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Errorf("second post within the channel limit: %#v, want RateLimitedError after 2s", err)
	}

	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(s.APIURL(srv.URL)), slack.OptionHTTPClient(srv.Client()))
	_, _, err = bad.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
	if !errors.As(err, &slackErr) || slackErr.Err != "invalid_auth" {
		t.Errorf("wrong token: %v", err)
	}
}
