package interact

import (
	"context"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// ActionUnsilence is the action_id of the button that expires the group's
// silence.
const ActionUnsilence = "unsilence"

const kindUnsilence = "unsilence"

// unsilenceAction expires the silence that amslack made for the group. It
// is offered while the group is silenced, and stays possible once the
// group resolved.
type unsilenceAction struct{}

func (unsilenceAction) ID() string   { return ActionUnsilence }
func (unsilenceAction) Kind() string { return kindUnsilence }

func (unsilenceAction) Controls(st alertgroup.State, _ render.Options) []render.Control {
	if st.Silenced == nil {
		return nil
	}
	return []render.Control{{ActionID: ActionUnsilence, Text: "Unsilence"}}
}

func (unsilenceAction) Rule(h *Handler, _ string) Rule { return h.silenceRule }

func (unsilenceAction) Refusal(*Handler, click, alertgroup.Group) string { return "" }

func (unsilenceAction) Silences(*Handler) bool { return false }

func (unsilenceAction) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	return h.unsilence(ctx, c, g)
}

func (unsilenceAction) Undoes() []string { return []string{ActionSilence} }
