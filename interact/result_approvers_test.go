package interact

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// TestResultKeepsApprovers checks that an action's result records everyone
// whose approval ran it, so that the message credits them all and not only
// the last to click.
func TestResultKeepsApprovers(t *testing.T) {
	as := newActionServer(t, "action-secret")
	e := newEnv(t, Options{Actions: []Action{{
		ID: "approve_restart", Label: "Approve restart", URL: as.srv.URL + "/restart",
		Allow: Rule{Users: []string{"U0001ALICE", "U0002BOB"}}, Approvals: 2, SecretFile: writeSecret(t, "action-secret\n"),
	}}})
	seedGroup(t, e.groups.Groups, nil)
	e.post(t, clickSpec{action: "approve_restart", user: "U0001ALICE", name: "alice", responseURL: e.sink.url("a")})
	e.sink.next(t)
	e.post(t, clickSpec{action: "approve_restart", user: "U0002BOB", name: "bob", responseURL: e.sink.url("b")})
	e.sink.next(t)

	results := getGroup(t, e.groups).State.Results
	if len(results) != 1 {
		t.Fatalf("results = %+v, want one", results)
	}
	want := []alertgroup.User{{ID: "U0001ALICE", Name: "alice"}, {ID: "U0002BOB", Name: "bob"}}
	if diff := cmp.Diff(results[0].Approvers, want); diff != "" {
		t.Errorf("result approvers (-got +want):\n%s", diff)
	}
	if results[0].By.ID != "U0002BOB" {
		t.Errorf("result by %+v, want bob, who completed the round", results[0].By)
	}
}
