package main

import (
	"fmt"
	"strconv"
	"strings"
)

// stormReceiver is the Alertmanager receiver name every notification of a
// storm carries.
const stormReceiver = "storm"

// Name prefixes of the alert groups: the storm's, the warnings of the
// critical injection's backlog, and the critical group itself. The group's
// alertname is the prefix and its number, and amslack puts the alertname in
// the message header, which is how a message is traced back to its group.
const (
	prefixStorm    = "Storm"
	prefixBacklog  = "Backlog"
	prefixCritical = "Critical"
)

// groupName returns the alertname of group i of a kind.
func groupName(prefix string, i int) string { return fmt.Sprintf("%s%06d", prefix, i) }

// parseGroupName returns the number of the group named in a message header
// ("🔥 Storm000042 — 2 firing"), or false if the header names no group of
// that kind.
func parseGroupName(header, prefix string) (int, bool) {
	for f := range strings.FieldsSeq(header) {
		rest, ok := strings.CutPrefix(f, prefix)
		if !ok || len(rest) != 6 {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 {
			continue
		}
		return n, true
	}
	return 0, false
}

// step is what notification j of a group says: each step is a real change
// of the group, so that neither the HA de-duplication nor the sender's
// "unchanged" check can skip it.
type step struct {
	// resolved is the group's status.
	resolved bool
	// alerts are the numbers of the group's alerts in the notification.
	alerts []int
}

// stepOf returns notification j of k: the first fires alert 0, each later
// one but the last fires alert 0 and alert j (a different second alert each
// time, so that every notification has a new set of alerts while payloads
// stay the same size), and the last, when k > 1, resolves the alerts of the
// one before it.
func stepOf(j, k int) step {
	firing := func(j int) []int {
		if j == 0 {
			return []int{0}
		}
		return []int{0, j}
	}
	if k > 1 && j == k-1 {
		return step{resolved: true, alerts: firing(j - 1)}
	}
	return step{alerts: firing(j)}
}

// firing returns the number of firing alerts in the step.
func (s step) firing() int {
	if s.resolved {
		return 0
	}
	return len(s.alerts)
}

// headerMatches reports whether a message header shows the step: amslack's
// header ends in " — resolved" for a resolved group and " — N firing"
// while N alerts fire.
func (s step) headerMatches(header string) bool {
	if s.resolved {
		return strings.HasSuffix(header, " resolved")
	}
	return strings.HasSuffix(header, fmt.Sprintf(" %d firing", s.firing()))
}

// Times in the payloads. They are fixed: the storm measures delivery, and
// renderings that differ with the wall clock would only add noise.
const (
	startsAt   = "2026-11-29T14:00:00Z"
	resolvedAt = "2026-11-29T14:20:00Z"
	// notEnded is what Alertmanager sends as endsAt of a firing alert.
	notEnded = "0001-01-01T00:00:00Z"
)

// payload returns the webhook body (Alertmanager's version 4) of a step of
// group number g named name, with the given severity, shaped like the
// notifications Alertmanager 0.35 sends.
func payload(name string, g int, severity string, s step) []byte {
	status, ends := "firing", notEnded
	if s.resolved {
		status, ends = "resolved", resolvedAt
	}
	b := make([]byte, 0, 1024)
	b = fmt.Appendf(b, `{"receiver":%q,"status":%q,"alerts":[`, stormReceiver, status)
	for i, a := range s.alerts {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"status":%q,"labels":{"alertname":%q,"instance":"node-%d:9100","job":"node","severity":%q},`+
			`"annotations":{"summary":"storm alert %d of group %d","runbook_url":"https://runbooks.example/storm"},`+
			`"startsAt":%q,"endsAt":%q,"generatorURL":"http://prometheus.example/graph?g0.expr=up%%3D%%3D0","fingerprint":"%08x%08x"}`,
			status, name, a, severity, a, g, startsAt, ends, uint32(g), uint32(a))
	}
	b = fmt.Appendf(b, `],"groupLabels":{"alertname":%q},"commonLabels":{"alertname":%q,"job":"node","severity":%q},`+
		`"commonAnnotations":{},"externalURL":"http://alertmanager.example:9093","version":"4",`+
		`"groupKey":"{}:{alertname=\"%s\"}","truncatedAlerts":0}`,
		name, name, severity, name)
	return b
}
