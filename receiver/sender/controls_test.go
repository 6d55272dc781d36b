package sender

import (
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// testControls stands in for the interaction side's controls, which the
// sender may not import: the silence select, the custom silence button,
// the select of one alert to silence, acknowledge or unacknowledge, and
// unsilence while the group is silenced.
func testControls(st alertgroup.State, o render.Options) []render.Control {
	opts := render.DurationOptions(o.SilenceDurations)
	if len(opts) == 0 {
		opts = render.DurationOptions([]time.Duration{time.Hour, 4 * time.Hour, 24 * time.Hour})
	}
	cs := []render.Control{
		{ActionID: "silence", Placeholder: "Silence for…", Options: opts},
		{ActionID: "silence_custom", Text: "Custom silence…", Value: "custom"},
		{ActionID: "silence_alert", Placeholder: "Silence one alert…", Alerts: true},
	}
	if st.Acked != nil {
		cs = append(cs, render.Control{ActionID: "unack", Text: "Unacknowledge"})
	} else {
		cs = append(cs, render.Control{ActionID: "ack", Text: "Acknowledge"})
	}
	if st.Silenced != nil {
		cs = append(cs, render.Control{ActionID: "unsilence", Text: "Unsilence"})
	}
	return cs
}
