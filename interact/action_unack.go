package interact

import (
	"context"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// ActionUnack is the action_id of the button that takes an acknowledgement
// back.
const ActionUnack = "unack"

const kindUnack = "unack"

// unackAction takes the group's acknowledgement back, and expires its
// silence. It is offered while the group is acknowledged, and stays
// possible once the group resolved.
type unackAction struct{}

func (unackAction) ID() string   { return ActionUnack }
func (unackAction) Kind() string { return kindUnack }

func (unackAction) Controls(st alertgroup.State, _ render.Options) []render.Control {
	if st.Acked == nil {
		return nil
	}
	return []render.Control{{ActionID: ActionUnack, Text: "Unacknowledge"}}
}

func (unackAction) Rule(h *Handler, _ string) Rule { return h.ackRule }

func (unackAction) Refusal(*Handler, click, alertgroup.Group) string { return "" }

func (unackAction) Silences(*Handler) bool { return false }

func (unackAction) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	return h.unack(ctx, c, g)
}

func (unackAction) Undoes() []string { return []string{ActionAck} }
