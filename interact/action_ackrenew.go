package interact

import (
	"context"
	"errors"
	"time"

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// ActionAckRenew is the action_id of the acknowledgement reminder's button
// Still on it, which renews the acknowledgement.
const ActionAckRenew = "ack_renew"

// ackRenewAction renews the group's acknowledgement: the reminder period
// starts again from the click, and in AckModeSilence the acknowledgement
// silence is extended by the ack duration. The acknowledgement stays with
// whoever made it. Its button is on the reminder only, never on the
// group's message; it is authorized like ack and counted with it.
type ackRenewAction struct{}

func (ackRenewAction) ID() string   { return ActionAckRenew }
func (ackRenewAction) Kind() string { return kindAck }

func (ackRenewAction) Controls(alertgroup.State, render.Options) []render.Control { return nil }

func (ackRenewAction) Rule(h *Handler, _ string) Rule { return h.ackRule }

func (ackRenewAction) Refusal(_ *Handler, _ click, g alertgroup.Group) string {
	return renewRefusal(g)
}

func (ackRenewAction) Silences(h *Handler) bool { return h.ackMode == AckModeSilence }

func (ackRenewAction) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	return h.renewAck(ctx, c, g)
}

func (ackRenewAction) Undoes() []string { return nil }

// renewRefusal refuses to renew the acknowledgement of a group that
// resolved or that nobody has acknowledged, or "".
func renewRefusal(g alertgroup.Group) string {
	if r := resolvedRefusal(g); r != "" {
		return r
	}
	if g.State.Acked == nil {
		return render.AckRenewNotAckedReply
	}
	return ""
}

// errRenewRefused aborts a renewal that the stored group refuses.
var errRenewRefused = errors.New("renewal refused")

// renewAck records the renewal of g's acknowledgement and extends its
// silence.
func (h *Handler) renewAck(ctx context.Context, c click, g alertgroup.Group) outcome {
	now := h.now()
	var refusal string
	stored, err := h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		// Decided on the stored group: an unack or a resolve may have
		// come since the click looked it up.
		if refusal = renewRefusal(*sg); refusal != "" || endedSince(g, *sg) {
			refusal = cmpOr(refusal, render.ResolvedReply(sg.ResolvedAt))
			return errRenewRefused
		}
		sg.State.AckRenewed = now
		return nil
	})
	if errors.Is(err, errRenewRefused) {
		return outcome{denied: true, text: refusal, result: "not renewed: " + refusal}
	}
	if err != nil {
		return outcome{err: err, result: err.Error(), text: render.AckRenewRecordFailedReply(err)}
	}
	var until time.Time
	if a := stored.State.Acked; h.ackMode == AckModeSilence && a.SilenceID != "" && h.silences != nil {
		if err := h.extendAck(ctx, stored); err != nil {
			return outcome{err: err, result: "renewed; " + err.Error(), silenceID: a.SilenceID, text: render.AckRenewExtendFailedReply(err)}
		}
		until = now.Add(h.ackDuration)
	}
	h.refresh(ctx, g.Key, g.Route, render.AckRenewedNote(c.user))
	return outcome{text: render.AckRenewedReply(h.ackReminder, until), result: "acknowledgement renewed", silenceID: stored.State.Acked.SilenceID}
}

// onThreadParent makes a click on a reply in a message's thread act on the
// message that starts the thread: the acknowledgement reminder is such a
// reply, and its buttons act on the group whose message the thread
// belongs to. Slack gives a reply's thread as container.thread_ts and
// message.thread_ts; on the message that starts a thread, thread_ts is its
// own ts.
func onThreadParent(c click, cb slack.InteractionCallback) click {
	if parent := cmpOr(cb.Container.ThreadTs, cb.Message.ThreadTimestamp); parent != "" {
		c.ts = parent
	}
	return c
}
