package render

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// MoreAlertsValue is the value of the last option of an alert select that
// cannot list every firing alert. It is not an Alertmanager fingerprint,
// which is 16 hexadecimal digits.
const MoreAlertsValue = "more"

// firingAlerts are d's firing alerts that carry a fingerprint, in d's
// order.
func firingAlerts(d *template.Data) []*template.Alert {
	if d == nil {
		return nil
	}
	var out []*template.Alert
	for i := range d.Alerts {
		a := &d.Alerts[i]
		if a.Status == alertgroup.StatusFiring && a.Fingerprint != "" {
			out = append(out, a)
		}
	}
	return out
}

// distinctNames are the label names whose values differ between alerts, a
// missing label counting as the empty value, in the order the message lists
// labels.
func distinctNames(alerts []*template.Alert) []string {
	all := template.KV{}
	for _, a := range alerts {
		for k := range a.Labels {
			all[k] = ""
		}
	}
	return orderedNames(all, func(k, _ string) bool {
		for _, a := range alerts[1:] {
			if a.Labels[k] != alerts[0].Labels[k] {
				return true
			}
		}
		return false
	})
}

// distinctLabels writes a's labels among names as name=value, joined by
// ", ", not escaped; "" when a has none of them.
func distinctLabels(a *template.Alert, names []string) string {
	var parts []string
	for _, k := range names {
		if v, ok := a.Labels[k]; ok {
			parts = append(parts, oneLine(k)+"="+oneLine(v))
		}
	}
	return strings.Join(parts, ", ")
}

// moreAlertsText is the text of the last option when n alerts are left out.
func moreAlertsText(n int) string {
	return fmt.Sprintf("…%d more in the dialog", n)
}

// AlertOptions are the choices of a select of d's firing alerts: each
// option's value is the alert's Alertmanager fingerprint and its text the
// labels that set it apart from the group's other firing alerts, cut to
// Slack's 75 characters. It is nil with fewer than two firing alerts. The
// options stay within Slack's 100 and within budgetSelect runes; when not
// all alerts fit, the last option says how many are left out and has the
// value MoreAlertsValue.
func AlertOptions(d *template.Data) []Option {
	alerts := firingAlerts(d)
	if len(alerts) < 2 {
		return nil
	}
	names := distinctNames(alerts)
	opts := make([]Option, 0, min(len(alerts), maxSelectOptions))
	used := 0
	for _, a := range alerts {
		text := clip(distinctLabels(a, names), maxOptionText)
		if text == "" {
			text = alertName(a)
		}
		opts = append(opts, Option{Text: text, Value: a.Fingerprint})
		used += runes(text)
	}
	if len(opts) <= maxSelectOptions && used <= budgetSelect {
		return opts
	}
	// Keep room for the last option, whose count has at most as many
	// digits as the number of alerts.
	reserve := runes(moreAlertsText(len(alerts)))
	n, used := 0, 0
	for n < maxSelectOptions-1 && used+runes(opts[n].Text)+reserve <= budgetSelect {
		used += runes(opts[n].Text)
		n++
	}
	return append(opts[:n], Option{Text: moreAlertsText(len(alerts) - n), Value: MoreAlertsValue})
}

// alertByFingerprint finds d's alert with fingerprint fp.
func alertByFingerprint(d *template.Data, fp string) (*template.Alert, bool) {
	if d == nil || fp == "" {
		return nil, false
	}
	for i := range d.Alerts {
		if d.Alerts[i].Fingerprint == fp {
			return &d.Alerts[i], true
		}
	}
	return nil, false
}

// AlertNames names d's alert with fingerprint fp for people: a short name
// (the value of the first label that sets it apart from the group's other
// firing alerts, its severity only when nothing else does) and those
// labels as name=value. Neither is escaped. ok is false when d has no such
// alert.
func AlertNames(d *template.Data, fp string) (name, labels string, ok bool) {
	a, ok := alertByFingerprint(d, fp)
	if !ok {
		return "", "", false
	}
	alerts := firingAlerts(d)
	if !slices.Contains(alerts, a) {
		alerts = append(alerts, a)
	}
	var names []string
	if len(alerts) > 1 {
		names = distinctNames(alerts)
	}
	for _, k := range names {
		if _, has := a.Labels[k]; has && k != labelSeverity && k != labelAlertname {
			name = oneLine(a.Labels[k])
			break
		}
	}
	labels = distinctLabels(a, names)
	if name == "" {
		name = alertName(a)
	}
	if labels == "" {
		labels = distinctLabels(a, orderedNames(a.Labels, func(string, string) bool { return true }))
	}
	return clip(name, capLineValue), clip(labels, capStateLine), true
}

// silencedAlerts counts the alerts that amslack silences one by one at
// now (every recorded one when now is zero), and of how many: the firing
// alerts of d and the silenced ones, which Alertmanager leaves out of its
// notifications while they are silenced.
func silencedAlerts(d *template.Data, st alertgroup.State, now time.Time) (silenced, total int) {
	fps := map[string]bool{}
	for _, a := range firingAlerts(d) {
		fps[a.Fingerprint] = true
	}
	for fp, m := range st.SilencedAlerts {
		if now.IsZero() || m.Until.IsZero() || m.Until.After(now) {
			silenced++
			fps[fp] = true
		}
	}
	return silenced, len(fps)
}
