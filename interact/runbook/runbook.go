// Package runbook owns the wire contract between amslack and the internal
// APIs its runbook actions call: the JSON request and response, the
// idempotency key, and the request signature. amslack signs with Sign; an
// internal action server checks calls with Verify.
//
// A call is a POST of a JSON Request with three headers:
//
//	Idempotency-Key: <IdempotencyKey(...)>
//	X-Amslack-Request-Timestamp: <unix seconds>
//	X-Amslack-Signature: v1=<hex(HMAC-SHA256(secret, timestamp + "." + body))>
//
// The server answers with a JSON Response. amslack retries 5xx answers and
// transport errors with the same idempotency key, so the server must run an
// action once per key and answer repeats with the first result.
package runbook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of a runbook call.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderTimestamp      = "X-Amslack-Request-Timestamp"
	HeaderSignature      = "X-Amslack-Signature"
)

// DefaultWindow is how far a call's timestamp may be from the server's
// clock, either way, before Verify rejects it as a possible replay. It is
// Slack's own window for signed requests.
const DefaultWindow = 5 * time.Minute

// signaturePrefix versions the signature scheme so that it can change
// without ambiguity.
const signaturePrefix = "v1="

// Errors returned by Verify.
var (
	ErrMissingHeaders   = errors.New("runbook: missing signature or timestamp header")
	ErrInvalidTimestamp = errors.New("runbook: malformed timestamp")
	ErrExpired          = errors.New("runbook: timestamp outside the allowed window")
	ErrInvalidSignature = errors.New("runbook: invalid signature")
)

// Request is the JSON body of a runbook call.
type Request struct {
	// Action is the configured action id, such as "approve_restart".
	Action string `json:"action"`
	// IdempotencyKey repeats the Idempotency-Key header.
	IdempotencyKey string `json:"idempotency_key"`
	GroupKey       string `json:"group_key"`
	Receiver       string `json:"receiver"`
	Channel        string `json:"channel"`
	MessageTS      string `json:"message_ts"`
	Team           string `json:"team"`
	// User made the click that completed the approvals.
	User User `json:"user"`
	// Approvers are the distinct users who approved, in order.
	Approvers []User `json:"approvers"`
	// Labels are the group's common labels.
	Labels map[string]string `json:"labels"`
	Alerts []Alert           `json:"alerts"`
}

// User is a Slack user.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Alert is one alert of the group.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Status      string            `json:"status"`
	Fingerprint string            `json:"fingerprint"`
}

// Response is the JSON body an internal API answers with. Detail is shown
// to people in Slack.
type Response struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Sign returns the X-Amslack-Signature value of body sent at timestamp ts
// (unix seconds, as sent in X-Amslack-Request-Timestamp).
func Sign(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks the signature headers of a call with body against secret,
// and that the timestamp lies within window of now. It returns one of the
// package's errors.
func Verify(secret []byte, header http.Header, body []byte, now time.Time, window time.Duration) error {
	ts, sig := header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return ErrExpired
	}
	if !strings.HasPrefix(sig, signaturePrefix) {
		return ErrInvalidSignature
	}
	// hmac.Equal compares in constant time, so the answer's timing says
	// nothing about how much of a forged signature was right.
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return ErrInvalidSignature
	}
	return nil
}

// IdempotencyKey returns the key of one run of an action on one Slack
// message: the hex SHA-256 of the team, channel, message ts, action id and
// approval round. Every retry and every amslack replica computes the same
// key for the same run, so the internal API can run it once.
func IdempotencyKey(team, channel, messageTS, actionID string, round int) string {
	h := sha256.New()
	// Length prefixes keep ("a", "bc") and ("ab", "c") apart.
	for _, s := range []string{team, channel, messageTS, actionID, strconv.Itoa(round)} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}
