package interact

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/render"
)

// The fixture's two firing alerts, which differ in instance and severity.
const (
	fpDB1 = "153de500f4e8a1e4" // instance="db-1", severity="critical"
	fpDB2 = "211c19acb3be2082" // instance="db-2", severity="warning"
)

// TestSilenceAlertAlertmanager silences one alert of a two-alert group
// through the select, with a real Alertmanager: that alert is suppressed,
// the other stays active, and the message shows 1 of 2 silenced.
func TestSilenceAlertAlertmanager(t *testing.T) {
	am, c, _ := startAlertmanager(t)
	e := newEnv(t, Options{Silences: c, SilenceAlertDropLabels: []string{"severity"}})
	seedGroup(t, e.groups.Groups, nil)

	e.post(t, clickSpec{action: ActionSilenceAlert, value: fpDB1, user: "U0002BOB", name: "bob", responseURL: e.sink.url("s")})
	if got, want := e.sink.next(t), "Silenced db-1 for 1h (the default, as the route sets no silence durations), until "; !strings.HasPrefix(got, want) {
		t.Fatalf("reply = %q, want it to start with %q", got, want)
	}
	g := getGroup(t, e.groups)
	mark, ok := g.State.SilencedAlerts[fpDB1]
	if !ok || mark.SilenceID == "" || mark.By.ID != "U0002BOB" || len(g.State.SilencedAlerts) != 1 || g.State.Silenced != nil {
		t.Fatalf("state = %+v, want only %s silenced by bob", g.State, fpDB1)
	}
	s := am.Silence(t, mark.SilenceID)
	want := map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-1"}
	if diff := cmp.Diff(matcherSet(s.Matchers), want); diff != "" {
		t.Errorf("silence matchers (-got +want), severity dropped:\n%s", diff)
	}
	if d := s.EndsAt.Sub(s.StartsAt); d > time.Hour || d < time.Hour-5*time.Second {
		t.Errorf("silence lasts %v, want 1h", d)
	}

	// Alertmanager computes the alerts' status when it lists them; allow
	// for it to catch up all the same.
	deadline := time.Now().Add(10 * time.Second)
	for {
		states := map[string]string{}
		var silencedBy []string
		for _, a := range am.Alerts(t, `alertname="DiskFull"`) {
			states[a.Labels["instance"]] = a.Status.State
			if a.Labels["instance"] == "db-1" {
				silencedBy = a.Status.SilencedBy
			}
		}
		if states["db-1"] == "suppressed" && states["db-2"] == "active" && slices.Contains(silencedBy, mark.SilenceID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert states = %v (db-1 silenced by %v), want db-1 suppressed by %s and db-2 active", states, silencedBy, mark.SilenceID)
		}
		time.Sleep(100 * time.Millisecond)
	}

	m := render.Render(render.Input{Group: g.Message.Data, State: g.State, Now: time.Now(), Controls: Controls(g.State, render.Options{})})
	if b, _ := m.Blocks.MarshalJSON(); !strings.Contains(string(b), "🔕 1 of 2 silenced") {
		t.Errorf("message does not show 1 of 2 silenced: %s", b)
	}
}

// TestSilenceAlertRouteDuration checks that a silence of one alert lasts
// the route's first silence duration, and that the reply says so.
func TestSilenceAlertRouteDuration(t *testing.T) {
	am := &fakeAM{}
	var asked []string
	e := newEnv(t, Options{Silences: am, SilenceDurations: func(route string) []time.Duration {
		asked = append(asked, route)
		return []time.Duration{0, 30 * time.Minute, 4 * time.Hour}
	}})
	seedGroup(t, e.groups.Groups, nil)
	e.post(t, clickSpec{action: ActionSilenceAlert, value: fpDB2, responseURL: e.sink.url("s")})
	if got, want := e.sink.next(t), "Silenced db-2 for 30m (the route's first silence duration), until "; !strings.HasPrefix(got, want) {
		t.Errorf("reply = %q, want it to start with %q", got, want)
	}
	cs := am.creates()
	if len(cs) != 1 || cs[0].EndsAt.Sub(cs[0].StartsAt) != 30*time.Minute {
		t.Fatalf("silences created = %+v, want one of 30m", cs)
	}
	if !slices.Equal(asked, []string{"default"}) {
		t.Errorf("durations asked for routes %q, want the group's route default", asked)
	}
	if got := matcherMap(cs[0]); got["instance"] != "db-2" || got["severity"] != "warning" || len(got) != 4 {
		t.Errorf("matchers = %v, want all four labels of db-2", got)
	}
}

// matcherMap maps the names of s's matchers to their values.
func matcherMap(s amclient.Silence) map[string]string {
	out := map[string]string{}
	for _, m := range s.Matchers {
		out[m.Name] = m.Value
	}
	return out
}

// TestSilenceAlertKeepsToRule checks that a silence of one alert is held
// to the silence rule by its own matchers: a rule that forbids critical
// alerts lets the warning alert be silenced and refuses the critical one,
// although the group's common labels pass it.
func TestSilenceAlertKeepsToRule(t *testing.T) {
	notCritical := Rule{Matchers: []string{`severity!="critical"`}}
	m, err := labels.ParseMatcher(notCritical.Matchers[0])
	if err != nil {
		t.Fatal(err)
	}
	notCritical.ParsedMatchers = labels.Matchers{m}
	am := &fakeAM{}
	e := newEnv(t, Options{Silences: am, Silence: notCritical})
	seedGroup(t, e.groups.Groups, nil)

	e.post(t, clickSpec{action: ActionSilenceAlert, value: fpDB2, responseURL: e.sink.url("warning")})
	if got := e.sink.next(t); !strings.HasPrefix(got, "Silenced db-2 for 1h") {
		t.Errorf("reply for the warning alert = %q, want it silenced", got)
	}
	e.post(t, clickSpec{action: ActionSilenceAlert, value: fpDB1, responseURL: e.sink.url("critical")})
	if got := e.sink.next(t); got != render.RuleForbidsAlertsReason {
		t.Errorf("reply for the critical alert = %q, want %q", got, render.RuleForbidsAlertsReason)
	}
	if n := len(am.creates()); n != 1 {
		t.Errorf("silences created: %d, want 1", n)
	}
	st := getGroup(t, e.groups).State
	if _, ok := st.SilencedAlerts[fpDB1]; ok || len(st.SilencedAlerts) != 1 {
		t.Errorf("silenced alerts = %v, want only %s", st.SilencedAlerts, fpDB2)
	}
}

// TestSilenceAlertUnlisted checks the answers to the select's "more"
// option, which opens the silence preview, and to an alert no longer in the
// group: nothing is silenced.
func TestSilenceAlertUnlisted(t *testing.T) {
	am := &fakeAM{}
	e := newEnv(t, Options{Silences: am})
	seedGroup(t, e.groups.Groups, nil)
	e.post(t, clickSpec{action: ActionSilenceAlert, value: render.MoreAlertsValue, responseURL: e.sink.url("more")})
	waitFor(t, func() bool {
		e.slack.mu.Lock()
		defer e.slack.mu.Unlock()
		return len(e.slack.views) == 1
	})
	if cb := e.slack.views[0].CallbackID; cb != previewViewID {
		t.Errorf("the more option opened %q, want the silence preview", cb)
	}
	e.post(t, clickSpec{action: ActionSilenceAlert, value: "0123456789abcdef", responseURL: e.sink.url("gone")})
	if got := e.sink.next(t); got != render.AlertGoneReply {
		t.Errorf("reply to an alert no longer in the group = %q, want %q", got, render.AlertGoneReply)
	}
	e.sink.none(t)
	if n := len(am.creates()); n != 0 {
		t.Errorf("silences created: %d, want none", n)
	}
	if st := getGroup(t, e.groups).State; len(st.SilencedAlerts) != 0 {
		t.Errorf("silenced alerts = %v, want none", st.SilencedAlerts)
	}
}
