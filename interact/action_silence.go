package interact

import (
	"context"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// ActionSilence is the action_id of the silence select. Its option values
// are Go durations (1h, 30m), and UntilBusiness on routes with business
// hours; the custom silence dialog's submission carries it as well, with
// the duration typed in.
const ActionSilence = "silence"

// kindSilence counts the silence select and the custom silence button.
const kindSilence = "silence"

// defaultSilenceDurations are the silence choices of a route that sets none.
func defaultSilenceDurations() []time.Duration {
	return []time.Duration{time.Hour, 4 * time.Hour, 24 * time.Hour}
}

// silenceAction silences the group's alerts in Alertmanager for the chosen
// duration.
type silenceAction struct{}

func (silenceAction) ID() string   { return ActionSilence }
func (silenceAction) Kind() string { return kindSilence }

func (silenceAction) Controls(_ alertgroup.State, o render.Options) []render.Control {
	opts := render.DurationOptions(o.SilenceDurations)
	if len(opts) == 0 {
		opts = render.DurationOptions(defaultSilenceDurations())
	}
	if o.BusinessDay != "" {
		opts = append(opts, render.BusinessDayOption(o.BusinessDay))
	}
	return []render.Control{{ActionID: ActionSilence, Placeholder: "Silence for…", Options: opts}}
}

func (silenceAction) Rule(h *Handler, _ string) Rule { return h.silenceRule }

func (silenceAction) Refusal(_ *Handler, _ click, g alertgroup.Group) string {
	return resolvedRefusal(g)
}

func (silenceAction) Silences(*Handler) bool { return true }

func (silenceAction) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	if c.value == UntilBusiness {
		return h.silenceUntilBusiness(ctx, c, g)
	}
	return h.silence(ctx, c, g)
}

func (silenceAction) Undoes() []string { return []string{ActionUnsilence} }
