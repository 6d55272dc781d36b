package interact

import (
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/amtest"
)

// TestReconcileAfterAlertmanagerRestart acknowledges a firing group, then
// restarts the real Alertmanager on the same storage: it comes back with the
// ACK! silence but without the alerts, until Prometheus sends them again.
// An empty alert list then proves nothing, so the group stays firing and
// acknowledged, and the ACK! silence stays active and keeps being extended.
func TestReconcileAfterAlertmanagerRestart(t *testing.T) {
	am, c, sets := startAlertmanager(t)
	// A one-minute ack is within two (hour-long) intervals of its end, so
	// every pass that keeps it extends it; the loop itself never ticks.
	e := newEnv(t, Options{Silences: c, AckDuration: time.Minute, ReconcileInterval: time.Hour})
	seedGroup(t, e.groups.Groups, nil)
	e.post(t, clickSpec{action: "ack", responseURL: e.sink.url("a")})
	e.sink.next(t)
	acked := getGroup(t, e.groups).State.Acked
	if acked == nil || acked.SilenceID == "" {
		t.Fatalf("acked = %+v", acked)
	}

	am.Restart(t)
	if got := am.Alerts(t); len(got) != 0 {
		t.Fatalf("Alertmanager lists %d alerts right after its restart, want none", len(got))
	}
	for pass := range 3 {
		if err := e.h.Reconcile(t.Context()); err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
		g := getGroup(t, e.groups)
		if g.Status != alertgroup.StatusFiring || !g.ResolvedAt.IsZero() || g.AbsentSince.IsZero() {
			t.Fatalf("pass %d: status %s, resolved at %v, absent since %v; want firing with the absence noted", pass, g.Status, g.ResolvedAt, g.AbsentSince)
		}
		a := g.State.Acked
		if a == nil || a.SilenceID == "" {
			t.Fatalf("pass %d: acknowledgement = %+v, want one with its silence", pass, a)
		}
		s := am.Silence(t, a.SilenceID)
		if s.Status.State != "active" || !strings.HasPrefix(s.Comment, "ACK! ") {
			t.Fatalf("pass %d: ACK! silence = %+v, want active", pass, s)
		}
		if !a.Until.After(acked.Until) || s.EndsAt.Sub(a.Until).Abs() > time.Millisecond {
			t.Errorf("pass %d: acknowledgement until %v (silence ends %v), want extended past %v", pass, a.Until, s.EndsAt, acked.Until)
		}
	}
	if n := e.refresh.count(); n != 1+3 {
		t.Errorf("refreshes = %d, want 4 (the ack and three extensions)", n)
	}

	// Prometheus sends the alerts again: nothing changes but the extension.
	for _, ls := range sets {
		am.PostAlerts(t, amtest.Alert{Labels: ls})
	}
	if err := e.h.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	if g := getGroup(t, e.groups); g.Status != alertgroup.StatusFiring || g.State.Acked == nil || g.State.Acked.SilenceID == "" || !g.AbsentSince.IsZero() {
		t.Errorf("after the alerts came back: status %s, acknowledgement %+v, absent since %v", g.Status, g.State.Acked, g.AbsentSince)
	}
	if active := am.ActiveSilences(t); len(active) != 1 || !strings.HasPrefix(active[0].Comment, "ACK! ") {
		t.Errorf("active silences = %+v, want the one ACK! silence", active)
	}
}

var (
	_ Silencer        = (*amclient.Client)(nil)
	_ StartTimeReader = (*amclient.Client)(nil)
)
