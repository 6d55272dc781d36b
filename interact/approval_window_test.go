package interact

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/interact/runbook"
	"github.com/amslack/amslack/receiver/alertgroup"
)

// testClock is a clock that a test moves while workers read it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// approverIDs returns the approvers' ids of the action server's only call.
func approverIDs(t testing.TB, as *actionServer) []string {
	t.Helper()
	calls, _ := as.snapshot()
	if len(calls) != 1 {
		t.Fatalf("internal API calls = %d, want 1", len(calls))
	}
	var req runbook.Request
	if err := json.Unmarshal(calls[0].body, &req); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range req.Approvers {
		ids = append(ids, u.ID)
	}
	return ids
}

func restartAction(url string, allow Rule) Action {
	return Action{ID: "approve_restart", Label: "Approve restart", URL: url, Allow: allow, Approvals: 2, Secret: "action-secret"}
}

func approve(e *env, user, name, response string) clickSpec {
	return clickSpec{action: "approve_restart", user: user, name: name, responseURL: e.sink.url(response)}
}

// TestApprovalWindow checks that an approval older than the window does
// not count toward a round.
func TestApprovalWindow(t *testing.T) {
	clock := &testClock{t: time.Date(2025, 11, 29, 16, 30, 0, 0, time.UTC)}
	as := newActionServer(t, "action-secret")
	e := newEnv(t, Options{Now: clock.Now, Actions: []Action{
		restartAction(as.srv.URL, Rule{Users: []string{"U0001ALICE", "U0002BOB", "U0003CAROL"}}),
	}})
	// The internal API checks signatures against the real clock.
	e.h.caller.now = time.Now
	seedGroup(t, e.groups.Groups, nil)

	e.post(t, approve(e, "U0001ALICE", "alice", "a"))
	if diff := cmp.Diff(e.sink.next(t), "Approval of Approve restart recorded (1 of 2); waiting for 1 more."); diff != "" {
		t.Errorf("first approval reply (-got +want):\n%s", diff)
	}
	until := getGroup(t, e.groups).State.ApprovalsUntil
	if diff := cmp.Diff(until, map[string]map[string]time.Time{"approve_restart": {"U0001ALICE": clock.Now().Add(DefaultApprovalWindow)}}); diff != "" {
		t.Errorf("stored approval times (-got +want):\n%s", diff)
	}

	clock.Add(DefaultApprovalWindow + time.Second)
	e.post(t, approve(e, "U0002BOB", "bob", "b"))
	if diff := cmp.Diff(e.sink.next(t), "Approval of Approve restart recorded (1 of 2); waiting for 1 more."); diff != "" {
		t.Errorf("approval after the window reply (-got +want):\n%s", diff)
	}
	if calls, _ := as.snapshot(); len(calls) != 0 {
		t.Fatalf("an expired approval completed the round: %d calls", len(calls))
	}
	if diff := cmp.Diff(getGroup(t, e.groups).State.Approvals["approve_restart"], []alertgroup.User{{ID: "U0002BOB", Name: "bob"}}); diff != "" {
		t.Errorf("stored approvals (-got +want):\n%s", diff)
	}

	e.post(t, approve(e, "U0003CAROL", "carol", "c"))
	if got := e.sink.next(t); got != "Approve restart: restart scheduled" {
		t.Errorf("completing reply = %q", got)
	}
	if diff := cmp.Diff(approverIDs(t, as), []string{"U0002BOB", "U0003CAROL"}); diff != "" {
		t.Errorf("approvers (-got +want):\n%s", diff)
	}
	g := getGroup(t, e.groups)
	if len(g.State.Approvals) != 0 || len(g.State.ApprovalsUntil) != 0 {
		t.Errorf("a completed round left approvals %v, times %v", g.State.Approvals, g.State.ApprovalsUntil)
	}
}

// TestApprovalRecheck checks that an approver who may no longer approve
// when the round completes is not counted.
func TestApprovalRecheck(t *testing.T) {
	t.Run("allow list changed", func(t *testing.T) {
		as := newActionServer(t, "action-secret")
		st := openStore(t)
		seedGroup(t, st, nil)
		before := newEnv(t, Options{Groups: st, Actions: []Action{
			restartAction(as.srv.URL, Rule{Users: []string{"U0001ALICE", "U0002BOB"}}),
		}})
		before.post(t, approve(before, "U0001ALICE", "alice", "a"))
		before.sink.next(t)
		before.stop()

		// The configuration now leaves alice out.
		e := newEnv(t, Options{Groups: st, Actions: []Action{
			restartAction(as.srv.URL, Rule{Users: []string{"U0002BOB", "U0003CAROL"}}),
		}})
		e.post(t, approve(e, "U0002BOB", "bob", "b"))
		if diff := cmp.Diff(e.sink.next(t), "Approval of Approve restart recorded (1 of 2); waiting for 1 more."); diff != "" {
			t.Errorf("reply (-got +want):\n%s", diff)
		}
		if calls, _ := as.snapshot(); len(calls) != 0 {
			t.Fatalf("a removed approver completed the round: %d calls", len(calls))
		}
		e.post(t, approve(e, "U0003CAROL", "carol", "c"))
		e.sink.next(t)
		if diff := cmp.Diff(approverIDs(t, as), []string{"U0002BOB", "U0003CAROL"}); diff != "" {
			t.Errorf("approvers (-got +want):\n%s", diff)
		}
	})
	t.Run("left the user group", func(t *testing.T) {
		clock := &testClock{t: time.Date(2025, 11, 29, 16, 30, 0, 0, time.UTC)}
		as := newActionServer(t, "action-secret")
		fs := &fakeSlack{members: map[string][]string{"S0001ONCALL": {"U0001ALICE", "U0002BOB"}}}
		e := newEnv(t, Options{Now: clock.Now, Slack: fs, Actions: []Action{
			restartAction(as.srv.URL, Rule{UserGroups: []string{"S0001ONCALL"}}),
		}})
		e.h.caller.now = time.Now
		seedGroup(t, e.groups.Groups, nil)
		e.post(t, approve(e, "U0001ALICE", "alice", "a"))
		e.sink.next(t)

		fs.mu.Lock()
		fs.members["S0001ONCALL"] = []string{"U0002BOB"}
		fs.mu.Unlock()
		clock.Add(DefaultUserGroupTTL + time.Second)
		e.post(t, approve(e, "U0002BOB", "bob", "b"))
		if diff := cmp.Diff(e.sink.next(t), "Approval of Approve restart recorded (1 of 2); waiting for 1 more."); diff != "" {
			t.Errorf("reply (-got +want):\n%s", diff)
		}
		if calls, _ := as.snapshot(); len(calls) != 0 {
			t.Errorf("an approver who left the user group completed the round: %d calls", len(calls))
		}
	})
}
