package render

import (
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// The action_ids and labels of the controls that the interaction side puts
// on a firing group's message; the tests lay out the same controls.
const (
	testSilence       = "silence"
	testSilenceCustom = "silence_custom"
	testCustomValue   = "custom"
)

// testControls are the controls of a firing group's message in state st:
// the silence select with the route's durations (or 1h, 4h and 24h), a
// custom silence button, the select of one alert to silence, acknowledge
// or unacknowledge, and unsilence while the group is silenced.
func testControls(st alertgroup.State, o Options) []Control {
	opts := DurationOptions(o.SilenceDurations)
	if len(opts) == 0 {
		opts = DurationOptions([]time.Duration{time.Hour, 4 * time.Hour, 24 * time.Hour})
	}
	cs := []Control{
		{ActionID: testSilence, Placeholder: "Silence for…", Options: opts},
		{ActionID: testSilenceCustom, Text: "Custom silence…", Value: testCustomValue},
		{ActionID: "silence_alert", Placeholder: "Silence one alert…", Alerts: true},
	}
	if st.Acked != nil {
		cs = append(cs, Control{ActionID: "unack", Text: "Unacknowledge"})
	} else {
		cs = append(cs, Control{ActionID: "ack", Text: "Acknowledge"})
	}
	if st.Silenced != nil {
		cs = append(cs, Control{ActionID: "unsilence", Text: "Unsilence"})
	}
	return cs
}

// withControls returns in with the controls of its state and options.
func withControls(in Input) Input {
	in.Controls = testControls(in.State, in.Options)
	return in
}
