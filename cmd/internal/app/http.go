package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/amslack/amslack/receiver/outbox"
)

// handler returns amslack's HTTP endpoints for a single listener. adminAuth
// guards /metrics and the admin endpoints only: Alertmanager and Slack
// authenticate their own way (the webhook: section, and Slack's request
// signatures), and must not need the operators' credentials.
func (a *App) handler(adminAuth func(http.Handler) http.Handler) http.Handler {
	// Without basic_auth_users, /metrics is open as Prometheus expects,
	// and the endpoints that change state answer only on loopback:
	// amslack's listener faces Slack, often from the internet. A proxy or
	// a mesh sidecar on the same host makes every peer loopback, which is
	// what adminHandler's separate listener is for.
	adminOnly := adminAuth
	if adminAuth == nil {
		adminOnly = loopbackOnly
	}
	mux := http.NewServeMux()
	a.mountPublic(mux)
	a.mountAdmin(mux, adminAuth, adminOnly)
	return mux
}

// publicHandler returns the endpoints of the main listener when the admin
// endpoints have a listener of their own (adminHandler): Alertmanager's,
// Slack's, the health checks and the preview.
func (a *App) publicHandler() http.Handler {
	mux := http.NewServeMux()
	a.mountPublic(mux)
	return mux
}

// adminHandler returns the endpoints of a separate admin listener:
// /metrics, /-/reload, the dead-letter API and the health checks. Who may
// reach that listener is decided by the address it is bound to, and by
// adminAuth when not nil; the peer address is not consulted.
func (a *App) adminHandler(adminAuth func(http.Handler) http.Handler) http.Handler {
	adminOnly := adminAuth
	if adminAuth == nil {
		adminOnly = func(h http.Handler) http.Handler { return h }
	}
	mux := http.NewServeMux()
	a.mountHealth(mux)
	a.mountAdmin(mux, adminAuth, adminOnly)
	return mux
}

// mountPublic serves what Alertmanager, Slack and the health checks call.
func (a *App) mountPublic(mux *http.ServeMux) {
	mux.Handle("/webhook", a.webhook)
	a.mountHealth(mux)
	a.mountInteract(mux)
	a.mountPreview(mux)
}

// readyRedisTimeout bounds the readiness probe's ping of Redis, well
// within a probe's usual one-second timeout.
const readyRedisTimeout = 500 * time.Millisecond

// mountHealth serves the liveness and readiness checks.
func (a *App) mountHealth(mux *http.ServeMux) {
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("OK\n"))
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, r *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		// With store.redis, a replica that cannot reach Redis can accept
		// nothing: the webhook answers 503 and the probe says so, so that
		// the Service sends Alertmanager to a replica that can.
		if a.redis != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyRedisTimeout)
			defer cancel()
			if err := a.redis.Ping(ctx).Err(); err != nil {
				http.Error(w, "not ready: store.redis does not answer", http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte("OK\n"))
	})
}

// mountAdmin serves /metrics behind metricsAuth (open when nil, as
// Prometheus expects), and the endpoints that change state behind
// adminOnly.
func (a *App) mountAdmin(mux *http.ServeMux, metricsAuth, adminOnly func(http.Handler) http.Handler) {
	if metricsAuth == nil {
		metricsAuth = func(h http.Handler) http.Handler { return h }
	}
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
	// Retries counts the times an operator sent it again; Attempts are
	// those since the last.
	Retries int `json:"retries"`
}

// Pages of GET /api/v1/dlq: ?limit= dead letters at most, DefaultDLQPage
// without it, after the ID ?after=, 0 without it.
const (
	DefaultDLQPage = 100
	MaxDLQPage     = 1000
)

func (a *App) listDead(w http.ResponseWriter, r *http.Request) {
	after, limit, err := dlqPage(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	dead, err := a.outbox.DeadLetterPage(r.Context(), after, limit)
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
			Attempts: d.Entry.Attempts, Retries: d.Entry.Retries,
		}
		if n.Message != nil && n.Message.Data != nil {
			dl.Status = n.Message.Status
		}
		out = append(out, dl)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// dlqPage reads a listing's ?after= and ?limit=.
func dlqPage(r *http.Request) (after uint64, limit int, err error) {
	q := r.URL.Query()
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("after: must be a dead letter id, got %q", v)
		}
	}
	limit = DefaultDLQPage
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > MaxDLQPage {
			return 0, 0, fmt.Errorf("limit: must be a number from 1 to %d, got %q", MaxDLQPage, v)
		}
	}
	return after, limit, nil
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
