package interact

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/redisstore"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/render"
)

// testPolicy escalates critical groups to the on-call group after 5m and
// to the lead, also in the channel, after 15m.
var testPolicy = &Escalation{
	Severities: []string{"critical"},
	Steps: []EscalationStep{
		{After: 5 * time.Minute, Mention: "<!subteam^S0ONCALL>"},
		{After: 15 * time.Minute, Mention: "<@U0LEAD>", Broadcast: true},
	},
}

// setClock sets c to t.
func setClock(c *testClock, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// escalationRefresher records the notes of the refreshes; while err is set it
// refuses them, as an outbox that cannot write does.
type escalationRefresher struct {
	mu    sync.Mutex
	notes []string
	err   error
}

func (r *escalationRefresher) Refresh(_ context.Context, _ alertgroup.Key, _ string, notes ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.notes = append(r.notes, notes...)
	return nil
}

// take returns the notes recorded since the last take.
func (r *escalationRefresher) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.notes
	r.notes = nil
	return n
}

// newEscalator returns a Handler that escalates groups of st by
// testPolicy, on clock's time, through r. Its loop is not run: tests call
// Escalate.
func newEscalator(t *testing.T, st Groups, clock *testClock, r Refresher) *Handler {
	t.Helper()
	h, err := New(Options{
		SigningSecret: testSecret, Groups: st, Refresher: r, Now: clock.Now,
		Escalation: func(route string) *Escalation {
			if route != "default" {
				return nil
			}
			return testPolicy
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// escalateAt runs one pass at firstAt+after and returns the notes posted.
func escalateAt(t *testing.T, h *Handler, clock *testClock, r *escalationRefresher, firstAt time.Time, after time.Duration) []string {
	t.Helper()
	setClock(clock, firstAt.Add(after))
	if err := h.Escalate(t.Context()); err != nil {
		t.Fatalf("Escalate at +%s: %v", after, err)
	}
	return r.take()
}

// Notes of testPolicy's steps about the fixture's group.
var (
	onCallNote = render.UrgentNote("📣 Escalated to <!subteam^S0ONCALL>: DiskFull has been firing for 5m, unacknowledged", false)
	leadNote   = render.UrgentNote("📣 Escalated to <@U0LEAD>: DiskFull has been firing for 15m, unacknowledged", true)
)

func TestEscalationStepsFireInOrderOnce(t *testing.T) {
	st := openStore(t)
	// The fixture has a critical and a warning alert: the group is
	// critical.
	g := seedGroup(t, st, nil)
	clock := &testClock{}
	r := &escalationRefresher{}
	h := newEscalator(t, st, clock, r)

	for _, tc := range []struct {
		after time.Duration
		want  []string
	}{
		{0, nil},
		{5*time.Minute - time.Second, nil},
		{5 * time.Minute, []string{onCallNote}},
		{5*time.Minute + time.Second, nil},
		{14 * time.Minute, nil},
		{15 * time.Minute, []string{leadNote}},
		{time.Hour, nil},
	} {
		if got := escalateAt(t, h, clock, r, g.FirstAt, tc.after); !slices.Equal(got, tc.want) {
			t.Errorf("notes at +%s = %q, want %q", tc.after, got, tc.want)
		}
	}
	want := []alertgroup.Escalation{
		{Step: 0, Mention: "<!subteam^S0ONCALL>", At: g.FirstAt.Add(5 * time.Minute)},
		{Step: 1, Mention: "<@U0LEAD>", At: g.FirstAt.Add(15 * time.Minute)},
	}
	if got := getGroup(t, st).State.Escalated; !slices.EqualFunc(got, want, escalationEqual) {
		t.Errorf("Escalated = %+v, want %+v", got, want)
	}
}

func escalationEqual(a, b alertgroup.Escalation) bool {
	return a.Step == b.Step && a.Mention == b.Mention && a.At.Equal(b.At)
}

func TestEscalationSkipsOtherGroups(t *testing.T) {
	for name, mutate := range map[string]func(g *alertgroup.Group){
		"warning": func(g *alertgroup.Group) {
			for i := range g.Message.Alerts {
				g.Message.Alerts[i].Labels["severity"] = "warning"
			}
		},
		"other route": func(g *alertgroup.Group) { g.Route = "other" },
		"no message":  func(g *alertgroup.Group) { g.TS = "" },
	} {
		t.Run(name, func(t *testing.T) {
			st := openStore(t)
			g := seedGroup(t, st, mutate)
			clock := &testClock{}
			r := &escalationRefresher{}
			h := newEscalator(t, st, clock, r)
			if got := escalateAt(t, h, clock, r, g.FirstAt, time.Hour); len(got) != 0 {
				t.Errorf("notes = %q, want none", got)
			}
		})
	}
}

// TestEscalationStops checks that an acknowledgement (a click), a silence
// and a resolution end the chain after its first step.
func TestEscalationStops(t *testing.T) {
	t.Run("ack", func(t *testing.T) {
		clock := &testClock{}
		e := newEnv(t, Options{AckMode: AckModeState, Now: clock.Now, EscalationInterval: -1})
		g := seedGroup(t, e.groups.Groups, nil)
		setClock(clock, g.FirstAt)
		r := &escalationRefresher{}
		h := newEscalator(t, e.groups, clock, r)
		if got := escalateAt(t, h, clock, r, g.FirstAt, 5*time.Minute); !slices.Equal(got, []string{onCallNote}) {
			t.Fatalf("notes at +5m = %q", got)
		}
		e.post(t, clickSpec{action: "ack", responseURL: e.sink.url("1")})
		if got := e.sink.next(t); got != "Acknowledged." {
			t.Fatalf("ack reply = %q", got)
		}
		if got := escalateAt(t, h, clock, r, g.FirstAt, time.Hour); len(got) != 0 {
			t.Errorf("notes after the ack = %q, want none", got)
		}
		if got := getGroup(t, e.groups).State.Escalated; len(got) != 1 {
			t.Errorf("Escalated = %+v, want the first step only", got)
		}
	})
	for name, end := range map[string]func(g *alertgroup.Group){
		// As the silence action records a silence of the whole group.
		"silence": func(g *alertgroup.Group) {
			g.State.Silenced = &alertgroup.Mark{By: alertgroup.User{ID: "U0001ALICE"}, At: g.FirstAt, SilenceID: "s1"}
		},
		// As the sender records a resolved notification.
		"resolve": func(g *alertgroup.Group) {
			g.Status = alertgroup.StatusResolved
			g.Message.Status = alertgroup.StatusResolved
			g.ResolvedAt = g.FirstAt.Add(6 * time.Minute)
		},
	} {
		t.Run(name, func(t *testing.T) {
			st := openStore(t)
			g := seedGroup(t, st, nil)
			clock := &testClock{}
			r := &escalationRefresher{}
			h := newEscalator(t, st, clock, r)
			if got := escalateAt(t, h, clock, r, g.FirstAt, 5*time.Minute); !slices.Equal(got, []string{onCallNote}) {
				t.Fatalf("notes at +5m = %q", got)
			}
			if _, err := st.Update(t.Context(), g.Key, func(g *alertgroup.Group, _ bool) error { end(g); return nil }); err != nil {
				t.Fatal(err)
			}
			if got := escalateAt(t, h, clock, r, g.FirstAt, time.Hour); len(got) != 0 {
				t.Errorf("notes after the %s = %q, want none", name, got)
			}
		})
	}
}

// TestEscalationAfterRestart fires the first step, then lets a new Handler
// on the same store take over: it fires the second step once and the first
// not again.
func TestEscalationAfterRestart(t *testing.T) {
	st := openStore(t)
	g := seedGroup(t, st, nil)
	clock := &testClock{}
	r := &escalationRefresher{}
	if got := escalateAt(t, newEscalator(t, st, clock, r), clock, r, g.FirstAt, 6*time.Minute); !slices.Equal(got, []string{onCallNote}) {
		t.Fatalf("notes before the restart = %q", got)
	}
	h := newEscalator(t, st, clock, r)
	for _, after := range []time.Duration{7 * time.Minute, 16 * time.Minute, 17 * time.Minute} {
		got := escalateAt(t, h, clock, r, g.FirstAt, after)
		var want []string
		if after == 16*time.Minute {
			want = []string{leadNote}
		}
		if !slices.Equal(got, want) {
			t.Errorf("notes after the restart at +%s = %q, want %q", after, got, want)
		}
	}
}

// TestEscalationRefreshFails checks that a step whose reply the outbox
// refused is not recorded, and fires on the next pass.
func TestEscalationRefreshFails(t *testing.T) {
	st := openStore(t)
	g := seedGroup(t, st, nil)
	clock := &testClock{}
	r := &escalationRefresher{err: errors.New("disk full")}
	h := newEscalator(t, st, clock, r)
	setClock(clock, g.FirstAt.Add(5*time.Minute))
	if err := h.Escalate(t.Context()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Escalate with a failing outbox = %v, want its error", err)
	}
	if got := getGroup(t, st).State.Escalated; len(got) != 0 {
		t.Fatalf("Escalated after the failure = %+v, want none", got)
	}
	r.mu.Lock()
	r.err = nil
	r.mu.Unlock()
	if got := escalateAt(t, h, clock, r, g.FirstAt, 6*time.Minute); !slices.Equal(got, []string{onCallNote}) {
		t.Errorf("notes on the next pass = %q, want the first step's", got)
	}
}

// TestEscalationReplicas runs two Handlers, as two replicas, on one Redis
// store, each passing several times at once: each step fires exactly once.
func TestEscalationReplicas(t *testing.T) {
	prefix := storetest.RedisPrefix(t, storetest.RedisClient(t))
	var (
		clock = &testClock{}
		rs    [2]*escalationRefresher
		hs    [2]*Handler
		stA   Groups
	)
	for i := range hs {
		// A client each, as two replicas have.
		st := redisstore.New(storetest.RedisClient(t), prefix)
		if i == 0 {
			stA = st
		}
		rs[i] = &escalationRefresher{}
		hs[i] = newEscalator(t, st, clock, rs[i])
	}
	g := seedGroup(t, stA, nil)
	for _, after := range []time.Duration{5 * time.Minute, 15 * time.Minute} {
		setClock(clock, g.FirstAt.Add(after))
		var wg sync.WaitGroup
		errs := make(chan error, 2*8)
		for _, h := range hs {
			for range 8 {
				wg.Go(func() { errs <- h.Escalate(t.Context()) })
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("Escalate at +%s: %v", after, err)
			}
		}
	}
	got := append(rs[0].take(), rs[1].take()...)
	slices.Sort(got)
	want := []string{onCallNote, leadNote}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("notes of both replicas = %q, want each step's once: %q", got, want)
	}
}
