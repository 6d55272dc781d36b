package amclient_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/amtest"
)

// TestStartedAt reads a real Alertmanager's start time, before and after a
// restart.
func TestStartedAt(t *testing.T) {
	before := time.Now()
	am := amtest.Start(t)
	c, err := amclient.New(am.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.StartedAt(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Alertmanager reports milliseconds; allow for that rounding.
	if first.Before(before.Add(-time.Second)) || first.After(time.Now()) {
		t.Errorf("StartedAt() = %v, want between %v and now", first, before)
	}
	am.Restart(t)
	second, err := c.StartedAt(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !second.After(first) {
		t.Errorf("StartedAt() after a restart = %v, want after %v", second, first)
	}
}

func TestStartedAtWithoutUptime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"cluster":{"status":"disabled"}}`))
	}))
	t.Cleanup(srv.Close)
	c, err := amclient.New(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartedAt(t.Context()); err == nil || !strings.Contains(err.Error(), "no uptime") {
		t.Errorf("StartedAt() error = %v, want one saying the answer has no uptime", err)
	}
}
