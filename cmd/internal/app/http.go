package app

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/amslack/amslack/receiver/outbox"
	"net"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns amslack's HTTP endpoints. adminAuth guards /metrics and
// the admin endpoints only: Alertmanager and Slack authenticate their own
// way (the webhook: section, and Slack's request signatures), and must not
// need the operators' credentials.
func (a *App) Handler(adminAuth func(http.Handler) http.Handler) http.Handler {
	// Without basic_auth_users, /metrics is open as Prometheus expects,
	// and the endpoints that change state answer only on loopback:
	// amslack's listener faces Slack, often from the internet.
	metricsAuth, adminOnly := adminAuth, adminAuth
	if adminAuth == nil {
		metricsAuth = func(h http.Handler) http.Handler { return h }
		adminOnly = loopbackOnly
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", a.webhook)
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("OK\n"))
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("OK\n"))
	})
	mux.Handle("GET /metrics", metricsAuth(promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg})))
	mux.Handle("POST /-/reload", adminOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if err := a.Reload(); err != nil {
			http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write([]byte("OK\n"))
	})))
	mux.Handle("GET /api/v1/dlq", adminOnly(http.HandlerFunc(a.listDead)))
	mux.Handle("POST /api/v1/dlq/{id}/retry", adminOnly(http.HandlerFunc(a.retryDead)))
	mux.Handle("DELETE /api/v1/dlq/{id}", adminOnly(http.HandlerFunc(a.dropDead)))
	a.mountInteract(mux)
	a.mountPreview(mux)
	return mux
}

// loopbackOnly refuses requests that do not come from this machine.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "admin endpoints answer only on loopback unless --web.config.file sets basic_auth_users", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// DeadLetter is a dead-lettered notification as the admin API shows it.
type DeadLetter struct {
	ID       uint64 `json:"id"`
	At       string `json:"at"`
	Cause    string `json:"cause"`
	Receiver string `json:"receiver"`
	GroupKey string `json:"group_key"`
	Channel  string `json:"channel"`
	Route    string `json:"route"`
	Status   string `json:"status,omitempty"`
	Attempts int    `json:"attempts"`
}

func (a *App) listDead(w http.ResponseWriter, r *http.Request) {
	dead, err := a.outbox.DeadLetters(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := make([]DeadLetter, 0, len(dead))
	for _, d := range dead {
		n := d.Entry.Notification
		dl := DeadLetter{
			ID: d.ID, At: d.At.UTC().Format("2006-01-02T15:04:05Z"), Cause: d.Cause,
			Receiver: n.Key.Receiver, GroupKey: n.Key.GroupKey, Channel: n.Key.Channel, Route: n.Route,
			Attempts: d.Entry.Attempts,
		}
		if n.Message != nil && n.Message.Data != nil {
			dl.Status = n.Message.Status
		}
		out = append(out, dl)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (a *App) retryDead(w http.ResponseWriter, r *http.Request) {
	a.onDead(w, r, a.outbox.RetryDead)
}

func (a *App) dropDead(w http.ResponseWriter, r *http.Request) {
	a.onDead(w, r, a.outbox.DropDead)
}

func (a *App) onDead(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, id uint64) error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "dead letter id must be a number", http.StatusBadRequest)
		return
	}
	if err := fn(r.Context(), id); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, outbox.ErrNotFound) {
			status = http.StatusNotFound
		}
		http.Error(w, err.Error(), status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
