package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// Route sends alert groups to a Slack channel or an incoming webhook.
type Route struct {
	// Name identifies the route in logs, metrics and state; defaults to the
	// receiver, or "route<N>".
	Name     string   `yaml:"name,omitempty"`
	Receiver string   `yaml:"receiver,omitempty"`
	Matchers []string `yaml:"matchers,omitempty"`
	Channel  string   `yaml:"channel,omitempty"`
	// FallbackChannel receives what Slack refuses for good in Channel
	// (archived, deleted, the bot not a member, blocks refused).
	FallbackChannel string `yaml:"fallback_channel,omitempty"`
	// WebhookURL is a Slack incoming webhook: one-way, no updates.
	WebhookURL     commoncfg.Secret  `yaml:"webhook_url,omitempty"`
	WebhookURLFile string            `yaml:"webhook_url_file,omitempty"`
	Mention        map[string]string `yaml:"mention,omitempty"`
	// SilenceDurations are the choices of the Silence select.
	SilenceDurations []model.Duration `yaml:"silence_durations,omitempty"`
	// ThreadReplies adds a short thread reply for every change (default true).
	ThreadReplies *bool `yaml:"thread_replies,omitempty"`
	// Repeat says what a repeat notification with no change does: "ignore"
	// (default) or "thread" (bump with a thread reply).
	Repeat string `yaml:"repeat,omitempty"`
	// Actions lists the runbook action ids offered on this route; empty
	// offers every action whose matchers fit.
	Actions []string `yaml:"actions,omitempty"`
	// Templates maps a message part (one of TemplateParts) to the template
	// that renders it on this route, instead of the conventional
	// amslack.<part>.
	Templates map[string]string `yaml:"templates,omitempty"`

	ParsedMatchers labels.Matchers `yaml:"-"`
}

// Repeat modes of a route.
const (
	RepeatIgnore = "ignore"
	RepeatThread = "thread"
)

// TemplateParts are the parts of a message that a route's templates may
// name, in the order of the message.
var TemplateParts = []string{"title", "severity", "context", "action_hint", "links", "alert_line", "text"}

// maxSilenceDuration is the longest choice of the Silence select.
const maxSilenceDuration = 30 * 24 * time.Hour

// validate fills in the defaults of the route at key, the i-th of the
// file, and checks it. names holds the names of the routes before it.
func (r *Route) validate(key string, i int, names map[string]bool) []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if r.Name == "" {
		r.Name = r.Receiver
		if r.Name == "" || names[r.Name] {
			r.Name = fmt.Sprintf("route%d", i)
		}
	}
	if names[r.Name] {
		bad(key+".name", "%q is used by another route", r.Name)
	}
	names[r.Name] = true
	r.validateDestination(key, bad)
	r.validateFallback(key, bad)
	for j, m := range r.Matchers {
		ms, err := labels.ParseMatchers(m)
		if err != nil {
			bad(fmt.Sprintf("%s.matchers[%d]", key, j), "%v", err)
			continue
		}
		r.ParsedMatchers = append(r.ParsedMatchers, ms...)
	}
	for j, d := range r.SilenceDurations {
		if d <= 0 || time.Duration(d) > maxSilenceDuration {
			bad(fmt.Sprintf("%s.silence_durations[%d]", key, j), "must be between 1s and 30d, got %s", d)
		}
	}
	if len(r.SilenceDurations) > 99 {
		bad(key+".silence_durations", "at most 99 choices fit in a Slack select")
	}
	switch r.Repeat {
	case "":
		r.Repeat = RepeatIgnore
	case RepeatIgnore, RepeatThread:
	default:
		bad(key+".repeat", `must be "ignore" or "thread", got %q`, r.Repeat)
	}
	for sev, m := range r.Mention {
		if sev == "" || m == "" {
			bad(key+".mention", "severity and mention must both be non-empty")
		}
	}
	return errs
}

// validateDestination checks that the route names one channel or one
// incoming webhook.
func (r *Route) validateDestination(key string, bad func(key, format string, args ...any)) {
	hasWebhook := r.WebhookURL != "" || r.WebhookURLFile != ""
	switch {
	case r.Channel == "" && !hasWebhook:
		bad(key, "one of channel, webhook_url and webhook_url_file must be set")
	case r.Channel != "" && hasWebhook:
		bad(key, "channel and webhook_url are mutually exclusive")
	case r.WebhookURL != "" && r.WebhookURLFile != "":
		bad(key, "at most one of webhook_url and webhook_url_file may be set")
	case r.Channel != "" && !channelID.MatchString(r.Channel):
		bad(key+".channel", "%s", notChannelID(r.Channel))
	case r.WebhookURL != "":
		if err := checkURL(string(r.WebhookURL)); err != nil {
			// The URL is a secret: name the problem, not the value.
			bad(key+".webhook_url", "not a valid http(s) URL")
		}
	}
}

// validateFallback checks the route's fallback channel: a channel ID other
// than the route's own, on a route that posts to a channel. Incoming
// webhooks post to the channel they were made for and nowhere else.
func (r *Route) validateFallback(key string, bad func(key, format string, args ...any)) {
	switch fb := r.FallbackChannel; {
	case fb == "":
	case r.Channel == "":
		bad(key+".fallback_channel", "only a route with a channel can have one; incoming webhooks post to one channel only")
	case !channelID.MatchString(fb):
		bad(key+".fallback_channel", "%s", notChannelID(fb))
	case fb == r.Channel:
		bad(key+".fallback_channel", "must differ from channel %s", r.Channel)
	}
}

// validateReferences checks that the route at key names only actions of
// ids and parts of TemplateParts.
func (r *Route) validateReferences(key string, ids map[string]bool) []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	for _, id := range r.Actions {
		if !ids[id] {
			bad(key+".actions", "unknown action %q", id)
		}
	}
	for _, part := range slices.Sorted(maps.Keys(r.Templates)) {
		switch {
		case !slices.Contains(TemplateParts, part):
			bad(key+".templates", "unknown part %q (parts: %s)", part, strings.Join(TemplateParts, ", "))
		case r.Templates[part] == "":
			bad(key+".templates."+part, "empty template name")
		}
	}
	return errs
}
