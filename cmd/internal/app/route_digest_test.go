package app

import (
	"testing"
	"time"
)

// TestRouteDigests checks that the interaction handler gets the routes'
// digests as the running configuration has them, reloads included.
func TestRouteDigests(t *testing.T) {
	a, reload := reloadingApp(t, func(at string) string {
		return `slack: {api_url: 'http://127.0.0.1:1/api/', bot_token: xoxb-x, signing_secret: s}
interactions: {ack_reminder: 1h}
routes:
  - name: db
    channel: C0DB000001
    digest: {every: 24h, at: "` + at + `", time_zone: Europe/Berlin}
  - {name: web, channel: C0WEB00001}
`
	}, "09:00")
	check := func(at time.Duration) {
		t.Helper()
		ds := a.routeDigests()
		if len(ds) != 1 {
			t.Fatalf("digests = %+v, want the db route's", ds)
		}
		d := ds[0]
		if d.Route != "db" || d.Channel != "C0DB000001" || d.Every != 24*time.Hour || d.At != at || d.Location.String() != "Europe/Berlin" {
			t.Errorf("digest = %+v, want db's at %s", d, at)
		}
		if err := d.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	}
	check(9 * time.Hour)
	reload("07:30")
	check(7*time.Hour + 30*time.Minute)
}
