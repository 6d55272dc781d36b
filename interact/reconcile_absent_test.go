package interact

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
)

// absentClock is a test clock that the test goroutine moves; Reconcile runs
// on that goroutine too.
type absentClock struct{ t time.Time }

func (c *absentClock) now() time.Time { return c.t }

// reconcileAt runs one pass at the given time and returns the group after
// it.
func reconcileAt(t *testing.T, e *env, clock *absentClock, at time.Time) alertgroup.Group {
	t.Helper()
	clock.t = at
	if err := e.h.Reconcile(t.Context()); err != nil {
		t.Fatalf("Reconcile() at %v: %v", at, err)
	}
	return getGroup(t, e.groups)
}

// TestReconcileResolvesAfterResolveTimeout: when Alertmanager cannot say
// when it started, a group is resolved only once Alertmanager has listed none
// of its alerts for the resolve timeout (5m by default), counted from the
// first pass that found them absent, restarted when they come back, and kept
// in the store across restarts of amslack.
func TestReconcileResolvesAfterResolveTimeout(t *testing.T) {
	t0 := time.Date(2025, 11, 29, 14, 0, 0, 0, time.UTC)
	clock := &absentClock{t: t0}
	am := &fakeAM{}
	e := newEnv(t, Options{Silences: am, Now: clock.now, Workers: -1})
	seedGroup(t, e.groups.Groups, func(g *alertgroup.Group) {
		g.State.Acked = &alertgroup.Mark{By: alertgroup.User{ID: "U0002BOB", Name: "bob"}, At: t0, Until: t0.Add(15 * time.Minute), SilenceID: "ack-1"}
	})
	firing := func(at time.Time, what string) {
		t.Helper()
		g := reconcileAt(t, e, clock, at)
		if g.Status != alertgroup.StatusFiring || g.State.Acked == nil || g.State.Acked.SilenceID != "ack-1" {
			t.Fatalf("%s: status %s, acknowledgement %+v; want firing and acknowledged with ack-1", what, g.Status, g.State.Acked)
		}
		am.mu.Lock()
		defer am.mu.Unlock()
		if len(am.expired) != 0 {
			t.Fatalf("%s: silences expired: %v", what, am.expired)
		}
	}

	firing(t0, "first pass without alerts")
	firing(t0.Add(4*time.Minute+59*time.Second), "absent for 4m59s")

	// The alerts are back: the count starts again when they go.
	am.mu.Lock()
	am.alerts = []amclient.Alert{{Labels: map[string]string{"alertname": "DiskFull"}, Fingerprint: "f1"}}
	am.mu.Unlock()
	firing(t0.Add(5*time.Minute), "alerts listed again")
	am.mu.Lock()
	am.alerts = nil
	am.mu.Unlock()
	firing(t0.Add(6*time.Minute), "absent again")

	// amslack restarts: a new handler on the same store keeps counting
	// from the pass at 6m.
	groups := e.groups
	e.stop()
	e = newEnv(t, Options{Groups: groups, Silences: am, Now: clock.now, Workers: -1})
	e.groups = groups
	firing(t0.Add(10*time.Minute+59*time.Second), "absent for 4m59s across a restart of amslack")

	g := reconcileAt(t, e, clock, t0.Add(11*time.Minute))
	if g.Status != alertgroup.StatusResolved || !g.ResolvedAt.Equal(t0.Add(11*time.Minute)) {
		t.Errorf("absent for 5m: status %s, resolved at %v; want resolved at %v", g.Status, g.ResolvedAt, t0.Add(11*time.Minute))
	}
	if a := g.State.Acked; a == nil || a.SilenceID != "" {
		t.Errorf("acknowledgement = %+v, want the mark kept without its silence", a)
	}
	am.mu.Lock()
	expired := slices.Clone(am.expired)
	am.mu.Unlock()
	if !slices.Equal(expired, []string{"ack-1"}) {
		t.Errorf("expired silences = %v, want [ack-1]", expired)
	}
	if got := testutil.ToFloat64(e.h.metrics.reconciled.WithLabelValues("resolved")); got != 1 {
		t.Errorf("reconcile_changes_total{change=resolved} = %v, want 1", got)
	}
}

// statusErrAM is a fake Alertmanager whose GET /api/v2/status fails.
type statusErrAM struct {
	*fakeAM
	err error
}

func (f statusErrAM) StartedAt(context.Context) (time.Time, error) { return time.Time{}, f.err }

// TestReconcileAbsenceAndAlertmanagerStart: an empty alert list proves
// resolution once Alertmanager has run for the resolve timeout, however the
// absence was counted before; when Alertmanager's start time cannot be
// read, the absence's own length decides, counted from the latest
// notification if one came after the absence was noticed.
func TestReconcileAbsenceAndAlertmanagerStart(t *testing.T) {
	t0 := time.Date(2025, 11, 29, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		// started is Alertmanager's start time; zero when it cannot tell.
		started   time.Time
		statusErr error
		// absentSince and notifiedAt are stored before the first pass.
		absentSince, notifiedAt time.Time
		// passes are the times of the passes; resolvedAt is the first
		// that resolves the group, zero for none.
		passes     []time.Time
		resolvedAt time.Time
		errs       int // reconcile errors counted
	}{
		{
			name:    "Alertmanager up for longer than the resolve timeout",
			started: t0.Add(-time.Hour), passes: []time.Time{t0}, resolvedAt: t0,
		},
		{
			name:    "Alertmanager restarted: an old absence proves nothing",
			started: t0.Add(-10 * time.Second), absentSince: t0.Add(-time.Hour),
			passes:     []time.Time{t0, t0.Add(4*time.Minute + 49*time.Second), t0.Add(4*time.Minute + 50*time.Second)},
			resolvedAt: t0.Add(4*time.Minute + 50*time.Second),
		},
		{
			name:      "start time unreadable: the absence's length decides",
			statusErr: errors.New("alertmanager answered 403 Forbidden"),
			passes:    []time.Time{t0, t0.Add(4*time.Minute + 59*time.Second), t0.Add(5 * time.Minute)},
			// One error per pass, not per group.
			resolvedAt: t0.Add(5 * time.Minute), errs: 3,
		},
		{
			name:        "a notification after the absence began restarts the count",
			absentSince: t0.Add(-time.Hour), notifiedAt: t0.Add(-time.Minute),
			passes:     []time.Time{t0, t0.Add(3*time.Minute + 59*time.Second), t0.Add(4 * time.Minute)},
			resolvedAt: t0.Add(4 * time.Minute),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &absentClock{t: t0}
			fake := &fakeAM{started: tt.started}
			var am Silencer = fake
			if tt.statusErr != nil {
				am = statusErrAM{fakeAM: fake, err: tt.statusErr}
			}
			e := newEnv(t, Options{Silences: am, Now: clock.now, Workers: -1})
			seedGroup(t, e.groups.Groups, func(g *alertgroup.Group) {
				g.State.Acked = &alertgroup.Mark{By: alertgroup.User{ID: "U0002BOB", Name: "bob"}, At: t0, Until: t0.Add(15 * time.Minute), SilenceID: "ack-1"}
				g.AbsentSince, g.NotifiedAt = tt.absentSince, tt.notifiedAt
			})
			for _, at := range tt.passes {
				clock.t = at
				err := e.h.Reconcile(t.Context())
				if (err != nil) != (tt.statusErr != nil) {
					t.Fatalf("Reconcile() at %v = %v", at, err)
				}
				if err != nil && !strings.Contains(err.Error(), "read when Alertmanager started: "+tt.statusErr.Error()) {
					t.Errorf("Reconcile() error = %v, want it to name the status read", err)
				}
				g := getGroup(t, e.groups)
				fake.mu.Lock()
				expired := slices.Clone(fake.expired)
				fake.mu.Unlock()
				if at.Before(tt.resolvedAt) || tt.resolvedAt.IsZero() {
					if g.Status != alertgroup.StatusFiring || len(expired) != 0 || g.AbsentSince.IsZero() {
						t.Fatalf("at %v: status %s, expired %v, absent since %v; want firing, nothing expired, absence noted", at, g.Status, expired, g.AbsentSince)
					}
					continue
				}
				if g.Status != alertgroup.StatusResolved || !g.ResolvedAt.Equal(at) || !slices.Equal(expired, []string{"ack-1"}) || !g.AbsentSince.IsZero() {
					t.Fatalf("at %v: status %s resolved at %v, expired %v, absent since %v; want resolved then with ack-1 expired", at, g.Status, g.ResolvedAt, expired, g.AbsentSince)
				}
				break
			}
			if got := testutil.ToFloat64(e.h.metrics.reconcileErr); got != float64(tt.errs) {
				t.Errorf("reconcile_errors_total = %v, want %d", got, tt.errs)
			}
		})
	}
}
