package interact

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/amtest"
)

// startAlertmanager runs a real Alertmanager holding the fixture's alerts.
func startAlertmanager(t *testing.T) (*amtest.Alertmanager, *amclient.Client, []map[string]string) {
	t.Helper()
	am := amtest.Start(t)
	c, err := amclient.New(am.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sets []map[string]string
	for _, a := range loadMessage(t).Alerts {
		sets = append(sets, a.Labels)
		am.PostAlerts(t, amtest.Alert{Labels: a.Labels})
	}
	return am, c, sets
}

func matcherSet(ms []amtest.Matcher) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		if m.IsRegex || (m.IsEqual != nil && !*m.IsEqual) {
			out[m.Name] = "<not an equality matcher>"
			continue
		}
		out[m.Name] = m.Value
	}
	return out
}

func TestAlertmanagerActions(t *testing.T) {
	am, c, _ := startAlertmanager(t)
	e := newEnv(t, Options{Silences: c})
	seedGroup(t, e.groups.Groups, nil)
	common := map[string]string{"alertname": "DiskFull", "cluster": "prod"}
	bob := func(action, value, name string) clickSpec {
		return clickSpec{action: action, value: value, user: "U0002BOB", name: "bob", responseURL: e.sink.url(name)}
	}

	// Silence.
	e.post(t, bob("silence", "4h", "s"))
	if got := e.sink.next(t); !strings.HasPrefix(got, "Silenced for 4h, until ") {
		t.Fatalf("silence reply = %q", got)
	}
	mark := getGroup(t, e.groups).State.Silenced
	if mark == nil || mark.SilenceID == "" || mark.By.ID != "U0002BOB" {
		t.Fatalf("silenced mark = %+v", mark)
	}
	s := am.Silence(t, mark.SilenceID)
	if s.Status.State != "active" || s.CreatedBy != "slack:bob (U0002BOB)" ||
		s.Comment != "Silenced from Slack: https://example.slack.com/archives/C0001ALERTS/p1764425522000100" {
		t.Errorf("silence = %+v", s)
	}
	if diff := cmp.Diff(matcherSet(s.Matchers), common); diff != "" {
		t.Errorf("silence matchers (-got +want):\n%s", diff)
	}
	if d := s.EndsAt.Sub(s.StartsAt); d > 4*time.Hour || d < 4*time.Hour-5*time.Second {
		t.Errorf("silence lasts %v, want 4h", d)
	}
	for _, a := range am.Alerts(t, `alertname="DiskFull"`) {
		if !slices.Contains(a.Status.SilencedBy, mark.SilenceID) {
			t.Errorf("alert %v not silenced by %s: %+v", a.Labels, mark.SilenceID, a.Status)
		}
	}

	// Unsilence.
	e.post(t, bob("unsilence", "", "u"))
	if got, want := e.sink.next(t), "Silence "+mark.SilenceID+" expired."; got != want {
		t.Errorf("unsilence reply = %q, want %q", got, want)
	}
	if st := am.Silence(t, mark.SilenceID).Status.State; st != "expired" {
		t.Errorf("silence state after unsilence = %q", st)
	}
	if m := getGroup(t, e.groups).State.Silenced; m != nil {
		t.Errorf("still marked silenced: %+v", m)
	}

	// Acknowledge.
	e.post(t, bob("ack", "", "a"))
	if got := e.sink.next(t); !strings.HasPrefix(got, "Acknowledged. The alerts are silenced for 15m") {
		t.Errorf("ack reply = %q", got)
	}
	ack := getGroup(t, e.groups).State.Acked
	if ack == nil || ack.SilenceID == "" {
		t.Fatalf("acked mark = %+v", ack)
	}
	s = am.Silence(t, ack.SilenceID)
	if s.Status.State != "active" || !strings.HasPrefix(s.Comment, "ACK! ") {
		t.Errorf("ack silence = %+v", s)
	}
	if d := s.EndsAt.Sub(s.StartsAt); d > 15*time.Minute || d < 15*time.Minute-5*time.Second {
		t.Errorf("ack silence lasts %v, want 15m", d)
	}

	// Unacknowledge.
	e.post(t, bob("unack", "", "n"))
	if got := e.sink.next(t); got != "Acknowledgement removed." {
		t.Errorf("unack reply = %q", got)
	}
	if st := am.Silence(t, ack.SilenceID).Status.State; st != "expired" {
		t.Errorf("ack silence state after unack = %q", st)
	}
	if a := getGroup(t, e.groups).State.Acked; a != nil {
		t.Errorf("still acked: %+v", a)
	}
	if got := len(am.ActiveSilences(t)); got != 0 {
		t.Errorf("%d silences still active", got)
	}
	if got := e.refresh.count(); got != 4 {
		t.Errorf("refreshes = %d, want 4", got)
	}
}

func TestReconcileAgainstAlertmanager(t *testing.T) {
	am, c, sets := startAlertmanager(t)
	// A one-minute ack is within two (hour-long) intervals of its end, so
	// the first pass extends it; the loop itself never ticks in the test.
	// The Alertmanager started a moment ago: a resolve timeout shorter than
	// that lets its empty alert list count as resolution.
	e := newEnv(t, Options{Silences: c, AckDuration: time.Minute, ReconcileInterval: time.Hour, ResolveTimeout: time.Millisecond})
	seedGroup(t, e.groups.Groups, nil)
	e.post(t, clickSpec{action: "ack", responseURL: e.sink.url("a")})
	e.sink.next(t)
	first := getGroup(t, e.groups).State.Acked
	if first == nil || first.SilenceID == "" {
		t.Fatalf("acked = %+v", first)
	}

	// Still firing: the ack silence is extended.
	if err := e.h.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	ext := getGroup(t, e.groups).State.Acked
	if !ext.Until.After(first.Until) {
		t.Errorf("ack until %v not after %v", ext.Until, first.Until)
	}
	s := am.Silence(t, ext.SilenceID)
	if s.Status.State != "active" || !strings.HasPrefix(s.Comment, "ACK! ") || s.EndsAt.Sub(ext.Until).Abs() > time.Millisecond {
		t.Errorf("extended silence = %+v, want active until %v", s, ext.Until)
	}
	if active := am.ActiveSilences(t); len(active) != 1 {
		t.Errorf("active silences = %d, want 1 (a replaced one is expired)", len(active))
	}
	if g := getGroup(t, e.groups); g.Status != alertgroup.StatusFiring {
		t.Errorf("status = %s while alerts fire", g.Status)
	}

	// The alerts resolve while silenced: the group is marked resolved and
	// the ack silence expired.
	am.ResolveAlerts(t, sets...)
	refreshes := e.refresh.count()
	if err := e.h.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	g := getGroup(t, e.groups)
	if g.Status != alertgroup.StatusResolved || g.ResolvedAt.IsZero() {
		t.Errorf("group status %s, resolved at %v", g.Status, g.ResolvedAt)
	}
	for fp, st := range g.Alerts {
		if st != alertgroup.StatusResolved {
			t.Errorf("alert %s is %s", fp, st)
		}
	}
	if st := am.Silence(t, ext.SilenceID).Status.State; st != "expired" {
		t.Errorf("ack silence %s after resolve", st)
	}
	if got := e.refresh.count(); got != refreshes+1 {
		t.Errorf("refreshes = %d, want %d", got, refreshes+1)
	}
	// Resolved groups are left alone.
	if err := e.h.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := e.refresh.count(); got != refreshes+1 {
		t.Errorf("a resolved group was refreshed again")
	}
}
