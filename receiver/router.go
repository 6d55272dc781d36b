package receiver

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Route is where alert groups go: the first route whose receiver and
// matchers fit a group takes it.
type Route struct {
	// Name identifies the route; it is stored with each notification so
	// the route's rendering options apply when the message is sent.
	Name string
	// Receiver, when set, must equal the payload's receiver once
	// Alertmanager's regex escaping is undone.
	Receiver string
	// Matchers, when set, must all match the group's common labels.
	Matchers labels.Matchers
	// Channel is a Slack channel ID; empty for a webhook route.
	Channel string
	// Webhook is true for a route that posts through an incoming webhook.
	Webhook bool
}

// Destination is the Key.Channel the route sends to.
func (r *Route) Destination() string {
	if r.Webhook {
		return alertgroup.WebhookPrefix + r.Name
	}
	return r.Channel
}

// IsDefault reports whether the route matches every group.
func (r *Route) IsDefault() bool { return r.Receiver == "" && len(r.Matchers) == 0 }

// Router picks the route of each alert group.
type Router struct {
	routes []*Route
	// allowed restricts ?channel=; nil allows any channel.
	allowed map[string]bool
}

// Errors the router returns; the handler maps them to 4xx answers.
var (
	ErrNoRoute           = errors.New("no route matches")
	ErrChannelNotAllowed = errors.New("channel is not in allowed_channels")
	// ErrChannelInvalid is a ?channel= that is not a Slack conversation ID.
	ErrChannelInvalid = errors.New("the channel query parameter must be a Slack channel ID: C, G or D followed by 8 or more upper-case letters and digits, like C0123456789")
)

// conversationID is the form of the conversation IDs Slack issues: C for
// channels, G for private channels and group DMs, D for direct messages
// (https://api.slack.com/types/conversation), then at least eight upper-case
// letters and digits. A request names a channel by its ID, never by name.
var conversationID = regexp.MustCompile(`^[CGD][A-Z0-9]{8,}$`)

// NewRouter builds a router from routes in order; allowedChannels restricts
// the channels a request may name with ?channel= (empty allows any).
func NewRouter(routes []*Route, allowedChannels []string) *Router {
	rt := &Router{routes: routes}
	if len(allowedChannels) > 0 {
		rt.allowed = map[string]bool{}
		for _, c := range allowedChannels {
			rt.allowed[c] = true
		}
	}
	return rt
}

// Route returns the route for a message. A non-empty channel (from the
// request's ?channel=) sends to that channel with the default route's
// options, so that routing can live entirely in alertmanager.yml.
func (rt *Router) Route(m *alertgroup.Message, channel string) (route *Route, dest string, err error) {
	if channel != "" {
		if !conversationID.MatchString(channel) {
			return nil, "", fmt.Errorf("%w; got %.40q", ErrChannelInvalid, channel)
		}
		if rt.allowed != nil && !rt.allowed[channel] {
			return nil, "", fmt.Errorf("%w: %q", ErrChannelNotAllowed, channel)
		}
		for _, r := range rt.routes {
			if r.IsDefault() {
				return r, channel, nil
			}
		}
		return &Route{Name: "", Channel: channel}, channel, nil
	}
	recv := UnescapeReceiver(m.Receiver)
	ls := model.LabelSet{}
	for k, v := range m.CommonLabels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	for _, r := range rt.routes {
		if r.Receiver != "" && r.Receiver != recv {
			continue
		}
		if !r.Matchers.Matches(ls) {
			continue
		}
		return r, r.Destination(), nil
	}
	return nil, "", fmt.Errorf("%w receiver %q and labels %s", ErrNoRoute, recv, ls)
}

// Routes returns the routes in order.
func (rt *Router) Routes() []*Route { return slices.Clone(rt.routes) }

// UnescapeReceiver undoes the regex escaping Alertmanager applies to the
// receiver name in webhook payloads ("web\.hook" arrives for "web.hook").
func UnescapeReceiver(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	escaped := false
	for _, r := range s {
		if r == '\\' && !escaped {
			escaped = true
			continue
		}
		escaped = false
		b.WriteRune(r)
	}
	return b.String()
}
