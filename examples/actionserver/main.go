// Command actionserver is an example internal API for amslack's runbook
// actions. It checks each call's X-Amslack-Signature and timestamp, runs an
// action at most once per Idempotency-Key (a repeated key gets the first
// answer again), logs the call and answers
// {"ok":true,"detail":"restart scheduled"}.
//
// Start from it to write a real one: replace schedule with what the action
// should do.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/amslack/amslack/interact/runbook"
)

func main() { os.Exit(run()) }

func run() int {
	var (
		listen     = flag.String("listen", "127.0.0.1:8081", "address to listen on")
		secretFile = flag.String("secret-file", "", "file holding the shared signing secret (or set AMSLACK_ACTION_SECRET)")
		window     = flag.Duration("window", runbook.DefaultWindow, "how far a call's timestamp may be from this server's clock")
	)
	flag.Parse()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	secret := os.Getenv("AMSLACK_ACTION_SECRET")
	if *secretFile != "" {
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			logger.Error("cannot read secret file", "err", err)
			return 1
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret == "" {
		logger.Error("no secret: pass --secret-file or set AMSLACK_ACTION_SECRET")
		return 2
	}

	srv := &http.Server{
		Addr:              *listen,
		Handler:           newServer([]byte(secret), *window, time.Now, logger),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("listening", "address", *listen)
	select {
	case err := <-errc:
		logger.Error("server failed", "err", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("shutdown failed", "err", err)
		return 1
	}
	return 0
}

// Remembered keys: amslack retries for well under a minute, but a person
// may click again much later; a day covers both.
const (
	keyTTL  = 24 * time.Hour
	maxKeys = 100000
	maxBody = 1 << 20
)

// server answers runbook calls.
type server struct {
	secret []byte
	window time.Duration
	now    func() time.Time
	logger *slog.Logger
	// schedule performs an action; it runs once per idempotency key.
	schedule func(runbook.Request) runbook.Response

	// mu makes finding or creating a key's entry one step.
	mu   sync.Mutex
	keys *expirable.LRU[string, *entry]
}

// entry is one idempotency key's run. done is closed when resp is set, so
// that a retry arriving during the first run waits for its answer.
type entry struct {
	done chan struct{}
	resp runbook.Response
}

func newServer(secret []byte, window time.Duration, now func() time.Time, logger *slog.Logger) *server {
	s := &server{
		secret: secret,
		window: window,
		now:    now,
		logger: logger,
		keys:   expirable.NewLRU[string, *entry](maxKeys, nil, keyTTL),
	}
	s.schedule = func(req runbook.Request) runbook.Response {
		// A real server would act here: restart the service named by
		// req.Labels, open a ticket, ...
		return runbook.Response{OK: true, Detail: "restart scheduled"}
	}
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusRequestEntityTooLarge)
		return
	}
	// Check the signature over the raw body before decoding anything.
	if err := runbook.Verify(s.secret, r.Header, body, s.now(), s.window); err != nil {
		s.logger.Warn("rejected call", "err", err, "remote_addr", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var req runbook.Request
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, runbook.Response{Detail: "malformed request"})
		return
	}
	key := r.Header.Get(runbook.HeaderIdempotencyKey)
	if key == "" || key != req.IdempotencyKey {
		writeJSON(w, http.StatusBadRequest, runbook.Response{Detail: "missing or inconsistent Idempotency-Key"})
		return
	}

	e, first := s.claim(key)
	if first {
		e.resp = s.schedule(req)
		close(e.done)
		s.logger.Info("action run", "action", req.Action, "idempotency_key", key,
			"user", req.User.ID, "approvers", approverIDs(req), "labels", req.Labels, "ok", e.resp.OK)
	} else {
		select {
		case <-e.done:
		case <-r.Context().Done():
			return
		}
		s.logger.Info("repeated call answered from memory", "action", req.Action, "idempotency_key", key)
	}
	writeJSON(w, http.StatusOK, e.resp)
}

// claim returns the entry of key and whether this call created it, and so
// must run the action.
func (s *server) claim(key string) (*entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.keys.Get(key); ok {
		return e, false
	}
	e := &entry{done: make(chan struct{})}
	s.keys.Add(key, e)
	return e, true
}

func approverIDs(req runbook.Request) []string {
	ids := make([]string, len(req.Approvers))
	for i, u := range req.Approvers {
		ids[i] = u.ID
	}
	return ids
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// A write error means the client went away; there is no one to tell.
	_ = json.NewEncoder(w).Encode(v)
}
