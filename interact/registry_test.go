package interact

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// TestControls checks the built-in controls of a firing group's message in
// each state: the silence select, the custom silence button, the select of
// one alert to silence, acknowledge or unacknowledge, and unsilence while
// the group is silenced.
func TestControls(t *testing.T) {
	mark := &alertgroup.Mark{By: alertgroup.User{ID: "U0ALICE001"}}
	defaults := []render.Option{{Text: "1 hour", Value: "1h"}, {Text: "4 hours", Value: "4h"}, {Text: "1 day", Value: "24h"}}
	silence := render.Control{ActionID: ActionSilence, Placeholder: "Silence for…", Options: defaults}
	custom := render.Control{ActionID: ActionSilenceCustom, Text: "Custom silence…", Value: CustomSilence}
	one := render.Control{ActionID: ActionSilenceAlert, Placeholder: "Silence one alert…", Alerts: true}
	ack := render.Control{ActionID: ActionAck, Text: "Acknowledge"}
	unack := render.Control{ActionID: ActionUnack, Text: "Unacknowledge"}
	unsilence := render.Control{ActionID: ActionUnsilence, Text: "Unsilence"}
	tests := []struct {
		name string
		st   alertgroup.State
		o    render.Options
		want []render.Control
	}{
		{"fresh", alertgroup.State{}, render.Options{}, []render.Control{silence, custom, one, ack}},
		{"acknowledged", alertgroup.State{Acked: mark}, render.Options{}, []render.Control{silence, custom, one, unack}},
		{"silenced", alertgroup.State{Silenced: mark}, render.Options{}, []render.Control{silence, custom, one, ack, unsilence}},
		{"both", alertgroup.State{Acked: mark, Silenced: mark}, render.Options{}, []render.Control{silence, custom, one, unack, unsilence}},
		{
			"route durations", alertgroup.State{},
			render.Options{SilenceDurations: []time.Duration{30 * time.Minute, 0, 90 * time.Minute, 30 * time.Minute}},
			[]render.Control{
				{ActionID: ActionSilence, Placeholder: "Silence for…", Options: []render.Option{{Text: "30 minutes", Value: "30m"}, {Text: "1 hour 30 minutes", Value: "1h30m"}}},
				custom, one, ack,
			},
		},
		{
			"no valid route duration", alertgroup.State{},
			render.Options{SilenceDurations: []time.Duration{-time.Hour}},
			[]render.Control{silence, custom, one, ack},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(Controls(tc.st, tc.o), tc.want); diff != "" {
				t.Errorf("Controls (-got +want):\n%s", diff)
			}
		})
	}
}

// TestRegistry checks what is derived from the built-in actions: the ids
// that runbook actions may not take, the metric kinds, and that each
// control's action_id reaches its action.
func TestRegistry(t *testing.T) {
	for _, id := range []string{ActionSilence, ActionSilenceCustom, ActionSilenceAlert, ActionAck, ActionUnack, ActionUnsilence} {
		if !reservedID(id) {
			t.Errorf("reservedID(%q) = false", id)
		}
	}
	if reservedID("restart") || reservedID("") {
		t.Error("a runbook action's id is reserved")
	}
	if diff := cmp.Diff(allKinds, []string{kindSilence, kindAck, kindUnack, kindUnsilence, kindRunbook, kindUnknown}); diff != "" {
		t.Errorf("kinds (-got +want):\n%s", diff)
	}
	h := &Handler{actions: map[string]*Action{"restart": {ID: "restart"}}}
	st := alertgroup.State{Acked: &alertgroup.Mark{}, Silenced: &alertgroup.Mark{}}
	for _, c := range append(Controls(st, render.Options{}), Controls(alertgroup.State{}, render.Options{})...) {
		if b := h.builtinFor(c.ActionID); b == nil || b.ID() != c.ActionID {
			t.Errorf("action_id %q reaches %v", c.ActionID, b)
		}
	}
	if h.kind("restart") != kindRunbook || h.kind("nosuch") != kindUnknown {
		t.Errorf("kinds of restart and nosuch = %q, %q", h.kind("restart"), h.kind("nosuch"))
	}
}
