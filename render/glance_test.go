package render

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/template"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// diskFull is a firing DiskFull group of n alerts on db-1 … db-n, each with
// its own summary and no common one, as Alertmanager sends such a group.
func diskFull(n int) *template.Data {
	start := testNow().Add(-17 * time.Minute)
	d := &template.Data{
		Status:            "firing",
		GroupLabels:       template.KV{"alertname": "DiskFull", "cluster": "prod"},
		CommonLabels:      template.KV{"alertname": "DiskFull", "cluster": "prod", "severity": "critical"},
		CommonAnnotations: template.KV{"runbook_url": "https://runbooks.example/disk"},
	}
	for i := range n {
		host := fmt.Sprintf("db-%d", i+1)
		a := alert("firing", start.Add(time.Duration(i)*time.Second), "alertname", "DiskFull", "cluster", "prod", "severity", "critical", "instance", host)
		a.Annotations["summary"] = "Disk almost full on " + host
		a.Fingerprint = fmt.Sprintf("%016x", i+1)
		d.Alerts = append(d.Alerts, a)
	}
	if n == 1 {
		// Alertmanager's common annotations of a one-alert group are the
		// alert's own.
		d.CommonAnnotations["summary"] = d.Alerts[0].Annotations["summary"]
		d.CommonLabels = d.Alerts[0].Labels
	}
	return d
}

func TestHeaderShowsHandledState(t *testing.T) {
	now := testNow()
	alice := alertgroup.User{ID: "U0ALICE001", Name: "alice"}
	bob := alertgroup.User{ID: "U0BOB00001", Name: "bob"}
	tests := []struct {
		name   string
		status string // "" for firing
		state  alertgroup.State
		want   string
	}{
		{name: "neither", want: "🔥 DiskFull — 2 firing"},
		{
			name:  "silenced",
			state: alertgroup.State{Silenced: &alertgroup.Mark{By: alice, At: now, Until: time.Date(2026, 11, 29, 17, 31, 0, 0, time.UTC)}},
			want:  "🔕 DiskFull — silenced by alice until 17:31 UTC",
		},
		{
			name:  "silenced until another day",
			state: alertgroup.State{Silenced: &alertgroup.Mark{By: alice, At: now, Until: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}},
			want:  "🔕 DiskFull — silenced by alice until 2026-11-30 09:00 UTC",
		},
		{
			name:  "silenced by someone without a name",
			state: alertgroup.State{Silenced: &alertgroup.Mark{By: alertgroup.User{ID: "U0NONAME01"}, At: now, Until: now.Add(time.Hour)}},
			want:  "🔕 DiskFull — silenced until 15:30 UTC",
		},
		{
			name:  "acknowledged",
			state: alertgroup.State{Acked: &alertgroup.Mark{By: bob, At: now}},
			want:  "👀 DiskFull — bob is on it",
		},
		{
			name:  "acknowledged by someone without a name",
			state: alertgroup.State{Acked: &alertgroup.Mark{By: alertgroup.User{ID: "U0NONAME01"}, At: now}},
			want:  "👀 DiskFull — acknowledged",
		},
		{
			name: "both",
			state: alertgroup.State{
				Acked:    &alertgroup.Mark{By: bob, At: now},
				Silenced: &alertgroup.Mark{By: alice, At: now, Until: time.Date(2026, 11, 29, 17, 31, 0, 0, time.UTC)},
			},
			want: "👀 DiskFull — bob is on it, silenced until 17:31 UTC",
		},
		{
			name:   "resolved while handled",
			status: "resolved",
			state:  alertgroup.State{Acked: &alertgroup.Mark{By: bob, At: now}, Silenced: &alertgroup.Mark{By: alice, At: now}},
			want:   "✅ DiskFull — resolved",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := diskFull(2)
			if tc.status != "" {
				d.Status = tc.status
				for i := range d.Alerts {
					d.Alerts[i].Status = tc.status
				}
			}
			in := Input{Group: d, State: tc.state, Now: now}
			for fn, render := range map[string]func(Input) Message{"Render": Render, "Minimal": Minimal} {
				m := render(withControls(in))
				if err := Validate(m); err != nil {
					t.Fatalf("%s: %v", fn, err)
				}
				if diff := cmp.Diff(headerText(t, m), tc.want); diff != "" {
					t.Errorf("%s header (-got +want):\n%s", fn, diff)
				}
			}
		})
	}
}

// TestHeaderHandledKeepsTitle checks that a long title is cut, not the
// handled state.
func TestHeaderHandledKeepsTitle(t *testing.T) {
	d := diskFull(2)
	d.GroupLabels["alertname"] = strings.Repeat("VeryLongAlertName", 20)
	long := alertgroup.User{ID: "U0ALICE001", Name: strings.Repeat("a", 100)}
	in := Input{Group: d, Now: testNow(), State: alertgroup.State{
		Acked:    &alertgroup.Mark{By: long},
		Silenced: &alertgroup.Mark{By: long, Until: testNow().Add(48 * time.Hour)},
	}}
	got := headerText(t, Render(withControls(in)))
	if runes(got) != maxHeaderText || !strings.HasPrefix(got, "👀 VeryLong") ||
		!strings.HasSuffix(got, "… is on it, silenced until 2026-12-01 14:30 UTC") {
		t.Errorf("header = %q (%d runes)", got, runes(got))
	}
}

func TestMentionOnlyOnFirstPostOfUnhandledGroup(t *testing.T) {
	opts := Options{Mentions: map[string]string{"critical": "<!here>"}}
	acked := alertgroup.State{Acked: &alertgroup.Mark{By: alertgroup.User{ID: "U0BOB00001", Name: "bob"}}}
	silenced := alertgroup.State{Silenced: &alertgroup.Mark{By: alertgroup.User{ID: "U0BOB00001", Name: "bob"}, Until: testNow().Add(time.Hour)}}
	tests := []struct {
		name    string
		update  bool
		state   alertgroup.State
		resolve bool
		want    bool
	}{
		{name: "first post", want: true},
		{name: "update", update: true},
		{name: "first post, acknowledged", state: acked},
		{name: "first post, silenced", state: silenced},
		{name: "update, acknowledged", update: true, state: acked},
		{name: "resolved", resolve: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := diskFull(2)
			if tc.resolve {
				d.Status = "resolved"
			}
			in := Input{Group: d, Options: opts, State: tc.state, Update: tc.update, Now: testNow()}
			for fn, render := range map[string]func(Input) Message{"Render": Render, "Minimal": Minimal} {
				m := render(withControls(in))
				got := strings.Contains(sectionText(t, m, blockStatus), "<!here>")
				if got != tc.want {
					t.Errorf("%s: status %q: mention shown %v, want %v", fn, sectionText(t, m, blockStatus), got, tc.want)
				}
				for _, s := range append(mrkdwnTexts(m), m.Text) {
					if !tc.want && strings.Contains(s, "<!here>") {
						t.Errorf("%s: mention in %q", fn, s)
					}
				}
			}
		})
	}
}

// TestStatusUsesSlackDate checks that a firing group's status says since
// when, as Slack's date token, which each reader's client shows in their
// own time zone and which does not go stale as a duration would.
func TestStatusUsesSlackDate(t *testing.T) {
	start := time.Date(2026, 11, 29, 14, 12, 2, 164774892, time.UTC)
	d := diskFull(2)
	d.Alerts[0].StartsAt = start
	d.Alerts[1].StartsAt = start.Add(time.Minute)
	want := fmt.Sprintf("🔴 *Critical* · Firing since <!date^%d^{date_short_pretty} {time}|2026-11-29 14:12 UTC>", start.Unix())
	if start.Unix() != 1795961522 {
		t.Fatalf("unix time of %v = %d", start, start.Unix())
	}
	for _, now := range []time.Time{testNow(), testNow().Add(5 * time.Hour), {}} {
		for fn, render := range map[string]func(Input) Message{"Render": Render, "Minimal": Minimal} {
			m := render(withControls(Input{Group: d, Now: now}))
			got, _, _ := strings.Cut(sectionText(t, m, blockStatus), "\n")
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("%s at %v: status (-got +want):\n%s", fn, now, diff)
			}
		}
	}
	// Without a start time there is nothing to date.
	d.Alerts[0].StartsAt, d.Alerts[1].StartsAt = time.Time{}, time.Time{}
	if got := sectionText(t, Render(withControls(Input{Group: d, Now: testNow()})), blockStatus); got != "🔴 *Critical* · Firing" {
		t.Errorf("status without start = %q", got)
	}
}

func TestHintSummarizesTheGroup(t *testing.T) {
	tests := []struct {
		name   string
		data   func() *template.Data
		hint   string
		text   string
		alerts string
	}{
		{
			name:   "one alert: its summary once",
			data:   func() *template.Data { return diskFull(1) },
			hint:   "Disk almost full on db-1",
			text:   "[FIRING:1] DiskFull (critical) — Disk almost full on db-1",
			alerts: "🔥 DiskFull",
		},
		{
			name:   "two alerts: both named",
			data:   func() *template.Data { return diskFull(2) },
			hint:   "Disk almost full on db-1, db-2",
			text:   "[FIRING:2] DiskFull (critical) — Disk almost full on db-1, db-2",
			alerts: "🔥 instance=db-1 — Disk almost full on db-1\n🔥 instance=db-2 — Disk almost full on db-2",
		},
		{
			name: "many alerts: the first ten named, the rest counted",
			data: func() *template.Data { return diskFull(13) },
			hint: "Disk almost full on db-1, db-10, db-11, db-12, db-13, db-2, db-3, db-4, db-5, db-6 …and 3 more",
			text: "[FIRING:13] DiskFull (critical) — Disk almost full on db-1, db-10, db-11, db-12, db-13, db-2, db-3, db-4, db-5, db-6 …and 3 more",
		},
		{
			name: "summaries that differ in more than a name: each one",
			data: func() *template.Data {
				d := diskFull(3)
				d.Alerts[0].Annotations["summary"] = "Disk 91% full on db-1"
				d.Alerts[1].Annotations["summary"] = "Disk 95% full on db-2"
				d.Alerts[2].Annotations["summary"] = "Disk 95% full on db-2" // same text, said once
				return d
			},
			hint: "3 alerts: Disk 91% full on db-1; Disk 95% full on db-2",
			text: "[FIRING:3] DiskFull (critical) — 3 alerts: Disk 91% full on db-1; Disk 95% full on db-2",
		},
		{
			name: "the same summary on every alert: once, not on each line",
			data: func() *template.Data {
				d := diskFull(2)
				for i := range d.Alerts {
					d.Alerts[i].Annotations["summary"] = "Disk almost full"
				}
				d.CommonAnnotations["summary"] = "Disk almost full"
				return d
			},
			hint:   "Disk almost full",
			text:   "[FIRING:2] DiskFull (critical) — Disk almost full",
			alerts: "🔥 instance=db-1\n🔥 instance=db-2",
		},
		{
			name: "a common action hint wins over per-alert summaries",
			data: func() *template.Data {
				d := diskFull(2)
				d.CommonAnnotations["action_hint"] = "Delete old WAL segments"
				return d
			},
			hint: "Delete old WAL segments",
			text: "[FIRING:2] DiskFull (critical) — Delete old WAL segments",
		},
		{
			name: "firing alerts are summarized, not resolved ones",
			data: func() *template.Data {
				d := diskFull(3)
				d.Alerts[0].Status = "resolved"
				return d
			},
			hint: "Disk almost full on db-2, db-3",
			text: "[FIRING:2] DiskFull (critical) — Disk almost full on db-2, db-3",
		},
		{
			name: "markup in summaries is escaped",
			data: func() *template.Data {
				d := diskFull(2)
				d.Alerts[0].Annotations["summary"] = "Disk full on <!channel>"
				d.Alerts[1].Annotations["summary"] = "Disk full on a&b"
				return d
			},
			hint: "Disk full on &lt;!channel&gt;, a&amp;b",
			text: "[FIRING:2] DiskFull (critical) — Disk full on &lt;!channel&gt;, a&amp;b",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Group: tc.data(), Now: testNow()}
			m := Render(withControls(in))
			if err := Validate(m); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sectionText(t, m, blockHint), tc.hint); diff != "" {
				t.Errorf("hint (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(m.Text, tc.text); diff != "" {
				t.Errorf("text (-got +want):\n%s", diff)
			}
			if tc.alerts != "" {
				// The list's source links are not what this test is about.
				if diff := cmp.Diff(sectionText(t, m, blockAlerts), tc.alerts); diff != "" {
					t.Errorf("alerts (-got +want):\n%s", diff)
				}
			}
			// The default templates show what the built-in rendering does.
			with := in
			with.Options.Templates = defaultTemplates(t)
			if diff := cmp.Diff(string(marshal(t, Render(withControls(with)))), string(marshal(t, m))); diff != "" {
				t.Errorf("default.tmpl differs (-templates +built-in):\n%s", diff)
			}
		})
	}
}

func TestResultNamesAllApprovers(t *testing.T) {
	at := testNow().Add(-time.Minute)
	tests := []struct {
		name   string
		result alertgroup.Result
		want   string
	}{
		{
			name:   "one approver",
			result: alertgroup.Result{Action: "approve_restart", By: alertgroup.User{ID: "U2"}, At: at, OK: true, Approvers: []alertgroup.User{{ID: "U2"}}},
			want:   "✅ Approve restart by <@U2>: ok",
		},
		{
			name:   "two approvers",
			result: alertgroup.Result{Action: "approve_restart", By: alertgroup.User{ID: "U2"}, At: at, OK: true, Approvers: []alertgroup.User{{ID: "U1"}, {ID: "U2"}}},
			want:   "✅ Approve restart by <@U1> and <@U2>: ok",
		},
		{
			name:   "three approvers, one named only",
			result: alertgroup.Result{Action: "approve_restart", By: alertgroup.User{ID: "U3"}, At: at, Detail: "timeout", Approvers: []alertgroup.User{{ID: "U1"}, {Name: "<bob>"}, {ID: "U3"}}},
			want:   "❌ Approve restart by <@U1>, &lt;bob&gt; and <@U3>: timeout",
		},
		{
			name:   "recorded before approvers were kept",
			result: alertgroup.Result{Action: "approve_restart", By: alertgroup.User{ID: "U2"}, At: at, OK: true},
			want:   "✅ Approve restart by <@U2>: ok",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := inputOf(loadPayload(t, "v035-firing.json"))
			in.Options = richOptions(t)
			in.State = alertgroup.State{Results: []alertgroup.Result{tc.result}}
			if diff := cmp.Diff(contextTexts(Render(withControls(in)), blockState), []string{tc.want}); diff != "" {
				t.Errorf("state (-got +want):\n%s", diff)
			}
		})
	}
	t.Run("many approvers", func(t *testing.T) {
		var users []alertgroup.User
		for i := range maxUsersShown + 3 {
			users = append(users, alertgroup.User{ID: fmt.Sprintf("U%02d", i)})
		}
		in := Input{Group: diskFull(1), Now: testNow(), State: alertgroup.State{Results: []alertgroup.Result{{Action: "x", By: users[len(users)-1], OK: true, Approvers: users}}}}
		got := contextTexts(Render(withControls(in)), blockState)
		if len(got) != 1 || !strings.HasSuffix(got[0], "<@U08>, <@U09> and 3 more: ok") {
			t.Errorf("state = %q", got)
		}
	})
}
