package interact

import (
	"context"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// ActionSilenceCustom is the button that opens a dialog for a silence of
// any duration, with a comment. It is a button of its own because the
// silence select's option values are all durations.
const ActionSilenceCustom = "silence_custom"

// CustomSilence is the value of the ActionSilenceCustom button.
const CustomSilence = "custom"

// silenceCustomAction opens the custom silence dialog; the dialog's
// submission is an ActionSilence click.
type silenceCustomAction struct{}

func (silenceCustomAction) ID() string   { return ActionSilenceCustom }
func (silenceCustomAction) Kind() string { return kindSilence }

func (silenceCustomAction) Controls(alertgroup.State, render.Options) []render.Control {
	return []render.Control{{ActionID: ActionSilenceCustom, Text: "Custom silence…", Value: CustomSilence}}
}

func (silenceCustomAction) Rule(h *Handler, _ string) Rule { return h.silenceRule }

func (silenceCustomAction) Refusal(_ *Handler, _ click, g alertgroup.Group) string {
	return resolvedRefusal(g)
}

func (silenceCustomAction) Silences(*Handler) bool { return true }

// Perform opens the dialog for the button's own value, and treats any other
// value as a duration, as the silence select does.
func (silenceCustomAction) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	return h.silence(ctx, c, g)
}

func (silenceCustomAction) Undoes() []string { return nil }
