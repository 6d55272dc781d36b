package slackapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Class is what to do after a failed Slack call. The decision is a value,
// made in one place, rather than string matching spread over the callers.
type Class int

// Classes of Slack failures. Web API errors arrive as HTTP 200 with
// {"ok":false,"error":…}; each method's reference page on docs.slack.dev
// lists its errors, and https://docs.slack.dev/apis/web-api/rate-limits
// the 429.
const (
	// Retry: wait (Retry-After, else exponential backoff) and send again.
	Retry Class = iota
	// Shrink: the message was refused for its size or shape; send a minimal
	// rendering once, never the same one again.
	Shrink
	// Permanent: configuration is wrong (channel, token, scopes); sending
	// again cannot help, so the notification is dead-lettered.
	Permanent
)

func (c Class) String() string {
	switch c {
	case Retry:
		return "retry"
	case Shrink:
		return "shrink"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Failure is a classified Slack error.
type Failure struct {
	Class Class
	// Code is Slack's error string or an HTTP status, bounded for metric
	// labels: "ratelimited", "http_503", "transport", "channel_not_found"…
	Code string
	// RetryAfter is Slack's Retry-After; zero when it sent none.
	RetryAfter time.Duration
	// RateLimited is true for a 429.
	RateLimited bool
	Err         error
}

func (f *Failure) Error() string { return f.Err.Error() }

// SlackDown reports whether the failure says Slack or the way to it is
// down, rather than something about this one message: then the whole
// channel backs off, and its backlog goes out in priority order when Slack
// recovers.
func (f *Failure) SlackDown() bool {
	switch {
	case f.Code == "transport", strings.HasPrefix(f.Code, "http_5"):
		return true
	}
	return knownRetry[f.Code]
}
func (f *Failure) Unwrap() error { return f.Err }

// shrinkable and permanent are Slack's error strings by class, from the
// error tables of chat.postMessage and chat.update on docs.slack.dev.
var (
	shrinkable = map[string]bool{
		"invalid_blocks": true, "invalid_blocks_format": true, "msg_blocks_too_long": true, "msg_too_long": true,
		"invalid_payload": true, "no_text": true,
	}
	permanent = map[string]bool{
		"channel_not_found": true, "not_in_channel": true, "is_archived": true, "channel_is_archived": true,
		"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
		"token_expired": true, "missing_scope": true, "no_permission": true, "invalid_arguments": true,
		"restricted_action": true, "restricted_action_read_only_channel": true,
		"restricted_action_thread_only_channel": true, "restricted_action_non_threadable_channel": true,
		"action_prohibited": true, "posting_to_general_channel_denied": true, "team_access_not_granted": true,
		"ekm_access_denied": true, "message_not_found": true, "cant_update_message": true,
		"edit_window_closed": true, "invalid_token": true, "no_service": true, "no_service_id": true,
		"no_team": true, "team_disabled": true,
	}
	// knownRetry are Slack's transient errors; named so that the metric
	// label stays one of a known set.
	knownRetry = map[string]bool{
		"ratelimited": true, "rate_limited": true, "message_limit_exceeded": true, "internal_error": true,
		"service_unavailable": true, "request_timeout": true, "fatal_error": true,
	}
)

// Classify sorts an error from a Slack call. ctx errors of the caller are
// Retry: the entry stays pending.
func Classify(err error) *Failure {
	f := &Failure{Class: Retry, Code: "transport", Err: err}
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	var we *webhookError
	var ne net.Error
	switch {
	case errors.As(err, &rl):
		f.Code, f.RateLimited, f.RetryAfter = "ratelimited", true, rl.RetryAfter
	case errors.As(err, &we):
		f.RetryAfter = we.retryAfter
		switch {
		case we.status == http.StatusTooManyRequests:
			f.Code, f.RateLimited = "ratelimited", true
		case we.status >= 500:
			f.Code = fmt.Sprintf("http_%d", we.status)
		default:
			f.classifyCode(we.body)
		}
	case errors.As(err, &sc):
		switch {
		case sc.Code == http.StatusTooManyRequests:
			f.Code, f.RateLimited = "ratelimited", true
		case sc.Code >= 500:
			f.Code = fmt.Sprintf("http_%d", sc.Code)
		default:
			// Another 4xx from the Web API is not in Slack's contract;
			// treat it as configuration (a wrong api_url, a proxy).
			f.Class, f.Code = Permanent, fmt.Sprintf("http_%d", sc.Code)
		}
	case errors.As(err, &se):
		f.classifyCode(se.Err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne):
		f.Code = "transport"
	}
	return f
}

func (f *Failure) classifyCode(code string) {
	switch {
	case code == "ratelimited" || code == "rate_limited" || code == "message_limit_exceeded":
		f.Code, f.RateLimited = code, true
	case shrinkable[code]:
		f.Class, f.Code = Shrink, code
	case permanent[code] || len(code) > 18 && code[:18] == "restricted_action_":
		f.Class, f.Code = Permanent, code
		if !permanent[code] {
			f.Code = "restricted_action"
		}
	case knownRetry[code]:
		f.Code = code
	default:
		// An error Slack may add later: retry with backoff until max_age,
		// which dead-letters it if it never clears.
		f.Code = "other"
	}
}
