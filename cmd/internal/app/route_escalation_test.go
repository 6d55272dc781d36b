package app

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/interact"
)

// TestRouteEscalation checks that the interaction handler gets each route's
// escalation policy as the running configuration has it, reloads included.
func TestRouteEscalation(t *testing.T) {
	a, reload := reloadingApp(t, func(after string) string {
		return `slack: {api_url: 'http://127.0.0.1:1/api/', bot_token: xoxb-x, signing_secret: s}
routes:
  - name: db
    channel: C0DB000001
    escalate:
      steps:
        - {after: ` + after + `, mention: "<!subteam^S0ONCALL>"}
        - {after: 15m, mention: "<@U0LEAD>", broadcast: true}
  - {name: web, channel: C0WEB00001}
`
	}, "5m")
	want := func(first time.Duration) *interact.Escalation {
		return &interact.Escalation{Severities: []string{"critical"}, Steps: []interact.EscalationStep{
			{After: first, Mention: "<!subteam^S0ONCALL>"},
			{After: 15 * time.Minute, Mention: "<@U0LEAD>", Broadcast: true},
		}}
	}
	if diff := cmp.Diff(a.routeEscalation("db"), want(5*time.Minute)); diff != "" {
		t.Errorf("db escalation (-got +want):\n%s", diff)
	}
	for _, route := range []string{"web", "removed"} {
		if e := a.routeEscalation(route); e != nil {
			t.Errorf("%s escalation = %+v, want none", route, e)
		}
	}
	reload("10m")
	if diff := cmp.Diff(a.routeEscalation("db"), want(10*time.Minute)); diff != "" {
		t.Errorf("db escalation after a reload (-got +want):\n%s", diff)
	}
}
