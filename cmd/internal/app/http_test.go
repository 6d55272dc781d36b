package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestLoopbackOnly(t *testing.T) {
	h := loopbackOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	for addr, want := range map[string]int{
		"127.0.0.1:40000": http.StatusOK,
		"[::1]:40000":     http.StatusOK,
		"10.1.2.3:40000":  http.StatusForbidden,
		"192.0.2.7:443":   http.StatusForbidden,
		"garbage":         http.StatusForbidden,
	} {
		r := httptest.NewRequest(http.MethodDelete, "/api/v1/dlq/1", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("from %s: %d, want %d", addr, w.Code, want)
		}
	}
}

func TestStartShutdownRefusesWebhooksAndFailsReadiness(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	if err := os.WriteFile(cfg, []byte("slack: {api_url: 'http://127.0.0.1:1/api/', bot_token: xoxb-x}\nroutes: [{channel: C0SHUT0001}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.closeStorage()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { a.run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	h := a.handler(nil)
	do := func(method, path, body string) int {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for !a.ready.Load() {
		runtime.Gosched()
	}
	if code := do(http.MethodGet, "/-/ready", ""); code != http.StatusOK {
		t.Fatalf("ready before shutdown: %d", code)
	}
	payload, err := os.ReadFile(filepath.Join("..", "..", "..", "receiver", "testdata", "alertmanager", "v035-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	a.startShutdown()
	if code := do(http.MethodGet, "/-/ready", ""); code != http.StatusServiceUnavailable {
		t.Errorf("ready during shutdown: %d, want 503", code)
	}
	if code := do(http.MethodPost, "/webhook", string(payload)); code != http.StatusServiceUnavailable {
		t.Errorf("webhook during shutdown: %d, want 503 so that Alertmanager keeps it", code)
	}
	if code := do(http.MethodGet, "/-/healthy", ""); code != http.StatusOK {
		t.Errorf("healthy during shutdown: %d", code)
	}
}
