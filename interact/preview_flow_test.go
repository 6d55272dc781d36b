package interact

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/render"
)

// suppressedBy waits until Alertmanager lists want alerts as suppressed by
// the silence id, and fails when it does not within a few seconds.
// Alertmanager computes an alert's status when it lists it; the wait
// allows for it to catch up all the same.
func suppressedBy(t *testing.T, am *amtest.Alertmanager, id string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, a := range am.Alerts(t) {
			if a.Status.State == "suppressed" && slices.Contains(a.Status.SilencedBy, id) {
				n++
			}
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("silence %s suppresses %d alerts, want %d", id, n, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPreviewAlertmanager opens the silence preview from the Custom
// silence… button, with a real Alertmanager that holds the group's two
// alerts and one alert of another cluster. It edits the matchers, which
// refreshes the count through views.update; a wider matcher shows the
// warning and is refused without the confirm; a submission whose matchers
// changed since the preview is refused. The silences created then
// suppress in Alertmanager as many alerts as the preview counted, and the
// group's message shows them.
func TestPreviewAlertmanager(t *testing.T) {
	am, c, _ := startAlertmanager(t)
	am.PostAlerts(t, amtest.Alert{Labels: map[string]string{"alertname": "DiskFull", "cluster": "staging", "instance": "db-9", "severity": "warning"}})
	p := newPreviewEnv(t, Options{Silences: c})
	seedGroup(t, p.groups.Groups, nil)

	v := p.open(t, ActionSilenceCustom, CustomSilence)
	if v.CallbackID != render.PreviewViewID {
		t.Fatalf("opened %q, want the silence preview", v.CallbackID)
	}
	bs := viewBlocks(t, v)
	if got, want := bs[render.PreviewMatchersID], `alertname="DiskFull", cluster="prod"`; got != want {
		t.Errorf("initial matchers = %q, want the group's %q", got, want)
	}
	if got := previewCount(t, v); got != 2 {
		t.Errorf("initial count = %d, want the group's 2 alerts", got)
	}
	if !strings.Contains(bs["preview_ends"], bobTZ+" (your time)") {
		t.Errorf("end = %q, want it on bob's clock (%s)", bs["preview_ends"], bobTZ)
	}
	if _, ok := bs["preview_warning"]; ok {
		t.Errorf("the group's own matchers show a warning: %q", bs["preview_warning"])
	}

	// Wider: every DiskFull, the staging one included.
	wide := inputs{render.PreviewMatchersID: `alertname="DiskFull"`, render.PreviewEndID: "2h"}
	v = p.edit(t, v, wide, render.PreviewMatchersID)
	bs = viewBlocks(t, v)
	if got := previewCount(t, v); got != 3 {
		t.Errorf("count after widening = %d, want 3", got)
	}
	if !strings.Contains(bs["preview_warning"], "1 of the 3 alerts matched lies outside this alert group") {
		t.Errorf("warning = %q", bs["preview_warning"])
	}
	if !strings.Contains(bs["preview_alerts"], `cluster="staging"`) {
		t.Errorf("alerts listed = %q, want the staging one", bs["preview_alerts"])
	}
	if _, ok := bs[render.PreviewConfirmID]; !ok {
		t.Error("no confirm checkbox for a wider silence")
	}
	if got, want := p.submit(t, v, wide), render.PreviewConfirmNeeded(1, true); got[render.PreviewConfirmID] != want {
		t.Errorf("submission without the confirm answered %v, want %q on the confirm", got, want)
	}
	changed := inputs{render.PreviewMatchersID: `alertname="DiskFull", instance="db-1"`, render.PreviewEndID: "2h", render.PreviewConfirmID: render.PreviewConfirmValue}
	if got := p.submit(t, v, changed); got[render.PreviewMatchersID] != render.PreviewMatchersChanged {
		t.Errorf("submission of matchers not previewed answered %v, want %q", got, render.PreviewMatchersChanged)
	}
	if n := len(am.ActiveSilences(t)); n != 0 {
		t.Fatalf("%d silences created by refused submissions", n)
	}

	// Narrower, through the Refresh preview button: one alert of the group.
	one := inputs{render.PreviewMatchersID: `alertname="DiskFull", instance="db-1"`, render.PreviewEndID: "90m", render.PreviewCommentID: "swapping the disk"}
	v = p.edit(t, v, one, render.PreviewRefreshID)
	counted := previewCount(t, v)
	if counted != 1 {
		t.Errorf("count after narrowing = %d, want 1", counted)
	}
	if errs := p.submit(t, v, one); errs != nil {
		t.Fatalf("submission answered %v", errs)
	}
	if got := p.sink.next(t); !strings.HasPrefix(got, "Silenced 1 alert until ") || !strings.Contains(got, bobTZ) {
		t.Errorf("reply = %q", got)
	}
	st := getGroup(t, p.groups).State
	mark, ok := st.SilencedAlerts[fpDB1]
	if !ok || st.Silenced != nil || len(st.SilencedAlerts) != 1 || mark.By.ID != "U0002BOB" {
		t.Fatalf("state = %+v, want db-1 silenced alone", st)
	}
	s := am.Silence(t, mark.SilenceID)
	if d := s.EndsAt.Sub(s.StartsAt); d > 90*time.Minute || d < 90*time.Minute-5*time.Second {
		t.Errorf("silence lasts %v, want 90m", d)
	}
	if !strings.HasSuffix(s.Comment, "\nswapping the disk") || s.CreatedBy != "slack:bob (U0002BOB)" {
		t.Errorf("silence = %+v", s)
	}
	suppressedBy(t, am, mark.SilenceID, counted)

	// The whole group and beyond, confirmed, from a new preview.
	v = p.open(t, ActionSilenceCustom, CustomSilence)
	v = p.edit(t, v, wide, render.PreviewMatchersID)
	counted = previewCount(t, v)
	confirmed := inputs{render.PreviewMatchersID: `alertname="DiskFull"`, render.PreviewEndID: "2h", render.PreviewConfirmID: render.PreviewConfirmValue}
	if errs := p.submit(t, v, confirmed); errs != nil {
		t.Fatalf("confirmed submission answered %v", errs)
	}
	if got := p.sink.next(t); !strings.HasPrefix(got, "Silenced 3 alerts until ") {
		t.Errorf("reply = %q", got)
	}
	g := getGroup(t, p.groups)
	if g.State.Silenced == nil || g.State.Silenced.SilenceID == "" {
		t.Fatalf("state = %+v, want the group silenced", g.State)
	}
	suppressedBy(t, am, g.State.Silenced.SilenceID, counted)
	if got := p.refresh.count(); got != 2 {
		t.Errorf("messages refreshed %d times, want once per silence", got)
	}
}

// TestPreviewKeepsToRule checks that the silence rule holds for a silence
// from the preview: the preview says why it refuses matchers that leave a
// label of the rule open, and the submission is refused for the same
// reason, although the group's own labels pass the rule.
func TestPreviewKeepsToRule(t *testing.T) {
	rule := Rule{Matchers: []string{`cluster="prod"`}}
	ms, err := labels.ParseMatchers(rule.Matchers[0])
	if err != nil {
		t.Fatal(err)
	}
	rule.ParsedMatchers = ms
	am := &fakeAM{}
	for _, a := range loadMessage(t).Alerts {
		am.alerts = append(am.alerts, amclientAlert(a.Labels, a.Fingerprint))
	}
	p := newPreviewEnv(t, Options{Silences: am, Silence: rule})
	seedGroup(t, p.groups.Groups, nil)

	v := p.open(t, ActionSilenceCustom, CustomSilence)
	if got := viewBlocks(t, v)["preview_refusal"]; got != "" {
		t.Errorf("the group's own matchers are refused: %q", got)
	}
	open := inputs{render.PreviewMatchersID: `alertname="DiskFull"`, render.PreviewEndID: "1h"}
	v = p.edit(t, v, open, render.PreviewMatchersID)
	reason := render.RuleForbidsAlertsReason
	if got := viewBlocks(t, v)["preview_refusal"]; !strings.Contains(got, render.EscapeMrkdwn(reason)) {
		t.Errorf("refusal shown = %q, want %q", got, reason)
	}
	if errs := p.submit(t, v, open); errs != nil {
		t.Fatalf("submission answered %v", errs)
	}
	if got := p.sink.next(t); got != render.EscapeMrkdwn(reason) {
		t.Errorf("reply = %q, want %q", got, reason)
	}
	if n := len(am.creates()); n != 0 {
		t.Errorf("%d silences created against the rule", n)
	}
	if got := p.counter(t, "silence", DecisionDenied); got != 1 {
		t.Errorf("denied silences counted = %v, want 1", got)
	}
}
