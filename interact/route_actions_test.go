package interact

import (
	"strings"
	"testing"
)

// TestActionNotOfferedOnRoute clicks a configured runbook action on a
// message whose route does not offer it.
func TestActionNotOfferedOnRoute(t *testing.T) {
	tests := []struct {
		name      string
		offers    func(route, id string) bool
		wantReply string
		wantCalls int
		decision  string
	}{
		{name: "not offered", offers: func(route, _ string) bool { return route != "default" },
			wantReply: reasonNotOffered, decision: DecisionDenied},
		{name: "offered", offers: func(route, id string) bool { return route == "default" && id == "approve_restart" },
			wantReply: "Approve restart: restart scheduled", wantCalls: 1, decision: DecisionSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newActionServer(t, "action-secret")
			e := newEnv(t, Options{Offers: tt.offers, Actions: []Action{{
				ID: "approve_restart", Label: "Approve restart", URL: as.srv.URL,
				Allow: Rule{Users: []string{"U0001ALICE"}}, Secret: "action-secret",
			}}})
			seedGroup(t, e.groups.Groups, nil) // on the route "default"
			e.post(t, clickSpec{action: "approve_restart", user: "U0001ALICE", name: "alice", responseURL: e.sink.url("x")})
			if got := e.sink.next(t); got != tt.wantReply {
				t.Errorf("reply = %q, want %q", got, tt.wantReply)
			}
			if calls, _ := as.snapshot(); len(calls) != tt.wantCalls {
				t.Errorf("internal API calls = %d, want %d", len(calls), tt.wantCalls)
			}
			entries := e.audit.entries(t)
			if last := entries[len(entries)-1]; last.Decision != tt.decision {
				t.Errorf("last audit line = %+v, want decision %s", last, tt.decision)
			}
			if got := e.counter(t, kindRunbook, tt.decision); got != 1 {
				t.Errorf("amslack_interactions_total{action=runbook,decision=%s} = %v, want 1", tt.decision, got)
			}
		})
	}
}

// TestBuiltinControlsOnEveryRoute checks that the route's actions list
// limits runbook actions only.
func TestBuiltinControlsOnEveryRoute(t *testing.T) {
	e := newEnv(t, Options{AckMode: AckModeState, Offers: func(string, string) bool { return false }})
	seedGroup(t, e.groups.Groups, nil)
	e.post(t, clickSpec{action: ActionAck, responseURL: e.sink.url("x")})
	if got := e.sink.next(t); !strings.HasPrefix(got, "Acknowledged.") {
		t.Errorf("reply = %q", got)
	}
}
