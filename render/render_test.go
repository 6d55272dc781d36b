package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/template"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testNow is the fixed rendering time of the tests, some minutes after the
// fixtures were captured.
func testNow() time.Time { return time.Date(2026, 11, 29, 14, 30, 0, 0, time.UTC) }

// payload is Alertmanager's webhook body (version 4).
type payload struct {
	*template.Data

	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

func decodePayload(b []byte) (payload, error) {
	var p payload
	err := json.Unmarshal(b, &p)
	return p, err
}

func loadPayload(t testing.TB, name string) payload {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "alertmanager", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := decodePayload(b)
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return p
}

func inputOf(p payload) Input {
	return Input{Group: p.Data, GroupKey: p.GroupKey, TruncatedAlerts: p.TruncatedAlerts, Now: testNow()}
}

func mustMatcher(t testing.TB, typ labels.MatchType, name, value string) *labels.Matcher {
	t.Helper()
	m, err := labels.NewMatcher(typ, name, value)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// richState has an acknowledgement, a silence, approvals and results.
func richState() alertgroup.State {
	return alertgroup.State{
		Acked: &alertgroup.Mark{By: alertgroup.User{ID: "U123", Name: "alice"}, At: time.Date(2026, 11, 29, 14, 5, 0, 0, time.UTC)},
		Silenced: &alertgroup.Mark{
			By:        alertgroup.User{ID: "U456"},
			At:        time.Date(2026, 11, 29, 14, 6, 0, 0, time.UTC),
			Until:     time.Date(2026, 11, 29, 15, 6, 0, 0, time.UTC),
			SilenceID: "5b1c6f0e-7a51-4d0c-9d3e-2f6f0c1a9b7e",
		},
		Approvals: map[string][]alertgroup.User{"approve_restart": {{ID: "U1"}}},
		Results: []alertgroup.Result{
			{Action: "approve_restart", By: alertgroup.User{ID: "U2"}, At: time.Date(2026, 11, 29, 14, 10, 0, 0, time.UTC), OK: true, Approvers: []alertgroup.User{{ID: "U4"}, {ID: "U2"}}},
			{Action: "drain", By: alertgroup.User{ID: "U3"}, At: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), Detail: "timeout <after 30s> & gave up"},
		},
	}
}

// richOptions has two runbook actions: one whose matchers fit the DiskFull
// fixtures (cluster="prod") and one that does not.
func richOptions(t testing.TB) Options {
	return Options{
		SilenceDurations: []time.Duration{30 * time.Minute, time.Hour, 90 * time.Minute, 24 * time.Hour},
		Mentions:         map[string]string{"critical": "<!here>"},
		Actions: []Action{
			{
				ID:    "approve_restart",
				Label: "Approve restart",
				Style: "danger",
				Confirm: &Confirm{
					Title: "Restart the database?", Text: "This restarts the primary.",
					Confirm: "Restart", Deny: "Cancel",
				},
				Matchers:  labels.Matchers{mustMatcher(t, labels.MatchEqual, "cluster", "prod")},
				Approvals: 2,
			},
			{
				ID:       "drain",
				Label:    "Drain node",
				Style:    "primary",
				Matchers: labels.Matchers{mustMatcher(t, labels.MatchEqual, "cluster", "staging")},
			},
		},
	}
}

// marshal is the golden form of a message: indented JSON in which <, > and
// & are written as themselves, so that links read as Slack sees them.
func marshal(t testing.TB, m Message) []byte {
	t.Helper()
	b, err := MarshalIndent(m)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update to create it)", err)
	}
	if diff := cmp.Diff(string(got), string(want)); diff != "" {
		t.Errorf("%s differs (-got +want):\n%s", path, diff)
	}
}

func TestRenderGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "alertmanager", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	type tcase struct {
		name string
		in   Input
		fn   func(Input) Message
	}
	var cases []tcase
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		cases = append(cases, tcase{name, inputOf(loadPayload(t, filepath.Base(f))), Render})
	}
	withState := func(name string) Input {
		in := inputOf(loadPayload(t, name))
		in.State = richState()
		in.Options = richOptions(t)
		return in
	}
	// The first post of a group that nobody handled yet carries the
	// route's mention; a silence changes the header.
	firstPost := inputOf(loadPayload(t, "v035-firing.json"))
	firstPost.Options = richOptions(t)
	silenced := withState("v035-firing.json")
	silenced.State = alertgroup.State{Silenced: &alertgroup.Mark{
		By: alertgroup.User{ID: "U0ALICE001", Name: "alice"}, At: testNow(), Until: time.Date(2026, 11, 29, 17, 31, 0, 0, time.UTC),
	}}
	silenced.Update = true
	cases = append(cases,
		tcase{"v035-firing-first-post", firstPost, Render},
		tcase{"v035-firing-silenced", silenced, Render},
		tcase{"v035-firing-state", withState("v035-firing.json"), Render},
		tcase{"v035-resolved-state", withState("v035-resolved.json"), Render},
		tcase{"v035-firing-state-minimal", withState("v035-firing.json"), Minimal},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.fn(withControls(tc.in))
			if err := Validate(m); err != nil {
				t.Errorf("Validate: %v", err)
			}
			got := marshal(t, m)
			// The golden form must still be JSON that slack-go reads back
			// into the same message: an element type it does not know would
			// fail the whole decode on the interaction side.
			var back Message
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("decode own output: %v", err)
			}
			if diff := cmp.Diff(string(marshal(t, back)), string(got)); diff != "" {
				t.Errorf("round trip through slack-go changes the message (-got +want):\n%s", diff)
			}
			checkGolden(t, tc.name, got)
		})
	}
}

// blockByID returns the block with the id, or nil.
func blockByID(m Message, id string) slack.Block {
	for _, b := range m.Blocks.BlockSet {
		if b.ID() == id {
			return b
		}
	}
	return nil
}

func sectionText(t testing.TB, m Message, id string) string {
	t.Helper()
	b, ok := blockByID(m, id).(*slack.SectionBlock)
	if !ok || b.Text == nil {
		t.Fatalf("no section %q with text", id)
	}
	return b.Text.Text
}

func headerText(t testing.TB, m Message) string {
	t.Helper()
	b, ok := blockByID(m, blockHeader).(*slack.HeaderBlock)
	if !ok {
		t.Fatal("no header")
	}
	return b.Text.Text
}

func contextTexts(m Message, id string) []string {
	b, ok := blockByID(m, id).(*slack.ContextBlock)
	if !ok {
		return nil
	}
	var out []string
	for _, e := range b.ContextElements.Elements {
		out = append(out, e.(*slack.TextBlockObject).Text)
	}
	return out
}

// mrkdwnTexts returns the texts of all mrkdwn text objects in sections and
// context blocks.
func mrkdwnTexts(m Message) []string {
	var out []string
	add := func(t *slack.TextBlockObject) {
		if t != nil && t.Type == slack.MarkdownType {
			out = append(out, t.Text)
		}
	}
	for _, b := range m.Blocks.BlockSet {
		switch b := b.(type) {
		case *slack.SectionBlock:
			add(b.Text)
			for _, f := range b.Fields {
				add(f)
			}
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				add(e.(*slack.TextBlockObject))
			}
		}
	}
	return out
}

func actionIDs(m Message) []string {
	b, ok := blockByID(m, blockActions).(*slack.ActionBlock)
	if !ok {
		return nil
	}
	var ids []string
	for _, e := range b.Elements.ElementSet {
		ids = append(ids, actionID(e))
	}
	return ids
}

func blockIDs(m Message) []string {
	var ids []string
	for _, b := range m.Blocks.BlockSet {
		ids = append(ids, b.ID())
	}
	return ids
}

func alert(status string, startsAt time.Time, kv ...string) template.Alert {
	a := template.Alert{Status: status, Labels: template.KV{}, Annotations: template.KV{}, StartsAt: startsAt}
	for i := 0; i+1 < len(kv); i += 2 {
		a.Labels[kv[i]] = kv[i+1]
	}
	a.Fingerprint = fmt.Sprintf("%016x", len(a.Labels.String())*7919+len(kv))
	return a
}

func TestRenderLayout(t *testing.T) {
	start := testNow().Add(-23 * time.Minute)
	firing := func() *template.Data {
		return &template.Data{
			Status:            "firing",
			GroupLabels:       template.KV{"alertname": "DiskFull"},
			CommonLabels:      template.KV{"alertname": "DiskFull", "severity": "critical", "cluster": "prod", "zone": "a", "env": "prod"},
			CommonAnnotations: template.KV{"summary": "Disk almost full", "action_hint": "Delete old WAL segments"},
			Alerts: template.Alerts{
				alert("resolved", start, "alertname", "DiskFull", "severity", "critical", "cluster", "prod", "zone", "a", "env", "prod", "instance", "db-0"),
				alert("firing", start.Add(time.Minute), "alertname", "DiskFull", "severity", "critical", "cluster", "prod", "zone", "a", "env", "prod", "instance", "db-2"),
				alert("firing", start, "alertname", "DiskFull", "severity", "critical", "cluster", "prod", "zone", "a", "env", "prod", "instance", "db-1"),
			},
		}
	}
	tests := []struct {
		name   string
		in     func() Input
		header string
		status string
		hint   string
		ids    []string
		acts   []string
		text   string
	}{
		{
			name:   "firing",
			in:     func() Input { return Input{Group: firing(), Now: testNow()} },
			header: "🔥 DiskFull — 2 firing",
			status: "🔴 *Critical* · Firing since <!date^1795961220^{date_short_pretty} {time}|2026-11-29 14:07 UTC>",
			hint:   "Delete old WAL segments",
			ids:    []string{"header", "status", "context", "hint", "alerts", "actions"},
			acts:   []string{"silence", "silence_custom", "silence_alert", "ack"},
			text:   "[FIRING:2] DiskFull (critical) — Delete old WAL segments",
		},
		{
			name: "resolved",
			in: func() Input {
				d := firing()
				d.Status = "resolved"
				for i := range d.Alerts {
					d.Alerts[i].Status = "resolved"
					d.Alerts[i].EndsAt = start.Add(40 * time.Minute)
				}
				return Input{Group: d, Now: testNow(), State: alertgroup.State{Acked: &alertgroup.Mark{By: alertgroup.User{ID: "U1"}}}}
			},
			header: "✅ DiskFull — resolved",
			status: "🔴 *Critical* · Resolved after 40m",
			hint:   "Delete old WAL segments",
			ids:    []string{"header", "status", "context", "hint", "alerts", "state"},
			text:   "[RESOLVED] DiskFull (critical) — Delete old WAL segments",
		},
		{
			name: "acked and silenced: handled header, no mention",
			in: func() Input {
				return Input{
					Group:   firing(),
					Now:     testNow(),
					State:   alertgroup.State{Acked: &alertgroup.Mark{By: alertgroup.User{ID: "U1"}}, Silenced: &alertgroup.Mark{By: alertgroup.User{ID: "U2"}}},
					Options: Options{Mentions: map[string]string{"critical": "<!subteam^S1>", "warning": "<!here>"}},
				}
			},
			header: "👀 DiskFull — acknowledged, silenced",
			status: "🔴 *Critical* · Firing since <!date^1795961220^{date_short_pretty} {time}|2026-11-29 14:07 UTC>",
			hint:   "Delete old WAL segments",
			ids:    []string{"header", "status", "context", "hint", "alerts", "state", "actions"},
			acts:   []string{"silence", "silence_custom", "silence_alert", "unack", "unsilence"},
			text:   "[FIRING:2] DiskFull (critical) — Delete old WAL segments",
		},
		{
			name: "severity from alerts, hint from each alert, title from group key",
			in: func() Input {
				d := &template.Data{Status: "firing", Alerts: template.Alerts{
					alert("firing", time.Time{}, "severity", "info"),
					alert("firing", time.Time{}, "severity", "Error"),
					alert("firing", time.Time{}, "severity", "warning"),
				}}
				d.Alerts[0].Annotations["description"] = "first"
				d.Alerts[1].Annotations["summary"] = "second"
				return Input{Group: d, GroupKey: "{}:{job=\"x\"}", Now: testNow()}
			},
			header: "🔥 {}:{job=\"x\"} — 3 firing",
			status: "🟠 *Error* · Firing",
			hint:   "3 alerts: second; first",
			ids:    []string{"header", "status", "hint", "alerts", "actions"},
			acts:   []string{"silence", "silence_custom", "silence_alert", "ack"},
			text:   "[FIRING:3] {}:{job=\"x\"} (error) — 3 alerts: second; first",
		},
		{
			name:   "nil group",
			in:     func() Input { return Input{} },
			header: "🔥 Alert group — firing",
			status: "⚪ *None* · Firing",
			ids:    []string{"header", "status", "actions"},
			acts:   []string{"silence", "silence_custom", "ack"},
			text:   "[FIRING] Alert group",
		},
		{
			name: "unknown severity, only truncated alerts",
			in: func() Input {
				d := &template.Data{Status: "firing", CommonLabels: template.KV{"alertname": "X", "severity": "PAGE"}}
				return Input{Group: d, TruncatedAlerts: 7, Now: testNow()}
			},
			header: "🔥 X — firing",
			status: "⚪ *Page* · Firing",
			ids:    []string{"header", "status", "alerts", "actions"},
			acts:   []string{"silence", "silence_custom", "ack"},
			text:   "[FIRING] X (page)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Render(withControls(tc.in()))
			if err := Validate(m); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(headerText(t, m), tc.header); diff != "" {
				t.Errorf("header (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(sectionText(t, m, blockStatus), tc.status); diff != "" {
				t.Errorf("status (-got +want):\n%s", diff)
			}
			if tc.hint != "" {
				if diff := cmp.Diff(sectionText(t, m, blockHint), tc.hint); diff != "" {
					t.Errorf("hint (-got +want):\n%s", diff)
				}
			}
			if diff := cmp.Diff(blockIDs(m), tc.ids); diff != "" {
				t.Errorf("block ids (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(actionIDs(m), tc.acts); diff != "" {
				t.Errorf("action ids (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(m.Text, tc.text); diff != "" {
				t.Errorf("text (-got +want):\n%s", diff)
			}
		})
	}
}

func TestRenderAlertList(t *testing.T) {
	start := testNow().Add(-time.Hour)
	d := &template.Data{
		Status:       "firing",
		CommonLabels: template.KV{"alertname": "Down", "job": "api"},
		Alerts: template.Alerts{
			alert("resolved", start, "alertname", "Down", "job", "api", "instance", "a"),
			alert("firing", start, "alertname", "Down", "job", "api", "instance", "c"),
			alert("firing", start, "alertname", "Down", "job", "api", "instance", "b"),
		},
	}
	d.Alerts[1].Annotations["summary"] = "c <is> down & out"
	d.Alerts[1].GeneratorURL = "http://prom/graph?g0.expr=up&g0.tab=1"
	d.Alerts[2].GeneratorURL = "javascript:alert(1)"
	m := Render(withControls(Input{Group: d, TruncatedAlerts: 2, Now: testNow()}))
	want := strings.Join([]string{
		"🔥 instance=b",
		"🔥 instance=c — c &lt;is&gt; down &amp; out · <http://prom/graph?g0.expr=up&amp;g0.tab=1|source>",
		"✅ instance=a",
		"…and 2 more",
	}, "\n")
	if diff := cmp.Diff(sectionText(t, m, blockAlerts), want); diff != "" {
		t.Errorf("alerts (-got +want):\n%s", diff)
	}
}

func TestRenderFields(t *testing.T) {
	common := template.KV{"alertname": "A", "severity": "info"}
	for i := range 12 {
		common[fmt.Sprintf("l%02d", i)] = "v"
	}
	common["instance"] = "i-1"
	common["service"] = "api"
	m := Render(withControls(Input{Group: &template.Data{CommonLabels: common}, Now: testNow()}))
	b := blockByID(m, blockContext).(*slack.SectionBlock)
	var got []string
	for _, f := range b.Fields {
		got = append(got, f.Text)
	}
	want := []string{
		"*service*\napi", "*instance*\ni-1", "*l00*\nv", "*l01*\nv", "*l02*\nv",
		"*l03*\nv", "*l04*\nv", "*l05*\nv", "*l06*\nv", "…and 5 more",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("fields (-got +want):\n%s", diff)
	}
}

func TestRenderLinks(t *testing.T) {
	tests := []struct {
		name string
		data *template.Data
		want []string
	}{
		{
			name: "all links, group label escaped in the filter",
			data: &template.Data{
				GroupLabels:       template.KV{"alertname": `A "b"`, "team": "x&y"},
				CommonAnnotations: template.KV{"runbook_url": "https://rb/a", "dashboard_url": "https://grafana/d?x=1&y=2"},
				ExternalURL:       "https://am.example/",
				Alerts:            template.Alerts{{GeneratorURL: "ftp://no"}, {GeneratorURL: "http://prom/g"}},
			},
			want: []string{
				"📖 <https://rb/a|Runbook>",
				"📊 <https://grafana/d?x=1&amp;y=2|Dashboard>",
				"🔎 <http://prom/g|Source>",
				"🔕 <https://am.example/#/silences/new?filter=%7Balertname%3D%22A%20%5C%22b%5C%22%22%2C%20team%3D%22x%26y%22%7D|Silence in Alertmanager>",
				"🚨 <https://am.example/#/alerts?filter=%7Balertname%3D%22A%20%5C%22b%5C%22%22%2C%20team%3D%22x%26y%22%7D|Alertmanager>",
			},
		},
		{
			name: "annotations of the first alert, other schemes skipped",
			data: &template.Data{
				ExternalURL: "javascript:alert(1)",
				Alerts: template.Alerts{{
					Annotations:  template.KV{"runbook_url": "javascript:alert(1)", "dashboard_url": "https://g/d"},
					GeneratorURL: "/relative",
				}},
			},
			want: []string{"📊 <https://g/d|Dashboard>"},
		},
		{
			name: "filter too long: unfiltered link",
			data: &template.Data{
				GroupLabels: template.KV{"alertname": strings.Repeat("x", 600)},
				ExternalURL: "http://am",
			},
			want: []string{"🔕 <http://am/#/silences/new|Silence in Alertmanager>", "🚨 <http://am/#/alerts|Alertmanager>"},
		},
		{
			name: "no labels: unfiltered link",
			data: &template.Data{ExternalURL: "http://am"},
			want: []string{"🔕 <http://am/#/silences/new|Silence in Alertmanager>", "🚨 <http://am/#/alerts|Alertmanager>"},
		},
		{name: "nothing to link", data: &template.Data{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Render(withControls(Input{Group: tc.data, Now: testNow()}))
			if err := Validate(m); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(contextTexts(m, blockLinks), tc.want); diff != "" {
				t.Errorf("links (-got +want):\n%s", diff)
			}
		})
	}
}

func TestRenderActions(t *testing.T) {
	p := loadPayload(t, "v035-firing.json")
	opts := richOptions(t)
	opts.Actions = append(opts.Actions,
		Action{ID: "approve_restart", Label: "duplicate id"},
		Action{ID: "ack", Label: "collides with a built-in id"},
		Action{ID: "", Label: "no id"},
		Action{ID: strings.Repeat("x", 256), Label: "id too long"},
		Action{ID: "any", Style: "warning"}, // no matchers: fits every group
		Action{ID: "notprod", Matchers: labels.Matchers{mustMatcher(t, labels.MatchNotEqual, "cluster", "prod")}},
		Action{ID: "regex", Label: "Regex", Matchers: labels.Matchers{mustMatcher(t, labels.MatchRegexp, "alertname", "Disk.*")}},
	)
	in := inputOf(p)
	in.Options = opts
	m := Render(withControls(in))
	if err := Validate(m); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(actionIDs(m), []string{"silence", "silence_custom", "silence_alert", "ack", "approve_restart", "any", "regex"}); diff != "" {
		t.Errorf("action ids (-got +want):\n%s", diff)
	}
	els := blockByID(m, blockActions).(*slack.ActionBlock).Elements.ElementSet
	sel := els[0].(*slack.SelectBlockElement)
	var opt []string
	for _, o := range sel.Options {
		opt = append(opt, o.Value+"="+o.Text.Text)
	}
	if diff := cmp.Diff(opt, []string{"30m=30 minutes", "1h=1 hour", "1h30m=1 hour 30 minutes", "24h=1 day"}); diff != "" {
		t.Errorf("silence options (-got +want):\n%s", diff)
	}
	for _, o := range sel.Options {
		if _, err := time.ParseDuration(o.Value); err != nil {
			t.Errorf("option value %q: %v", o.Value, err)
		}
	}
	if custom := els[1].(*slack.ButtonBlockElement); custom.ActionID != testSilenceCustom || custom.Value != testCustomValue {
		t.Errorf("custom silence button = %+v", custom)
	}
	restart := els[4].(*slack.ButtonBlockElement)
	if restart.Style != slack.StyleDanger || restart.Value != buttonValue || restart.Confirm == nil || restart.Confirm.Title.Text != "Restart the database?" {
		t.Errorf("approve_restart button = %+v", restart)
	}
	if anyB := els[5].(*slack.ButtonBlockElement); anyB.Style != "" || anyB.Text.Text != "any" {
		t.Errorf("button without label or valid style = %+v", anyB)
	}
}

func TestRenderState(t *testing.T) {
	in := inputOf(loadPayload(t, "v035-firing.json"))
	in.State = richState()
	in.State.Approvals["unconfigured"] = []alertgroup.User{{Name: "<bob>"}, {ID: "lower-case-id"}}
	in.Options = richOptions(t)
	m := Render(withControls(in))
	want := strings.Join([]string{
		"👀 Acknowledged by <@U123> · <!date^1795961100^{ago}|14:05 UTC>",
		"🔕 Silenced by <@U456> until 15:06 UTC",
		"Approve restart: 1/2 approvals (<@U1>)",
		"unconfigured: 2 approvals (&lt;bob&gt;, lower-case-id)",
		"❌ Drain node by <@U3>: timeout &lt;after 30s&gt; &amp; gave up",
		"✅ Approve restart by <@U4> and <@U2>: ok",
	}, "\n")
	if diff := cmp.Diff(contextTexts(m, blockState), []string{want}); diff != "" {
		t.Errorf("state (-got +want):\n%s", diff)
	}
}

func TestRenderEscapes(t *testing.T) {
	d := &template.Data{
		Status:            "firing",
		GroupLabels:       template.KV{"alertname": "<!channel>"},
		CommonLabels:      template.KV{"alertname": "<!channel>", "team": "<@U1> & co"},
		CommonAnnotations: template.KV{"summary": "<https://evil|click> &amp;"},
		Alerts:            template.Alerts{alert("firing", time.Time{}, "alertname", "<!channel>", "team", "<@U1> & co", "x", "<y>")},
	}
	m := Render(withControls(Input{Group: d, Now: testNow()}))
	// The header is plain_text, which Slack shows as is; all the rest is
	// mrkdwn and must not carry the markup through.
	if got, want := headerText(t, m), "🔥 <!channel> — 1 firing"; got != want {
		t.Errorf("header = %q, want %q", got, want)
	}
	for _, s := range mrkdwnTexts(m) {
		for _, bad := range []string{"<!channel>", "<@U1>", "<https://evil", "<y>"} {
			if strings.Contains(s, bad) {
				t.Errorf("unescaped %q in %q", bad, s)
			}
		}
	}
	if got, want := m.Text, "[FIRING:1] &lt;!channel&gt; — &lt;https://evil|click&gt; &amp;amp;"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if got, want := sectionText(t, m, blockHint), "&lt;https://evil|click&gt; &amp;amp;"; got != want {
		t.Errorf("hint = %q, want %q", got, want)
	}
}

// TestRenderDeterministic renders the same input many times: map iteration
// order must not leak into the message.
func TestRenderDeterministic(t *testing.T) {
	in := inputOf(loadPayload(t, "v035-firing.json"))
	in.State = richState()
	in.State.Approvals["b"] = []alertgroup.User{{ID: "U9"}}
	in.State.Approvals["a"] = []alertgroup.User{{ID: "U8"}}
	in.Options = richOptions(t)
	for i := range 20 {
		in.Group.CommonLabels[fmt.Sprintf("k%d", i)] = "v"
	}
	first := marshal(t, Render(withControls(in)))
	for range 20 {
		if got := marshal(t, Render(withControls(in))); !bytes.Equal(got, first) {
			t.Fatalf("output changed between runs:\n%s", cmp.Diff(string(got), string(first)))
		}
	}
}

// TestRenderDoesNotModifyInput checks that sorting the alert list works on a
// copy.
func TestRenderDoesNotModifyInput(t *testing.T) {
	p := loadPayload(t, "v035-firing.json")
	p.Alerts[0], p.Alerts[1] = p.Alerts[1], p.Alerts[0]
	before, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	Render(withControls(inputOf(p)))
	Minimal(withControls(inputOf(p)))
	after, _ := json.Marshal(p)
	if diff := cmp.Diff(string(after), string(before)); diff != "" {
		t.Errorf("input changed (-after +before):\n%s", diff)
	}
}

// hostile builds an alert group that breaks every limit it can: many
// alerts, long values in many scripts, emoji, markup, long URLs, and options
// and state far beyond what fits.
func hostile(alerts int) Input {
	long := func(seed string) string {
		var b strings.Builder
		for b.Len() < 2048 {
			b.WriteString(seed)
			b.WriteString(" ünïcødé ✓ 日本語 🔥🚀 <&> *_~` ")
		}
		return b.String()
	}
	d := &template.Data{
		Status:            "firing",
		GroupLabels:       template.KV{"alertname": long("g"), "cluster": long("c")},
		CommonLabels:      template.KV{"alertname": long("g"), "cluster": long("c"), "severity": "critical"},
		CommonAnnotations: template.KV{"summary": long("s"), "runbook_url": "https://rb/" + long("r"), "dashboard_url": "https://d/" + strings.Repeat("x", 450)},
		ExternalURL:       "https://am.example/" + strings.Repeat("p", 300),
	}
	for i := range 30 {
		d.CommonLabels[fmt.Sprintf("label_%02d_%s", i, strings.Repeat("n", 40))] = long("v")
	}
	start := testNow().Add(-3 * time.Hour)
	for i := range alerts {
		a := template.Alert{
			Status: []string{"firing", "resolved"}[i%2],
			Labels: template.KV{
				"alertname": long("g"), "cluster": long("c"),
				"instance": fmt.Sprintf("host-%04d-%s", i, long("i")),
				"severity": []string{"critical", "warning", "info", "ünknown"}[i%4],
			},
			Annotations:  template.KV{"summary": long(fmt.Sprint(i)), "description": long("d")},
			StartsAt:     start.Add(time.Duration(i) * time.Second),
			GeneratorURL: "https://prom.example/graph?g0.expr=" + strings.Repeat("%7B", 100) + fmt.Sprint(i),
			Fingerprint:  fmt.Sprintf("%016x", i),
		}
		d.Alerts = append(d.Alerts, a)
	}
	st := alertgroup.State{
		Acked:     &alertgroup.Mark{By: alertgroup.User{ID: "U1"}, At: start},
		Silenced:  &alertgroup.Mark{By: alertgroup.User{Name: long("n")}, At: start, Until: testNow().Add(48 * time.Hour)},
		Approvals: map[string][]alertgroup.User{},
	}
	opts := Options{Mentions: map[string]string{"critical": long("<!here>")}}
	for i := range 1000 {
		opts.SilenceDurations = append(opts.SilenceDurations, time.Duration(i+1)*time.Minute+time.Duration(i)*time.Hour)
	}
	for i := range 100 {
		id := fmt.Sprintf("action_%03d", i)
		opts.Actions = append(opts.Actions, Action{
			ID: id, Label: long("l"), Style: "danger",
			Confirm: &Confirm{Title: long("t"), Text: long("x"), Confirm: long("y"), Deny: long("n")},
		})
		st.Approvals[id] = []alertgroup.User{{ID: "U1"}, {ID: "U2"}, {Name: long("u")}}
	}
	for i := range 1000 {
		st.Results = append(st.Results, alertgroup.Result{Action: fmt.Sprintf("action_%03d", i%100), By: alertgroup.User{ID: "U3"}, OK: i%3 == 0, Detail: long("r")})
	}
	return Input{Group: d, GroupKey: long("k"), TruncatedAlerts: 500, State: st, Options: opts, Now: testNow()}
}

var moreRE = regexp.MustCompile(`…and (\d+) more$`)

func TestRenderHostile(t *testing.T) {
	for _, n := range []int{0, 1, 50, 1000} {
		t.Run(fmt.Sprintf("alerts=%d", n), func(t *testing.T) {
			in := hostile(n)
			for name, m := range map[string]Message{"Render": Render(withControls(in)), "Minimal": Minimal(withControls(in))} {
				if err := Validate(m); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			m := Render(withControls(in))
			// The state is handled: the header says so, and the title is
			// what is cut.
			suffix := "… — acknowledged, silenced until 2026-12-01 14:30 UTC"
			if got := headerText(t, m); runes(got) != maxHeaderText || !strings.HasSuffix(got, suffix) {
				t.Errorf("header = %q", got)
			}
			// The list must say how many alerts it leaves out, counting the
			// ones Alertmanager truncated.
			text := sectionText(t, m, blockAlerts)
			shown := strings.Count(text, "\n")
			match := moreRE.FindStringSubmatch(text)
			if match == nil {
				t.Fatalf("alert list does not end in …and N more: %q", text[max(0, len(text)-100):])
			}
			if got, want := match[1], strconv.Itoa(n-shown+500); got != want {
				t.Errorf("…and %s more, want %s (%d shown)", got, want, shown)
			}
			if total := len(m.Blocks.BlockSet); total > maxBlocks {
				t.Errorf("%d blocks", total)
			}
		})
	}
}

func TestMinimal(t *testing.T) {
	in := inputOf(loadPayload(t, "v035-resolved.json"))
	m := Minimal(withControls(in))
	if err := Validate(m); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(blockIDs(m), []string{"header", "status"}); diff != "" {
		t.Errorf("resolved minimal blocks (-got +want):\n%s", diff)
	}
	if got, want := sectionText(t, m, blockStatus), "🔴 *Critical* · Resolved after 21s\n2 alerts; details left out"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
}

func FuzzRender(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "alertmanager", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	opts := richOptions(f)
	custom := opts
	custom.Templates = customTemplates(f)
	defaults := defaultTemplates(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePayload(b)
		if err != nil {
			return
		}
		for _, in := range []Input{
			inputOf(p),
			{Group: p.Data, GroupKey: p.GroupKey, TruncatedAlerts: p.TruncatedAlerts, Now: testNow(), State: richState(), Options: opts},
			{Group: p.Data, GroupKey: p.GroupKey, TruncatedAlerts: p.TruncatedAlerts, Now: testNow(), State: richState(), Options: custom},
		} {
			if err := Validate(Render(withControls(in))); err != nil {
				t.Errorf("Render: %v", err)
			}
			if err := Validate(Minimal(withControls(in))); err != nil {
				t.Errorf("Minimal: %v", err)
			}
		}
		// The default templates render what the built-in code renders, but
		// for label names that a context line "name: value" cannot carry:
		// empty ones, and UTF-8 ones holding ": " themselves.
		if p.Data != nil && slices.ContainsFunc(p.CommonLabels.Names(), func(k string) bool {
			return oneLine(k) == "" || strings.Contains(k, ": ")
		}) {
			return
		}
		in := inputOf(p)
		want := marshal(t, Render(withControls(in)))
		in.Options.Templates = defaults
		if got := marshal(t, Render(withControls(in))); !bytes.Equal(got, want) {
			t.Errorf("default.tmpl differs from the built-in rendering (-templates +built-in):\n%s", cmp.Diff(string(got), string(want)))
		}
		if s := Summary(p.Data, p.Data); s != "" {
			t.Errorf("Summary of a group with itself = %q, want \"\"", s)
		}
		if s := Summary(&template.Data{}, p.Data); runes(s) > maxSummary {
			t.Errorf("Summary has %d runes", runes(s))
		}
	})
}

func BenchmarkRender(b *testing.B) {
	for _, n := range []int{1, 50, 1000} {
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			start := testNow().Add(-time.Hour)
			d := &template.Data{
				Status:            "firing",
				GroupLabels:       template.KV{"alertname": "DiskFull", "cluster": "prod"},
				CommonLabels:      template.KV{"alertname": "DiskFull", "cluster": "prod", "job": "node"},
				CommonAnnotations: template.KV{"runbook_url": "https://runbooks.example/disk"},
				ExternalURL:       "http://alertmanager.example:9093",
			}
			for i := range n {
				d.Alerts = append(d.Alerts, template.Alert{
					Status:       "firing",
					Labels:       template.KV{"alertname": "DiskFull", "cluster": "prod", "job": "node", "instance": fmt.Sprintf("db-%d", i), "severity": "critical"},
					Annotations:  template.KV{"summary": fmt.Sprintf("Disk almost full on db-%d", i)},
					StartsAt:     start,
					GeneratorURL: "http://prometheus.example/graph?g0.expr=disk",
					Fingerprint:  fmt.Sprintf("%016x", i),
				})
			}
			in := Input{Group: d, Now: testNow(), Options: Options{Mentions: map[string]string{"critical": "<!here>"}}}
			b.ReportAllocs()
			for b.Loop() {
				Render(withControls(in))
			}
		})
	}
}

func TestLimitErrorIs(t *testing.T) {
	err := Validate(Message{})
	var le *LimitError
	if !errors.Is(err, ErrLimit) || !errors.As(err, &le) || le.Path != "text" {
		t.Errorf("Validate(Message{}) = %v, want a *LimitError for text wrapping ErrLimit", err)
	}
}
