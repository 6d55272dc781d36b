package app

import "testing"

// TestRouteOffers checks that a click is matched against the actions list
// of its message's route, as the running configuration has it.
func TestRouteOffers(t *testing.T) {
	a, reload := reloadingApp(t, func(dbActions string) string {
		return `slack: {api_url: 'http://127.0.0.1:1/api/', bot_token: xoxb-x, signing_secret: s}
routes:
  - {name: db, receiver: db, channel: C0DB000001, actions: ` + dbActions + `}
  - {name: web, channel: C0WEB00001}
actions:
  - {id: approve_restart, label: Restart, url: 'http://127.0.0.1:1/restart', allow: {users: [U0001ALICE]}, secret: x}
  - {id: drain, label: Drain, url: 'http://127.0.0.1:1/drain', allow: {users: [U0001ALICE]}, secret: x}
`
	}, "[approve_restart]")
	check := func(route, id string, want bool) {
		t.Helper()
		if got := a.routeOffers(route, id); got != want {
			t.Errorf("routeOffers(%q, %q) = %v, want %v", route, id, got, want)
		}
	}
	check("db", "approve_restart", true)
	check("db", "drain", false)
	check("web", "drain", true) // no actions list: every action
	check("removed", "approve_restart", false)

	reload("[drain]")
	check("db", "approve_restart", false)
	check("db", "drain", true)
}
