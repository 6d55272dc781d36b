package render

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// maxSummary bounds a thread reply: it is posted as a section's text, whose
// limit is 3000 characters.
const maxSummary = maxSectionText

// maxNamesListed is how many alerts a summary line names before "…and N
// more".
const maxNamesListed = 10

// capSummaryName bounds one alert's escaped name in a summary, so that three
// full lines of maxNamesListed names stay within maxSummary.
const capSummaryName = 80

// Summary describes, for a thread reply, what changed from prev to cur, two
// notifications of the same alert group: alerts that started firing, alerts
// that resolved, or the whole group resolving. It returns "" when prev is
// nil (the first notification) and when every alert kept its status. The
// text is escaped mrkdwn of at most 3000 runes.
func Summary(prev, cur *template.Data) string {
	if prev == nil || cur == nil {
		return ""
	}
	before, after := statuses(prev.Alerts), statuses(cur.Alerts)
	if maps.Equal(before, after) {
		return ""
	}

	var started, resolved, gone []*template.Alert
	for i := range cur.Alerts {
		a := &cur.Alerts[i]
		switch was := before[alertKey(a)]; {
		case a.Status == "firing" && was != "firing":
			started = append(started, a)
		case a.Status == "resolved" && was != "resolved":
			resolved = append(resolved, a)
		}
	}
	// An alert that was firing and is no longer listed stopped firing
	// without a resolved notification, as with send_resolved: false.
	for i := range prev.Alerts {
		a := &prev.Alerts[i]
		if _, ok := after[alertKey(a)]; !ok && a.Status == "firing" {
			gone = append(gone, a)
		}
	}

	var lines []string
	if allResolved(cur) && anyFiring(prev) {
		line := "All resolved"
		if start, end := span(cur.Alerts); !start.IsZero() && !end.Before(start) {
			line += " after " + humanDuration(end.Sub(start))
		}
		lines = append(lines, line)
	} else {
		common := cur.CommonLabels
		if len(started) > 0 {
			lines = append(lines, plural(len(started), "new alert firing", "new alerts firing")+": "+names(started, common))
		}
		if len(resolved) > 0 {
			lines = append(lines, plural(len(resolved), "resolved", "resolved")+": "+names(resolved, common))
		}
		if len(gone) > 0 {
			lines = append(lines, plural(len(gone), "no longer firing", "no longer firing")+": "+names(gone, common))
		}
	}
	// Names are escaped and cut one by one; the lines stay below
	// maxSummary, and the clip is a guard.
	return clip(strings.Join(lines, "\n"), maxSummary)
}

// statuses maps each alert to its status.
func statuses(alerts template.Alerts) map[string]string {
	m := make(map[string]string, len(alerts))
	for i := range alerts {
		m[alertKey(&alerts[i])] = alerts[i].Status
	}
	return m
}

// alertKey identifies an alert across notifications: its fingerprint, or
// its labels when it has none.
func alertKey(a *template.Alert) string {
	if a.Fingerprint != "" {
		return a.Fingerprint
	}
	return "labels:" + a.Labels.String()
}

func allResolved(d *template.Data) bool {
	if d.Status == "resolved" {
		return true
	}
	return len(d.Alerts) > 0 && !anyFiring(d)
}

func anyFiring(d *template.Data) bool {
	return slices.ContainsFunc(d.Alerts, func(a template.Alert) bool { return a.Status == "firing" })
}

// span is the earliest start and the latest end among the alerts.
func span(alerts template.Alerts) (start, end time.Time) {
	for _, a := range alerts {
		if !a.StartsAt.IsZero() && (start.IsZero() || a.StartsAt.Before(start)) {
			start = a.StartsAt
		}
		if a.EndsAt.After(end) {
			end = a.EndsAt
		}
	}
	return start, end
}

// names lists alerts by what sets them apart from the common labels, sorted,
// the first maxNamesListed of them, escaped.
func names(alerts []*template.Alert, common template.KV) string {
	ns := make([]string, len(alerts))
	for i, a := range alerts {
		ns[i] = clipEscaped(cmp.Or(alertIdent(a, common), alertName(a)), capSummaryName)
	}
	slices.Sort(ns)
	if len(ns) > maxNamesListed {
		return strings.Join(ns[:maxNamesListed], ", ") + " " + more(len(ns)-maxNamesListed)
	}
	return strings.Join(ns, ", ")
}
