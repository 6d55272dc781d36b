package app

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestAdminHandlers: with a separate admin listener the admin endpoints
// leave the main handler, and the admin handler does not judge a request
// by its peer address, which a proxy or a mesh sidecar on the same host
// (forwarding from 127.0.0.6) makes loopback for everyone.
func TestAdminHandlers(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	if err := os.WriteFile(cfg, []byte("slack: {api_url: 'http://127.0.0.1:1/api/', bot_token: xoxb-x}\nroutes: [{channel: C0ADMINH01}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.closeStorage()
	do := func(h http.Handler, method, path, remote string) int {
		r := httptest.NewRequest(method, path, nil)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	const sidecar, remote = "127.0.0.6:41000", "10.1.2.3:41000"
	one := a.handler(nil)
	public := a.publicHandler()
	adm := a.adminHandler(nil)
	for _, tt := range []struct {
		method, path string
		remote       string
		one          int
		public       int
		admin        int
	}{
		// One listener: the loopback rule, which a sidecar passes.
		{http.MethodGet, "/api/v1/dlq", remote, 403, 404, 200},
		{http.MethodGet, "/api/v1/dlq", sidecar, 200, 404, 200},
		{http.MethodDelete, "/api/v1/dlq/7", remote, 403, 404, 404},
		{http.MethodGet, "/metrics", remote, 200, 404, 200},
		{http.MethodGet, "/-/healthy", remote, 200, 200, 200},
		{http.MethodPost, "/webhook", remote, 400, 400, 404},
	} {
		for _, h := range []struct {
			name string
			h    http.Handler
			want int
		}{{"one listener", one, tt.one}, {"public", public, tt.public}, {"admin", adm, tt.admin}} {
			if code := do(h.h, tt.method, tt.path, tt.remote); code != h.want {
				t.Errorf("%s: %s %s from %s: %d, want %d", h.name, tt.method, tt.path, tt.remote, code, h.want)
			}
		}
	}
}
