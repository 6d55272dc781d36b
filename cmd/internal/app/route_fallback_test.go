package app

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRouteFallbackChannel checks that a route's fallback_channel reaches
// the sender's options for the route, and that a reload applies it.
func TestRouteFallbackChannel(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	write := func(fallback string) {
		t.Helper()
		config := `slack: {api_url: 'http://127.0.0.1:1/api/', bot_token: xoxb-x, signing_secret: s}
routes:
  - {name: db, receiver: db, channel: C0DB000001` + fallback + `}
  - {name: web, channel: C0WEB00001}
`
		if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(", fallback_channel: C0FALL0001")
	a, err := New(Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.closeStorage()
	check := func(route, want string) {
		t.Helper()
		if got := a.routeOptions(route).FallbackChannel; got != want {
			t.Errorf("route %q: fallback channel %q, want %q", route, got, want)
		}
	}
	check("db", "C0FALL0001")
	check("web", "")

	write("")
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	check("db", "")
}
