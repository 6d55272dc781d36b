// Package receiver owns the Alertmanager side of amslack: the POST /webhook
// handler with its authentication, size limits, decoding and validation,
// the de-duplication of copies sent by Alertmanager HA peers, and the routing
// of each alert group to the Slack destinations it belongs to.
package receiver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Enqueuer accepts notifications for delivery. Enqueue returns nil only once
// the notification is durably recorded.
type Enqueuer interface {
	Enqueue(ctx context.Context, n alertgroup.Notification) error
}

// Auth is how Alertmanager authenticates: a bearer token or basic auth
// (as in its http_config). The zero value accepts every request.
type Auth struct {
	BearerToken string
	Username    string
	Password    string
}

// Settings are the parts of the handler that a configuration reload
// replaces.
type Settings struct {
	Auth         Auth
	MaxBodyBytes int64
	Router       *Router
}

// Options configure a Handler.
type Options struct {
	Settings
	Enqueuer Enqueuer
	// DedupWindow is how long copies from HA peers are recognised.
	DedupWindow time.Duration
	// DedupSize bounds the number of groups remembered for that.
	DedupSize int
	// RecordTimeout bounds how long recording a notification may take,
	// from waiting for an HA peer's copy to the outbox's commit; past it
	// the answer is 503 (default DefaultRecordTimeout).
	RecordTimeout time.Duration
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	Now           func() time.Time
}

// Handler serves POST /webhook.
type Handler struct {
	settings atomic.Pointer[Settings]
	closed   atomic.Bool
	enqueuer Enqueuer
	dedup    *haDedup
	// recordTimeout is Options.RecordTimeout.
	recordTimeout time.Duration
	logger        *slog.Logger
	now           func() time.Time

	received       *prometheus.CounterVec
	duplicates     prometheus.Counter
	duration       prometheus.Histogram
	authConfigured prometheus.Gauge
	// authState is 1 when the settings require credentials, 0 when they do
	// not, and -1 before the first settings: the warning about an open
	// webhook is logged when that state begins, not on every reload.
	authState atomic.Int32
}

// Results of a received notification, the values of the result label.
const (
	resultAccepted     = "accepted"
	resultDuplicate    = "duplicate"
	resultUnauthorized = "unauthorized"
	resultInvalid      = "invalid"
	resultTooLarge     = "too_large"
	resultUnrouted     = "unrouted"
	resultUnavailable  = "unavailable"
)

// DefaultRecordTimeout is Options.RecordTimeout when it is not set: with
// the time to read the body and write the answer, Alertmanager has its
// 503 within 2 s and sends the notification again, rather than waiting on
// a store that stalled (Alertmanager's webhook timeout is 10 s by default,
// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
const DefaultRecordTimeout = 1800 * time.Millisecond

// NewHandler returns a webhook handler.
func NewHandler(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DedupWindow <= 0 {
		o.DedupWindow = 5 * time.Minute
	}
	if o.DedupSize <= 0 {
		o.DedupSize = 100_000
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 4 << 20
	}
	if o.Router == nil {
		o.Router = NewRouter(nil, nil)
	}
	if o.RecordTimeout <= 0 {
		o.RecordTimeout = DefaultRecordTimeout
	}
	reg := promauto.With(o.Registerer)
	h := &Handler{
		enqueuer: o.Enqueuer,
		dedup:    newHADedup(o.DedupSize, o.DedupWindow),

		recordTimeout: o.RecordTimeout,
		logger:        o.Logger,
		now:           o.Now,
		received: reg.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "notifications_received_total",
			Help:      "Webhook notifications received from Alertmanager, by result.",
		}, []string{"result"}),
		duplicates: reg.NewCounter(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "notifications_ha_duplicates_total",
			Help:      "Copies of a notification sent by Alertmanager HA peers and dropped.",
		}),
		duration: reg.NewHistogram(prometheus.HistogramOpts{
			Namespace: "amslack",
			Name:      "webhook_request_duration_seconds",
			Help:      "Time to answer a webhook request, including the durable commit.",
			Buckets:   prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		authConfigured: reg.NewGauge(prometheus.GaugeOpts{
			Namespace: "amslack",
			Name:      "webhook_auth_configured",
			Help:      "1 when POST /webhook requires credentials (webhook.bearer_token or webhook.basic_auth), 0 when anyone who reaches it may post.",
		}),
	}
	for _, r := range []string{resultAccepted, resultDuplicate, resultUnauthorized, resultInvalid, resultTooLarge, resultUnrouted, resultUnavailable} {
		h.received.WithLabelValues(r)
	}
	h.authState.Store(-1)
	h.Reload(o.Settings)
	return h
}

// Reload replaces the settings; requests in flight finish with the old ones.
func (h *Handler) Reload(s Settings) {
	if s.MaxBodyBytes <= 0 {
		s.MaxBodyBytes = 4 << 20
	}
	if s.Router == nil {
		s.Router = NewRouter(nil, nil)
	}
	h.settings.Store(&s)
	h.reportAuth(s.Auth)
}

// reportAuth says, in a metric and when it becomes so in the log, whether
// POST /webhook requires credentials. Without them anyone who reaches the
// listener can post notifications to any channel the routes allow.
func (h *Handler) reportAuth(a Auth) {
	if a.BearerToken != "" || a.Username != "" {
		h.authConfigured.Set(1)
		h.authState.Store(1)
		return
	}
	h.authConfigured.Set(0)
	if h.authState.Swap(0) == 0 {
		return
	}
	h.logger.Warn("POST /webhook accepts notifications without credentials: anyone who reaches this listener can post to Slack through amslack. Set webhook.bearer_token or webhook.basic_auth, and the same credentials in Alertmanager's http_config")
}

// Close makes the handler answer 503 from now on, so that Alertmanager keeps
// what amslack can no longer accept and sends it again later.
func (h *Handler) Close() { h.closed.Store(true) }

// httpError is an answer to Alertmanager: a status and a message that says
// what is wrong.
type httpError struct {
	status int
	result string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, result, format string, args ...any) *httpError {
	return &httpError{status: status, result: result, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP handles POST /webhook.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	defer func() { h.duration.Observe(h.now().Sub(start).Seconds()) }()

	result, err := h.serve(r)
	h.received.WithLabelValues(result).Inc()
	if err == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	var he *httpError
	if !errors.As(err, &he) {
		he = fail(http.StatusInternalServerError, resultUnavailable, "internal error")
	}
	level := slog.LevelWarn
	if he.status >= 500 {
		level = slog.LevelError
	}
	h.logger.Log(r.Context(), level, "Webhook rejected", "status", he.status, "err", he.msg,
		"remote_addr", r.RemoteAddr, "user_agent", r.UserAgent())
	if he.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="amslack", Basic realm="amslack"`)
	}
	if he.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	http.Error(w, he.msg, he.status)
}

func (h *Handler) serve(r *http.Request) (string, error) {
	s := h.settings.Load()
	if r.Method != http.MethodPost {
		return resultInvalid, fail(http.StatusMethodNotAllowed, resultInvalid, "method %s not allowed: use POST", r.Method)
	}
	if !s.Auth.allows(r) {
		return resultUnauthorized, fail(http.StatusUnauthorized, resultUnauthorized, "missing or wrong credentials")
	}
	if h.closed.Load() {
		return resultUnavailable, fail(http.StatusServiceUnavailable, resultUnavailable, "amslack is shutting down")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return resultInvalid, fail(http.StatusUnsupportedMediaType, resultInvalid, "content type %q: want application/json", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return resultTooLarge, fail(http.StatusRequestEntityTooLarge, resultTooLarge,
				"body exceeds webhook.max_body_bytes (%d bytes)", s.MaxBodyBytes)
		}
		return resultInvalid, fail(http.StatusBadRequest, resultInvalid, "read body: %v", err)
	}
	m, err := Decode(body)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return resultInvalid, fail(http.StatusUnprocessableEntity, resultInvalid, "%v", err)
		}
		return resultInvalid, fail(http.StatusBadRequest, resultInvalid, "%v", err)
	}

	route, dest, err := s.Router.Route(m, r.URL.Query().Get("channel"))
	switch {
	case errors.Is(err, ErrChannelInvalid):
		return resultInvalid, fail(http.StatusBadRequest, resultInvalid, "%v", err)
	case errors.Is(err, ErrChannelNotAllowed):
		return resultUnrouted, fail(http.StatusForbidden, resultUnrouted, "%v", err)
	case err != nil:
		return resultUnrouted, fail(http.StatusUnprocessableEntity, resultUnrouted, "%v", err)
	}

	group, id := identity(m, dest)
	ctx, cancel := context.WithTimeout(r.Context(), h.recordTimeout)
	defer cancel()
	done, fresh, err := h.dedup.reserve(ctx, group, id)
	if err != nil {
		return resultUnavailable, fail(http.StatusServiceUnavailable, resultUnavailable, "gave up waiting for the first copy of this notification: %v", err)
	}
	if !fresh {
		h.duplicates.Inc()
		h.logger.Debug("Dropped a copy from an Alertmanager HA peer", "group_key", m.GroupKey, "receiver", m.Receiver)
		return resultDuplicate, nil
	}
	n := alertgroup.Notification{
		Key:        alertgroup.Key{Receiver: UnescapeReceiver(m.Receiver), GroupKey: m.GroupKey, Channel: dest},
		Route:      route.Name,
		Message:    m,
		ReceivedAt: h.now(),
	}
	err = h.enqueuer.Enqueue(ctx, n)
	done(err == nil)
	if err != nil {
		return resultUnavailable, fail(http.StatusServiceUnavailable, resultUnavailable, "cannot record the notification now: %v", err)
	}
	return resultAccepted, nil
}

func (a Auth) allows(r *http.Request) bool {
	switch {
	case a.BearerToken != "":
		got, ok := bytes.CutPrefix([]byte(r.Header.Get("Authorization")), []byte("Bearer "))
		return ok && subtle.ConstantTimeCompare(got, []byte(a.BearerToken)) == 1
	case a.Username != "":
		u, p, ok := r.BasicAuth()
		// Evaluate both comparisons so timing says nothing about which failed.
		uok := subtle.ConstantTimeCompare([]byte(u), []byte(a.Username))
		pok := subtle.ConstantTimeCompare([]byte(p), []byte(a.Password))
		return ok && uok&pok == 1
	}
	return true
}

// ValidationError is a payload that decodes but can never be accepted.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

// Decode parses and validates a webhook payload. A syntax error returns a
// plain error; a payload that is JSON but not an acceptable notification
// returns a *ValidationError naming the field.
func Decode(body []byte) (*alertgroup.Message, error) {
	m := &alertgroup.Message{}
	if err := json.Unmarshal(body, m); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("not valid JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return nil, &ValidationError{Field: te.Field, Reason: fmt.Sprintf("want %s, got JSON %s", te.Type, te.Value)}
		}
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if err := validate(m); err != nil {
		return nil, err
	}
	return m, nil
}

// validate checks what amslack relies on in a webhook payload.
func validate(m *alertgroup.Message) error {
	switch {
	case m.Version != "" && m.Version != "4":
		return &ValidationError{Field: "version", Reason: fmt.Sprintf("%q is not supported: amslack reads webhook version \"4\"", m.Version)}
	case m.Data == nil:
		return &ValidationError{Field: "receiver", Reason: "missing: this is not an Alertmanager notification"}
	case m.Version != "4":
		return &ValidationError{Field: "version", Reason: fmt.Sprintf("%q is not supported: amslack reads webhook version \"4\"", m.Version)}
	case m.GroupKey == "":
		return &ValidationError{Field: "groupKey", Reason: "missing"}
	case m.Receiver == "":
		return &ValidationError{Field: "receiver", Reason: "missing"}
	case m.Status != "firing" && m.Status != "resolved":
		return &ValidationError{Field: "status", Reason: fmt.Sprintf("%q: want \"firing\" or \"resolved\"", m.Status)}
	case len(m.Alerts) == 0:
		return &ValidationError{Field: "alerts", Reason: "empty"}
	}
	for i, a := range m.Alerts {
		if a.Status != "firing" && a.Status != "resolved" {
			return &ValidationError{Field: fmt.Sprintf("alerts[%d].status", i), Reason: fmt.Sprintf("%q: want \"firing\" or \"resolved\"", a.Status)}
		}
		if a.Fingerprint == "" {
			return &ValidationError{Field: fmt.Sprintf("alerts[%d].fingerprint", i), Reason: "missing"}
		}
	}
	return nil
}
