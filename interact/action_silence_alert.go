package interact

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// ActionSilenceAlert is the action_id of the select that silences one alert
// of a group. Its option values are Alertmanager fingerprints, and
// render.MoreAlertsValue for alerts the select cannot list.
const ActionSilenceAlert = "silence_alert"

// DefaultAlertSilenceDuration is the length of a silence of one alert on a
// route that sets no silence durations.
const DefaultAlertSilenceDuration = time.Hour

// errAlertGone refuses a silence of an alert that the group's last
// notification does not hold.
var errAlertGone = errors.New("the alert is not in the group's latest notification")

// silenceAlertAction silences one alert of the group in Alertmanager, for
// the route's first silence duration.
type silenceAlertAction struct{}

func (silenceAlertAction) ID() string   { return ActionSilenceAlert }
func (silenceAlertAction) Kind() string { return kindSilence }

func (silenceAlertAction) Controls(alertgroup.State, render.Options) []render.Control {
	return []render.Control{{ActionID: ActionSilenceAlert, Placeholder: "Silence one alert…", Alerts: true}}
}

func (silenceAlertAction) Rule(h *Handler, _ string) Rule { return h.silenceRule }

func (silenceAlertAction) Refusal(_ *Handler, _ click, g alertgroup.Group) string {
	return resolvedRefusal(g)
}

func (silenceAlertAction) Silences(*Handler) bool { return true }

// silenceMatchers are the chosen alert's labels as equality matchers, less
// the labels configured to be dropped.
func (silenceAlertAction) silenceMatchers(h *Handler, c click, g alertgroup.Group) ([]amclient.Matcher, error) {
	if g.Message == nil || g.Message.Data == nil {
		return nil, errors.New("amslack has no alert data for this group")
	}
	var ls map[string]string
	for _, a := range g.Message.Alerts {
		if a.Fingerprint == c.value {
			ls = maps.Clone(a.Labels)
			break
		}
	}
	if ls == nil {
		return nil, errAlertGone
	}
	for _, name := range h.alertDropLabels {
		delete(ls, name)
	}
	if len(ls) == 0 {
		// Alertmanager would reject an empty matcher list; never silence
		// every alert.
		return nil, errors.New("the alert has no labels left to match once interactions.silence_alert_drop_labels are dropped")
	}
	return amclient.EqualMatchers(ls), nil
}

// alertSilenceDuration is the first positive silence duration of the
// route, or DefaultAlertSilenceDuration; byDefault tells which.
func (h *Handler) alertSilenceDuration(route string) (d time.Duration, byDefault bool) {
	if h.routeDurations != nil {
		for _, d := range h.routeDurations(route) {
			if d > 0 {
				return d, false
			}
		}
	}
	return DefaultAlertSilenceDuration, true
}

func (b silenceAlertAction) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	if c.value == render.MoreAlertsValue {
		// The select cannot list every alert: the preview lets the
		// clicker narrow the group's matchers to the one wanted.
		return h.openPreview(ctx, c, g, previewFromAlert)
	}
	if h.silences == nil {
		return failed(errNoAlertmanager, "No Alertmanager is configured, so amslack cannot create silences.")
	}
	ms, err := b.silenceMatchers(h, c, g)
	if errors.Is(err, errAlertGone) {
		return failed(err, render.AlertGoneReply)
	}
	if err != nil {
		return failed(err, render.SilenceRefusedReply(err))
	}
	name, labels, _ := render.AlertNames(g.Message.Data, c.value)
	d, byDefault := h.alertSilenceDuration(g.Route)
	fp := c.value
	prev := g.State.SilencedAlerts[fp].SilenceID
	now := h.now()
	until := now.Add(d)
	o := h.recordSilence(ctx, c, g.Key, amclient.Silence{
		ID: prev, Matchers: ms, StartsAt: now, EndsAt: until, CreatedBy: createdBy(c.user),
		Comment: "Silenced from Slack: " + h.link(c) + "\nOne alert of the group: " + labels,
	}, func(st *alertgroup.State, m alertgroup.Mark) string {
		old := st.SilencedAlerts[fp].SilenceID
		if st.SilencedAlerts == nil {
			st.SilencedAlerts = map[string]alertgroup.Mark{}
		}
		st.SilencedAlerts[fp] = m
		return old
	})
	if o.err != nil {
		return o
	}
	h.refresh(ctx, g.Key, g.Route, render.AlertSilencedNote(c.user, d, name, labels))
	o.text = render.AlertSilencedReply(name, d, byDefault, until, o.silenceID)
	o.result = fmt.Sprintf("alert %s silenced until %s", fp, until.UTC().Format(time.RFC3339))
	return o
}

func (silenceAlertAction) Undoes() []string { return nil }
