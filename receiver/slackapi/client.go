// Package slackapi owns amslack's one way out to Slack: a Client that wraps
// slack-go's Web API client and posts to incoming webhooks, within Slack's
// rate limits. Its Limiter keeps a typed Scope per limit (a channel, a
// method, the workspace, an incoming webhook), admits the calls that all
// channels share most urgent first, and pauses a scope for Slack's
// Retry-After after a 429. Classify sorts the errors of Slack calls. The
// fake Slack beneath it (slackfake) counts its limits by the same Scope.
package slackapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/slack-go/slack"
)

// Web API methods that the Client calls besides MethodPost and
// MethodUpdate, as metric labels and keys of Limits.MethodPerMinute.
const (
	MethodOpenView         = "views.open"
	MethodUserGroupMembers = "usergroups.users.list"
	MethodCompleteSuccess  = "functions.completeSuccess"
	MethodCompleteError    = "functions.completeError"
)

// Options configure a Client.
type Options struct {
	// API is the Web API client, holding the bot token and api_url.
	API *slack.Client
	// HTTPClient posts to incoming webhooks.
	HTTPClient *http.Client
	Limits     Limits
	Registerer prometheus.Registerer
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Client makes every call amslack makes to Slack, each within the limits of
// its scopes. All its methods are safe for concurrent use.
type Client struct {
	api     *slack.Client
	http    *http.Client
	limiter *Limiter
	now     func() time.Time

	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
}

// New returns a Client.
func New(o Options) *Client {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	c := &Client{api: o.API, http: o.HTTPClient, limiter: NewLimiter(o.Limits, o.Now), now: o.Now}
	reg := promauto.With(o.Registerer)
	c.requests = reg.NewCounterVec(prometheus.CounterOpts{
		Namespace: "amslack", Name: "slack_requests_total",
		Help: "Slack API calls by method and result (ok, or the error code).",
	}, []string{"method", "result"})
	c.latency = reg.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "amslack", Name: "slack_request_duration_seconds",
		Help:    "Latency of Slack API calls by method.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"method"})
	c.rateLimited = reg.NewCounterVec(prometheus.CounterOpts{
		Namespace: "amslack", Name: "slack_rate_limited_total",
		Help: "HTTP 429 answers from Slack by method.",
	}, []string{"method"})
	for _, m := range []string{MethodPost, MethodUpdate, MethodWebhook} {
		c.requests.WithLabelValues(m, "ok")
		c.latency.WithLabelValues(m)
		c.rateLimited.WithLabelValues(m)
	}
	return c
}

// Limiter returns the limiter that the client's calls wait on.
func (c *Client) Limiter() *Limiter { return c.limiter }

// do makes one call within the limits of its scopes, counts it, and
// pauses its scope when Slack answers 429. Waiting, it returns ctx's error;
// a failed call's error comes back classified as *Failure.
func (c *Client) do(ctx context.Context, call Call, fn func() error) error {
	if err := c.limiter.Wait(ctx, call); err != nil {
		return err
	}
	start := c.now()
	err := fn()
	c.latency.WithLabelValues(call.Method).Observe(c.now().Sub(start).Seconds())
	if err == nil {
		c.requests.WithLabelValues(call.Method, "ok").Inc()
		return nil
	}
	f := Classify(err)
	c.requests.WithLabelValues(call.Method, f.Code).Inc()
	if f.RateLimited {
		c.rateLimited.WithLabelValues(call.Method).Inc()
		c.limiter.RateLimited(call, f.RetryAfter)
	}
	return f
}

// The calls of the sender. Each goes out after the caller took the slot of
// its channel or webhook (Limiter.Slot), and takes its turn t at the limits
// that all channels share. A call that has started finishes even when ctx
// ends, bounded by the HTTP client's timeout: cancelling it would leave
// Slack's state unknown (posted or not) and invite a duplicate after a
// restart. Errors are *Failure, or ctx's while waiting.

// Post posts a message to channel (chat.postMessage) and returns its ts.
func (c *Client) Post(ctx context.Context, t Turn, channel string, opts ...slack.MsgOption) (string, error) {
	var ts string
	err := c.do(ctx, Call{Method: MethodPost, Dest: ChannelScope(channel), Turn: t, Slotted: true}, func() error {
		var err error
		_, ts, err = c.api.PostMessageContext(context.WithoutCancel(ctx), channel, opts...)
		return err
	})
	return ts, err
}

// Update edits the message ts in channel (chat.update).
func (c *Client) Update(ctx context.Context, t Turn, channel, ts string, opts ...slack.MsgOption) error {
	return c.do(ctx, Call{Method: MethodUpdate, Dest: ChannelScope(channel), Turn: t, Slotted: true}, func() error {
		_, _, _, err := c.api.UpdateMessageContext(context.WithoutCancel(ctx), channel, ts, opts...)
		return err
	})
}

// Webhook posts a message to the incoming webhook at url, which the route
// named route posts through. Errors never contain the URL: it is a secret.
func (c *Client) Webhook(ctx context.Context, t Turn, route, url, text string, blocks []slack.Block) error {
	return c.do(ctx, Call{Method: MethodWebhook, Dest: WebhookScope(route), Turn: t, Slotted: true}, func() error {
		return postWebhook(context.WithoutCancel(ctx), c.http, url, text, blocks, "")
	})
}

// The calls of interactions and events, with slack-go's signatures, so
// that the client stands in for *slack.Client. Each answers someone who
// is waiting, so it takes the first turn (the zero Turn) at the limits that
// all channels share. Errors are slack-go's, or ctx's while waiting.

// OpenViewContext opens a modal (views.open).
func (c *Client) OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error) {
	var resp *slack.ViewResponse
	err := c.do(ctx, Call{Method: MethodOpenView}, func() error {
		var err error
		resp, err = c.api.OpenViewContext(ctx, triggerID, view)
		return err
	})
	return resp, plain(err)
}

// GetUserGroupMembersContext lists a user group's members
// (usergroups.users.list).
func (c *Client) GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error) {
	var ids []string
	err := c.do(ctx, Call{Method: MethodUserGroupMembers}, func() error {
		var err error
		ids, err = c.api.GetUserGroupMembersContext(ctx, userGroup, options...)
		return err
	})
	return ids, plain(err)
}

// PostMessageContext posts a message to channelID (chat.postMessage),
// taking the channel's slot, and returns the channel and the message's ts.
func (c *Client) PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error) {
	var ch, ts string
	err := c.do(ctx, Call{Method: MethodPost, Dest: ChannelScope(channelID)}, func() error {
		var err error
		ch, ts, err = c.api.PostMessageContext(ctx, channelID, options...)
		return err
	})
	return ch, ts, plain(err)
}

// FunctionCompleteSuccessContext ends a Workflow Builder step with its
// outputs (functions.completeSuccess).
func (c *Client) FunctionCompleteSuccessContext(ctx context.Context, functionExecutionID string, options ...slack.FunctionCompleteSuccessRequestOption) error {
	return plain(c.do(ctx, Call{Method: MethodCompleteSuccess}, func() error {
		return c.api.FunctionCompleteSuccessContext(ctx, functionExecutionID, options...)
	}))
}

// FunctionCompleteErrorContext ends a Workflow Builder step with an error
// (functions.completeError).
func (c *Client) FunctionCompleteErrorContext(ctx context.Context, functionExecutionID string, errorMessage string) error {
	return plain(c.do(ctx, Call{Method: MethodCompleteError}, func() error {
		return c.api.FunctionCompleteErrorContext(ctx, functionExecutionID, errorMessage)
	}))
}

// plain returns a call's error as slack-go returned it.
func plain(err error) error {
	if f, ok := errors.AsType[*Failure](err); ok {
		return f.Err
	}
	return err
}
