package interact

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// holdGroups holds the first Update until release closes, after telling
// entered, so that a test can change the group between an action's read
// and its write.
type holdGroups struct {
	Groups
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (h *holdGroups) Update(ctx context.Context, key alertgroup.Key, fn func(g *alertgroup.Group, found bool) error) (alertgroup.Group, error) {
	h.once.Do(func() {
		h.entered <- struct{}{}
		<-h.release
	})
	return h.Groups.Update(ctx, key, fn)
}

// deliverResolved stores a resolved notification of the seeded group the
// way the sender records one: the message, its status and ResolvedAt
// change, and what people did stays.
func deliverResolved(t testing.TB, st Groups, at time.Time) {
	t.Helper()
	g := getGroup(t, st)
	_, err := st.Update(t.Context(), g.Key, func(cur *alertgroup.Group, _ bool) error {
		m := *cur.Message
		data := *m.Data
		data.Status = alertgroup.StatusResolved
		data.Alerts = slices.Clone(data.Alerts)
		for i := range data.Alerts {
			data.Alerts[i].Status = alertgroup.StatusResolved
			data.Alerts[i].EndsAt = at
			cur.Alerts[data.Alerts[i].Fingerprint] = alertgroup.StatusResolved
		}
		m.Data = &data
		cur.Message = &m
		cur.Status = alertgroup.StatusResolved
		cur.UpdatedAt, cur.NotifiedAt, cur.ResolvedAt = at, at, at
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// deliverFiringAgain stores a firing notification of the group after it
// resolved, the way the sender records one: a new message, with nothing
// that people did to the old one.
func deliverFiringAgain(t testing.TB, st Groups, key alertgroup.Key, at time.Time) {
	t.Helper()
	_, err := st.Update(t.Context(), key, func(cur *alertgroup.Group, _ bool) error {
		cur.TS = "1764429999.000200"
		cur.Message = loadMessage(t)
		cur.Status = alertgroup.StatusFiring
		cur.State = alertgroup.State{}
		cur.FirstAt, cur.UpdatedAt, cur.NotifiedAt = at, at, at
		cur.ResolvedAt = time.Time{}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAckRacingResolve checks that an acknowledgement whose click read the
// group firing, but which records after a resolved notification, leaves the
// group resolved and unacknowledged, takes back its ACK! silence and tells
// the clicker.
func TestAckRacingResolve(t *testing.T) {
	now := time.Date(2025, 11, 29, 16, 40, 0, 0, time.UTC)
	resolvedAt := now.Add(-time.Second)
	tests := []struct {
		name string
		// hold is where the acknowledgement waits while the resolved
		// notification lands: "create" in CreateSilence, before the
		// silence exists; "update" after it exists, before the store
		// records the acknowledgement.
		hold       string
		firesAgain bool
		expireErr  error
		wantReply  string
		decision   string
		wantGroup  func(t *testing.T, g alertgroup.Group)
	}{
		{
			name: "resolved before the silence exists", hold: "create",
			wantReply: "This alert group resolved at 2025-11-29 16:39 UTC while amslack was acknowledging it; nothing was done.",
			decision:  DecisionDenied,
		},
		{
			name: "resolved between the silence and its record", hold: "update",
			wantReply: render.AckResolvedMeanwhileReply(resolvedAt), decision: DecisionDenied,
		},
		{
			name: "resolved and fired again in a new message", hold: "update", firesAgain: true,
			wantReply: render.AckResolvedMeanwhileReply(time.Time{}), decision: DecisionDenied,
		},
		{
			name: "silence cannot be taken back", hold: "update", expireErr: errors.New("alertmanager down"),
			wantReply: render.AckResolvedExpireFailedReply(resolvedAt, "silence-1", errors.New("alertmanager down"), true),
			decision:  DecisionFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			am := &fakeAM{}
			groups := &holdGroups{Groups: openStore(t), entered: make(chan struct{}), release: make(chan struct{})}
			if tt.hold == "create" {
				am.inCreate, am.release = make(chan struct{}), make(chan struct{})
				groups.once.Do(func() {}) // hold nothing in the store
			}
			e := newEnv(t, Options{Silences: am, Groups: groups, Now: func() time.Time { return now }})
			g := seedGroup(t, groups.Groups, nil)

			e.post(t, clickSpec{action: ActionAck, responseURL: e.sink.url("x")})
			switch tt.hold {
			case "create":
				<-am.inCreate
			case "update":
				<-groups.entered
			}
			deliverResolved(t, groups.Groups, resolvedAt)
			if tt.firesAgain {
				deliverFiringAgain(t, groups.Groups, g.Key, now)
			}
			if tt.expireErr != nil {
				am.mu.Lock()
				am.err = tt.expireErr
				am.mu.Unlock()
			}
			switch tt.hold {
			case "create":
				close(am.release)
			case "update":
				close(groups.release)
			}

			if got := e.sink.next(t); got != tt.wantReply {
				t.Errorf("reply = %q, want %q", got, tt.wantReply)
			}
			if got := e.counter(t, kindAck, tt.decision); got != 1 {
				t.Errorf("amslack_interactions_total{action=ack,decision=%s} = %v, want 1", tt.decision, got)
			}
			got, err := groups.Groups.Update(t.Context(), g.Key, func(*alertgroup.Group, bool) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if tt.firesAgain {
				if got.Status != alertgroup.StatusFiring || got.State.Acked != nil {
					t.Errorf("new episode: status %s, acked %+v; want firing, unacknowledged", got.Status, got.State.Acked)
				}
			} else if got.Status != alertgroup.StatusResolved || got.Message.Status != alertgroup.StatusResolved {
				t.Errorf("group status %s, message status %s; want resolved", got.Status, got.Message.Status)
			}
			if tt.expireErr == nil && got.State.Acked != nil {
				t.Errorf("acknowledgement recorded after the resolve: %+v", got.State.Acked)
			}
			if n := e.refresh.count(); n != 0 {
				t.Errorf("refreshes = %d, want none: the acknowledgement changed nothing", n)
			}
			if len(am.creates()) != 1 {
				t.Fatalf("silences created: %+v", am.creates())
			}
			am.mu.Lock()
			expired := slices.Clone(am.expired)
			am.mu.Unlock()
			if tt.expireErr == nil && !slices.Equal(expired, []string{"silence-1"}) {
				t.Errorf("expired silences %v, want the ACK! silence silence-1", expired)
			}
			if tt.expireErr != nil {
				// The silence could not be expired now: the resolved group
				// keeps it, so that the reconciler expires it.
				if a := got.State.Acked; a == nil || a.SilenceID != "silence-1" {
					t.Fatalf("acknowledgement = %+v, want the stray silence kept for the reconciler", got.State.Acked)
				}
				am.mu.Lock()
				am.err = nil
				am.mu.Unlock()
				if err := e.h.Reconcile(t.Context()); err != nil {
					t.Fatal(err)
				}
				am.mu.Lock()
				expired = slices.Clone(am.expired)
				am.mu.Unlock()
				if !slices.Equal(expired, []string{"silence-1"}) {
					t.Errorf("expired silences after reconcile %v, want silence-1", expired)
				}
			}
		})
	}
}
