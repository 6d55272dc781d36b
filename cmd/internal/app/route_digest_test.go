package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRouteDigests checks that the interaction handler gets the routes'
// digests as the running configuration has them, reloads included.
func TestRouteDigests(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	write := func(at string) {
		t.Helper()
		config := `slack: {api_url: 'http://127.0.0.1:1/api/', bot_token: xoxb-x, signing_secret: s}
interactions: {ack_reminder: 1h}
routes:
  - name: db
    channel: C0DB000001
    digest: {every: 24h, at: "` + at + `", time_zone: Europe/Berlin}
  - {name: web, channel: C0WEB00001}
`
		if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("09:00")
	a, err := New(Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.closeStorage()
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
	write("07:30")
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	check(7*time.Hour + 30*time.Minute)
}
