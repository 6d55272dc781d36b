package interact

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// TestClicksOnResolvedGroup checks that a resolved group is not silenced,
// acknowledged or acted on, and that undoing still works.
func TestClicksOnResolvedGroup(t *testing.T) {
	resolvedAt := time.Date(2025, 11, 29, 16, 31, 0, 0, time.UTC)
	const refused = "This alert group resolved at 2025-11-29 16:31 UTC; nothing was done."
	tests := []struct {
		name      string
		spec      clickSpec
		kind      string
		wantReply string
		decision  string
	}{
		{name: "silence", spec: clickSpec{action: ActionSilence, value: "1h"}, kind: kindSilence, wantReply: refused, decision: DecisionDenied},
		{name: "custom silence", spec: clickSpec{action: ActionSilenceCustom, value: CustomSilence}, kind: kindSilence, wantReply: refused, decision: DecisionDenied},
		{name: "ack", spec: clickSpec{action: ActionAck}, kind: kindAck, wantReply: refused, decision: DecisionDenied},
		{name: "runbook", spec: clickSpec{action: "approve_restart", user: "U0001ALICE", name: "alice"}, kind: kindRunbook, wantReply: refused, decision: DecisionDenied},
		{name: "unsilence", spec: clickSpec{action: ActionUnsilence}, kind: kindUnsilence, wantReply: "Silence sil-1 expired.", decision: DecisionSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			am := &fakeAM{}
			as := newActionServer(t, "action-secret")
			e := newEnv(t, Options{Silences: am, Actions: []Action{{
				ID: "approve_restart", Label: "Approve restart", URL: as.srv.URL,
				Allow: Rule{Users: []string{"U0001ALICE"}}, Secret: "action-secret",
			}}})
			seedGroup(t, e.groups.Groups, func(g *alertgroup.Group) {
				g.Status = alertgroup.StatusResolved
				g.ResolvedAt = resolvedAt
				g.State.Silenced = &alertgroup.Mark{By: alertgroup.User{ID: "U0002BOB"}, At: resolvedAt.Add(-time.Hour), Until: resolvedAt.Add(time.Hour), SilenceID: "sil-1"}
			})
			tt.spec.responseURL = e.sink.url("x")
			e.post(t, tt.spec)
			if diff := cmp.Diff(e.sink.next(t), tt.wantReply); diff != "" {
				t.Errorf("reply (-got +want):\n%s", diff)
			}
			if got := e.counter(t, tt.kind, tt.decision); got != 1 {
				t.Errorf("amslack_interactions_total{action=%s,decision=%s} = %v, want 1", tt.kind, tt.decision, got)
			}
			if tt.decision != DecisionDenied {
				return
			}
			if n := len(am.creates()); n != 0 {
				t.Errorf("silences created: %d", n)
			}
			if calls, _ := as.snapshot(); len(calls) != 0 {
				t.Errorf("internal API calls: %d", len(calls))
			}
			e.slack.mu.Lock()
			views := len(e.slack.views)
			e.slack.mu.Unlock()
			if views != 0 {
				t.Errorf("dialogs opened: %d", views)
			}
			if g := getGroup(t, e.groups); g.State.Acked != nil {
				t.Errorf("resolved group acknowledged: %+v", g.State.Acked)
			}
		})
	}
}
