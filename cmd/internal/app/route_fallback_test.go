package app

import "testing"

// TestRouteFallbackChannel checks that a route's fallback_channel reaches
// the sender's options for the route, and that a reload applies it.
func TestRouteFallbackChannel(t *testing.T) {
	a, reload := reloadingApp(t, func(fallback string) string {
		return `slack: {api_url: 'http://127.0.0.1:1/api/', bot_token: xoxb-x, signing_secret: s}
routes:
  - {name: db, receiver: db, channel: C0DB000001` + fallback + `}
  - {name: web, channel: C0WEB00001}
`
	}, ", fallback_channel: C0FALL0001")
	check := func(route, want string) {
		t.Helper()
		if got := a.routeOptions(route).FallbackChannel; got != want {
			t.Errorf("route %q: fallback channel %q, want %q", route, got, want)
		}
	}
	check("db", "C0FALL0001")
	check("web", "")

	reload("")
	check("db", "")
}
