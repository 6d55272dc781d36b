package render

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/template"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// groupOf is a firing group of n alerts of one job, told apart by the
// label name, whose value value gives for each alert's index.
func groupOf(n int, name string, value func(i int) string) *template.Data {
	d := &template.Data{
		Status:       "firing",
		CommonLabels: template.KV{"alertname": "DiskFull", "job": "node"},
		GroupLabels:  template.KV{"alertname": "DiskFull"},
	}
	for i := range n {
		d.Alerts = append(d.Alerts, template.Alert{
			Status:      "firing",
			Labels:      template.KV{"alertname": "DiskFull", "job": "node", name: value(i)},
			Fingerprint: fmt.Sprintf("%016x", i+1),
			StartsAt:    testNow().Add(-time.Hour),
		})
	}
	return d
}

// alertSelect returns the silence_alert select of m, or nil.
func alertSelect(m Message) *slack.SelectBlockElement {
	b, ok := blockByID(m, blockActions).(*slack.ActionBlock)
	if !ok {
		return nil
	}
	for _, e := range b.Elements.ElementSet {
		if s, ok := e.(*slack.SelectBlockElement); ok && s.ActionID == "silence_alert" {
			return s
		}
	}
	return nil
}

func optionPairs(s *slack.SelectBlockElement) []string {
	var out []string
	for _, o := range s.Options {
		out = append(out, o.Value+" "+o.Text.Text)
	}
	return out
}

// TestAlertSelectOptions checks that each option names its alert by the
// labels that set it apart within the group, and carries its fingerprint.
func TestAlertSelectOptions(t *testing.T) {
	d := &template.Data{Status: "firing", Alerts: []template.Alert{
		{Status: "firing", Fingerprint: "00000000000000a1", Labels: template.KV{"alertname": "DiskFull", "cluster": "prod", "instance": "db-1", "severity": "critical"}},
		{Status: "firing", Fingerprint: "00000000000000a2", Labels: template.KV{"alertname": "DiskFull", "cluster": "prod", "instance": "db-2", "severity": "critical"}},
		{Status: "firing", Fingerprint: "00000000000000a3", Labels: template.KV{"alertname": "DiskFull", "cluster": "prod", "instance": "db-3", "severity": "critical", "device": "/dev/sdb"}},
		{Status: "resolved", Fingerprint: "00000000000000a4", Labels: template.KV{"alertname": "DiskFull", "cluster": "dev", "instance": "db-4"}},
		{Status: "firing", Fingerprint: "00000000000000a5", Labels: template.KV{"alertname": "DiskFull", "cluster": "prod", "instance": strings.Repeat("x", 100), "severity": "critical"}},
	}}
	m := Render(withControls(Input{Group: d, Now: testNow()}))
	if err := Validate(m); err != nil {
		t.Fatal(err)
	}
	s := alertSelect(m)
	if s == nil {
		t.Fatalf("no silence_alert select; action ids %v", actionIDs(m))
	}
	want := []string{
		"00000000000000a1 instance=db-1",
		"00000000000000a2 instance=db-2",
		"00000000000000a3 instance=db-3, device=/dev/sdb",
		"00000000000000a5 instance=" + strings.Repeat("x", 65) + "…",
	}
	if diff := cmp.Diff(optionPairs(s), want); diff != "" {
		t.Errorf("options (-got +want):\n%s", diff)
	}
	if s.Placeholder == nil || s.Placeholder.Text != "Silence one alert…" {
		t.Errorf("placeholder = %+v", s.Placeholder)
	}
}

// TestAlertSelectSize checks the select's bounds: none for one firing
// alert, every alert up to 100, and beyond 100 the first 99 and an option
// saying how many are left out. Longer texts meet the select's rune budget
// first, which keeps the message below Slack's size limit.
func TestAlertSelectSize(t *testing.T) {
	short := func(i int) string { return fmt.Sprint(i) }
	for _, tc := range []struct {
		name   string
		d      *template.Data
		listed int    // alerts listed
		more   string // text of the last option; "" for none
	}{
		{"one alert", groupOf(1, "i", short), 0, ""},
		{"two alerts", groupOf(2, "i", short), 2, ""},
		{"100 alerts", groupOf(100, "i", short), 100, ""},
		{"101 alerts", groupOf(101, "i", short), 99, "…2 more in the dialog"},
		{"150 alerts", groupOf(150, "i", short), 99, "…51 more in the dialog"},
		// 100 texts of 11 or 12 runes pass the budget of 1000.
		{"100 instances", groupOf(100, "instance", short), 89, "…11 more in the dialog"},
		{"long labels", groupOf(60, "instance", func(i int) string { return fmt.Sprintf("%s-%02d", strings.Repeat("db", 20), i) }), 18, "…42 more in the dialog"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Render(withControls(Input{Group: tc.d, Now: testNow()}))
			if err := Validate(m); err != nil {
				t.Fatal(err)
			}
			s := alertSelect(m)
			if tc.listed == 0 {
				if s != nil {
					t.Fatalf("a group of %d alert has a silence_alert select", len(tc.d.Alerts))
				}
				if !slices.Contains(actionIDs(m), "silence") {
					t.Errorf("action ids = %v, want the other controls kept", actionIDs(m))
				}
				return
			}
			if s == nil {
				t.Fatal("no silence_alert select")
			}
			n := len(s.Options)
			if tc.more != "" {
				last := s.Options[n-1]
				if last.Value != MoreAlertsValue || last.Text.Text != tc.more {
					t.Errorf("last option = %q %q, want %q %q", last.Value, last.Text.Text, MoreAlertsValue, tc.more)
				}
				n--
			}
			if n != tc.listed {
				t.Errorf("%d alerts listed, want %d", n, tc.listed)
			}
			for i, o := range s.Options[:n] {
				if want := tc.d.Alerts[i].Fingerprint; o.Value != want {
					t.Errorf("option %d value = %q, want fingerprint %q", i, o.Value, want)
				}
			}
			if n := elementText(s) - textRunes(s.Placeholder); n > budgetSelect {
				t.Errorf("options take %d runes, more than %d", n, budgetSelect)
			}
		})
	}
}

// TestAlertsSilencedLine checks the state line of a group some of whose
// alerts are silenced one by one.
func TestAlertsSilencedLine(t *testing.T) {
	alice := alertgroup.User{ID: "U0ALICE001", Name: "alice"}
	live := alertgroup.Mark{By: alice, Until: testNow().Add(time.Hour), SilenceID: "s1"}
	ended := alertgroup.Mark{By: alice, Until: testNow().Add(-time.Minute), SilenceID: "s0"}
	d := groupOf(5, "instance", func(i int) string { return fmt.Sprint(i) })
	// Alertmanager leaves silenced alerts out of its notifications: the
	// third silenced alert is not among the five.
	st := alertgroup.State{SilencedAlerts: map[string]alertgroup.Mark{
		d.Alerts[0].Fingerprint: live, "00000000000000ff": live, d.Alerts[1].Fingerprint: ended,
	}}
	m := Render(withControls(Input{Group: d, State: st, Now: testNow()}))
	if diff := cmp.Diff(contextTexts(m, blockState), []string{"🔕 2 of 6 silenced"}); diff != "" {
		t.Errorf("state lines (-got +want):\n%s", diff)
	}
	st.Silenced = &live
	m = Render(withControls(Input{Group: d, State: st, Now: testNow()}))
	if got := contextTexts(m, blockState); len(got) != 1 || strings.Contains(got[0], " of ") {
		t.Errorf("state lines of a group silenced as a whole = %q, want the group's silence only", got)
	}
}

// TestAlertSilencedNote checks the thread note and names of one alert's
// silence.
func TestAlertSilencedNote(t *testing.T) {
	d := &template.Data{Status: "firing", Alerts: []template.Alert{
		{Status: "firing", Fingerprint: "00000000000000a1", Labels: template.KV{"alertname": "DiskFull", "instance": "db-1", "severity": "critical"}},
		{Status: "firing", Fingerprint: "00000000000000a2", Labels: template.KV{"alertname": "DiskFull", "instance": "db-2", "severity": "critical"}},
	}}
	name, labels, ok := AlertNames(d, "00000000000000a1")
	if !ok || name != "db-1" || labels != "instance=db-1" {
		t.Fatalf("AlertNames = %q, %q, %v", name, labels, ok)
	}
	got := AlertSilencedNote(alertgroup.User{ID: "U0ALICE001", Name: "alice"}, time.Hour, name, labels)
	if want := "🔕 Silenced db-1 (instance=db-1) for 1h by <@U0ALICE001>"; got != want {
		t.Errorf("note = %q, want %q", got, want)
	}
	if _, _, ok := AlertNames(d, "0000000000000000"); ok {
		t.Error("AlertNames found an alert the group does not hold")
	}
	if got := AlertSilencedNote(alertgroup.User{ID: "U0ALICE001"}, time.Hour, "<!channel>", "a=<!channel>"); strings.Contains(got, "<!channel>") {
		t.Errorf("note = %q, want label values escaped", got)
	}
}
