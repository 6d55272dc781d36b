package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/render"
)

// Reasons for posting to a route's fallback channel, the values of the
// reason label.
const (
	reasonNotFound   = "channel_not_found"
	reasonArchived   = "is_archived"
	reasonNotMember  = "not_in_channel"
	reasonBadMessage = "invalid_blocks"
)

// fallbackReasons maps the Slack errors after which a notification goes to
// the route's fallback channel to their reason. They are errors of
// chat.postMessage and chat.update (docs.slack.dev, each method's error
// table) that say the channel will not take the message however often it is
// sent: it does not exist or the bot cannot see it, it is archived, the bot
// is not a member. The shape errors count only once the minimal rendering
// was refused too, which makes them Permanent (see shrinking).
var fallbackReasons = map[string]string{
	"channel_not_found":     reasonNotFound,
	"is_archived":           reasonArchived,
	"channel_is_archived":   reasonArchived,
	"not_in_channel":        reasonNotMember,
	"invalid_blocks":        reasonBadMessage,
	"invalid_blocks_format": reasonBadMessage,
	"msg_blocks_too_long":   reasonBadMessage,
	"msg_too_long":          reasonBadMessage,
	"invalid_payload":       reasonBadMessage,
	"no_text":               reasonBadMessage,
}

// fallBack posts d's notification to its route's fallback channel when err
// says Slack refused the route's channel for good, under a line naming the
// channel and the refusal. The entry is dead-lettered for the route's
// channel all the same, so that it can be retried there once the channel
// is fixed; a refusal by the fallback channel is logged and counted, and
// changes nothing else. Only notifications fall back: a refresh re-renders a
// message that people already saw in the route's channel.
//
// The post waits for the fallback channel's slot and takes the entry's turn
// at the limits that all channels share, as every post does. fallBack
// returns ctx's error if ctx ends while it waits; then the entry should stay
// pending, to be delivered again after the restart.
func (s *Sender) fallBack(ctx context.Context, d delivery, err error, logger *slog.Logger) error {
	n, fb := d.e.Notification, d.ro.FallbackChannel
	f, ok := errors.AsType[*slackapi.Failure](err)
	if !ok || f.Class != slackapi.Permanent || fb == "" || fb == n.Key.Channel ||
		n.Key.IsWebhook() || d.e.Kind != outbox.KindNotify {
		return nil
	}
	reason, ok := fallbackReasons[f.Code]
	if !ok {
		return nil
	}
	// <#C…> is how Slack's mrkdwn and plain text link a channel
	// (https://docs.slack.dev/messaging/formatting-message-text).
	cause := fmt.Sprintf("⚠️ Posted here because <#%s> refused it: %s", n.Key.Channel, f.Code)
	// Controls would act on a message that the store does not know: Slack
	// sends a click with the fallback message's channel and ts.
	in := d.in
	in.Controls = nil
	in.Options.Actions = nil
	dest := slackapi.ChannelScope(fb)
	lim := s.limiter.Slot(dest)
	var ts string
	var ferr error
	if reason == reasonBadMessage {
		// Slack refused the minimal rendering's blocks in the route's
		// channel; the same blocks would be refused here. Text alone goes.
		if ferr = s.waitSlot(ctx, lim, dest); ferr == nil {
			ts, ferr = s.slack.Post(ctx, d.t, fb, slack.MsgOptionText(cause+"\n"+render.Minimal(in).Text, false))
		}
	} else {
		ferr = s.shrinking(in, func(m render.Message) error {
			if err := s.waitSlot(ctx, lim, dest); err != nil {
				return err
			}
			line := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, cause, false, false), nil, nil)
			blocks := append([]slack.Block{line}, m.Blocks.BlockSet...)
			var err error
			ts, err = s.slack.Post(ctx, d.t, fb, slack.MsgOptionText(cause+"\n"+m.Text, false), slack.MsgOptionBlocks(blocks...))
			return err
		})
	}
	if ferr == nil {
		s.fallbacks.WithLabelValues(n.Route, reason).Inc()
		logger.Warn("Slack refused the route's channel; posted the notification to the fallback channel",
			"route", n.Route, "code", f.Code, "fallback_channel", fb, "fallback_ts", ts)
		return nil
	}
	ff, ok := errors.AsType[*slackapi.Failure](ferr)
	if !ok && ctx.Err() != nil {
		return ctx.Err()
	}
	if !ok {
		ff = &slackapi.Failure{Class: slackapi.Retry, Code: "other", Err: ferr}
	}
	s.fallbackFailures.WithLabelValues(n.Route).Inc()
	logger.Error("The fallback channel refused the notification too",
		"route", n.Route, "code", f.Code, "err", err, "fallback_channel", fb, "fallback_code", ff.Code, "fallback_err", ferr)
	return nil
}
