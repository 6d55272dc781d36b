package interact

import (
	"context"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// ActionAck is the action_id of the button that acknowledges the group.
const ActionAck = "ack"

const kindAck = "ack"

// ackAction acknowledges the group: in AckModeSilence with a short
// Alertmanager silence that the reconciler extends while the group fires,
// in AckModeState in amslack only. It is offered until someone
// acknowledged the group.
type ackAction struct{}

func (ackAction) ID() string   { return ActionAck }
func (ackAction) Kind() string { return kindAck }

func (ackAction) Controls(st alertgroup.State, _ render.Options) []render.Control {
	if st.Acked != nil {
		return nil
	}
	return []render.Control{{ActionID: ActionAck, Text: "Acknowledge"}}
}

func (ackAction) Rule(h *Handler, _ string) Rule { return h.ackRule }

func (ackAction) Refusal(_ *Handler, _ click, g alertgroup.Group) string {
	return resolvedRefusal(g)
}

func (ackAction) Silences(h *Handler) bool { return h.ackMode == AckModeSilence }

func (ackAction) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	return h.ack(ctx, c, g)
}

func (ackAction) Undoes() []string { return []string{ActionUnack} }

// endedSince reports whether the incident of group read, as a click saw it,
// ended before cur was stored: the group resolved, or resolved and fired
// again, which gives it a new message and a later FirstAt.
func endedSince(read, cur alertgroup.Group) bool {
	return cur.Status == alertgroup.StatusResolved || !cur.FirstAt.Equal(read.FirstAt)
}

// ackEnded answers an acknowledgement of g whose incident ended before the
// acknowledgement was recorded; cur is the group as stored then. Nothing is
// recorded, and the ACK! silence, if one was created, is expired: left
// active, it would mute the group when it fires again. When Alertmanager
// refuses the expiry, a resolved group keeps the acknowledgement with its
// silence, because the reconciler expires the ACK! silences of resolved
// groups.
func (h *Handler) ackEnded(ctx context.Context, g, cur alertgroup.Group, mark *alertgroup.Mark) outcome {
	refused := outcome{
		denied: true, result: "resolved meanwhile", silenceID: mark.SilenceID,
		text: render.AckResolvedMeanwhileReply(cur.ResolvedAt),
	}
	if mark.SilenceID == "" {
		return refused
	}
	err := h.expireSilence(ctx, mark.SilenceID)
	if err == nil {
		return refused
	}
	kept := false
	_, uerr := h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		kept = false
		if found && sg.Status == alertgroup.StatusResolved && sg.FirstAt.Equal(g.FirstAt) && sg.State.Acked == nil {
			sg.State.Acked, kept = mark, true
		}
		return nil
	})
	retried := kept && uerr == nil
	if retried {
		h.logger.Warn("cannot expire acknowledgement silence of a group that resolved meanwhile; the reconciler expires it",
			"silence_id", mark.SilenceID, "group_key", g.Key.GroupKey, "channel", g.Key.Channel, "err", err)
	} else {
		h.logger.Error("cannot expire acknowledgement silence of a group that resolved meanwhile; it mutes the group until it ends",
			"silence_id", mark.SilenceID, "until", mark.Until, "group_key", g.Key.GroupKey, "channel", g.Key.Channel, "err", err, "store_err", uerr)
	}
	return outcome{
		err: err, result: "resolved meanwhile; " + err.Error(), silenceID: mark.SilenceID,
		text: render.AckResolvedExpireFailedReply(cur.ResolvedAt, mark.SilenceID, err, retried),
	}
}
