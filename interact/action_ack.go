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
