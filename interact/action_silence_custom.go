package interact

import (
	"context"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// ActionSilenceCustom is the button that opens the silence preview, where
// the matchers, the duration or end and the comment can be edited and the
// alerts the silence would match are shown before it is created. It is a
// button of its own because the silence select's option values are all
// durations.
const ActionSilenceCustom = "silence_custom"

// CustomSilence is the value of the ActionSilenceCustom button.
const CustomSilence = "custom"

// silenceCustomAction opens the silence preview; its submission is taken
// by dispatchPreviewSubmission.
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

// Perform opens the preview for the button's own value, and treats any
// other value as a duration, as the silence select does.
func (silenceCustomAction) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	if c.opensDialog() {
		return h.openPreview(ctx, c, g, previewFromGroup)
	}
	return h.silence(ctx, c, g)
}

func (silenceCustomAction) Undoes() []string { return nil }
