package interact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Slack's request signing headers.
const (
	HeaderSlackSignature = "X-Slack-Signature"
	HeaderSlackTimestamp = "X-Slack-Request-Timestamp"
)

// SignatureWindow is how far a request's timestamp may be from the clock,
// either way. Slack: "reject requests older than five minutes", which stops
// the replay of a captured request.
const SignatureWindow = 5 * time.Minute

// Errors of request verification. Each one makes the handler answer 401.
var (
	ErrMissingHeaders   = errors.New("missing Slack signature or timestamp header")
	ErrInvalidTimestamp = errors.New("malformed Slack request timestamp")
	ErrStaleTimestamp   = errors.New("request timestamp is too old")
	ErrFutureTimestamp  = errors.New("request timestamp is in the future")
	ErrInvalidSignature = errors.New("invalid Slack signature")
	errNoSigningSecret  = errors.New("no signing secret configured")
)

// VerifyRequest checks that body was signed by Slack with secret, and that
// its timestamp lies within SignatureWindow of the real clock. The HMAC and
// the window are checked by slack-go's SecretsVerifier; the timestamp is
// read here first only to say which way it is off.
func VerifyRequest(header http.Header, body []byte, secret string) error {
	if secret == "" {
		return errNoSigningSecret
	}
	if err := checkTimestamp(header, time.Now()); err != nil {
		return err
	}
	sv, err := slack.NewSecretsVerifier(header, secret)
	switch {
	case errors.Is(err, slack.ErrMissingHeaders):
		return ErrMissingHeaders
	case errors.Is(err, slack.ErrExpiredTimestamp):
		// The clock moved past the window between the two checks.
		return ErrStaleTimestamp
	case err != nil:
		// A signature that is not "v0=" and 64 hex digits.
		return ErrInvalidSignature
	}
	if _, err := sv.Write(body); err != nil {
		return ErrInvalidSignature
	}
	if err := sv.Ensure(); err != nil {
		return ErrInvalidSignature
	}
	return nil
}

// VerifyAt makes the checks of VerifyRequest against now instead of the
// real clock, with the same errors. It exists so that the signature can be
// checked against Slack's published example, whose timestamp is years old.
func VerifyAt(header http.Header, body []byte, secret string, now time.Time) error {
	if secret == "" {
		return errNoSigningSecret
	}
	if err := checkTimestamp(header, now); err != nil {
		return err
	}
	// Compare the MAC bytes, as slack-go does, so that both functions
	// accept the same signatures (hex digits in either case).
	hexSig, ok := strings.CutPrefix(header.Get(HeaderSlackSignature), "v0=")
	if !ok {
		return ErrInvalidSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrInvalidSignature
	}
	want, _ := hex.DecodeString(strings.TrimPrefix(SlackSignature(secret, header.Get(HeaderSlackTimestamp), body), "v0="))
	// Constant-time comparison: timing must not reveal how much of a forged
	// signature is right.
	if !hmac.Equal(got, want) {
		return ErrInvalidSignature
	}
	return nil
}

func checkTimestamp(header http.Header, now time.Time) error {
	ts := header.Get(HeaderSlackTimestamp)
	if ts == "" || header.Get(HeaderSlackSignature) == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	switch d := now.Sub(time.Unix(sec, 0)); {
	case d > SignatureWindow:
		return ErrStaleTimestamp
	case d < -SignatureWindow:
		return ErrFutureTimestamp
	}
	return nil
}

// SlackSignature returns the X-Slack-Signature of body sent at timestamp ts:
// "v0=" and the hex HMAC-SHA256 of "v0:" + ts + ":" + body under secret.
// Fakes of Slack use it to sign what they send.
func SlackSignature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// endpointInteractions is /slack/interactions, whose refusals are counted
// by amslack_interaction_requests_rejected_total; the other endpoints'
// refusals are counted by amslack_slack_requests_rejected_total.
const endpointInteractions = "interactions"

// readVerified reads a request to endpoint and checks Slack's signature,
// answering 405, 413, 400 or 401 when it cannot be read or verified. It
// reports false when it has answered. noRetry marks each refusal with
// X-Slack-No-Retry, which the Events API reads: none of them can succeed
// when sent again.
func (h *Handler) readVerified(w http.ResponseWriter, r *http.Request, endpoint string, noRetry bool) ([]byte, bool) {
	body, ok := h.readBody(w, r, endpoint, noRetry)
	if !ok {
		return nil, false
	}
	return body, h.verify(w, r, body, endpoint, noRetry)
}

// readBody reads a POST body of at most MaxBodyBytes.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, endpoint string, noRetry bool) ([]byte, bool) {
	if r.Method != http.MethodPost {
		h.countRejected(endpoint, rejectMethod)
		w.Header().Set("Allow", http.MethodPost)
		refuse(w, "method not allowed", http.StatusMethodNotAllowed, noRetry)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.countRejected(endpoint, rejectTooLarge)
			refuse(w, "request body too large", http.StatusRequestEntityTooLarge, noRetry)
			return nil, false
		}
		h.countRejected(endpoint, rejectMalformed)
		refuse(w, "cannot read request body", http.StatusBadRequest, noRetry)
		return nil, false
	}
	return body, true
}

// verify checks Slack's signature over the raw body.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request, body []byte, endpoint string, noRetry bool) bool {
	if err := VerifyRequest(r.Header, body, h.secret); err != nil {
		h.countRejected(endpoint, rejectUnauthorized)
		if endpoint == endpointInteractions {
			h.logger.Warn("rejected interaction request", "err", err, "remote_addr", r.RemoteAddr)
		} else {
			h.logger.Warn("rejected Slack request", "endpoint", endpoint, "err", err, "remote_addr", r.RemoteAddr)
		}
		refuse(w, "unauthorized", http.StatusUnauthorized, noRetry)
		return false
	}
	return true
}

// countRejected counts a request to endpoint refused for reason, on the
// metric that endpoint has always been counted on, so that dashboards keep
// their series.
func (h *Handler) countRejected(endpoint, reason string) {
	if endpoint == endpointInteractions {
		h.metrics.rejected.WithLabelValues(reason).Inc()
		return
	}
	h.smetrics.rejected.WithLabelValues(endpoint, reason).Inc()
}

func refuse(w http.ResponseWriter, msg string, status int, noRetry bool) {
	if noRetry {
		w.Header().Set(HeaderSlackNoRetry, "1")
	}
	http.Error(w, msg, status)
}
