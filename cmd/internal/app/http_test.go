package app

import (
	"net/http"
	"net/http/httptest"
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
