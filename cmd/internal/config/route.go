package config

import (
	"fmt"
	"maps"
	"regexp"
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
	// Escalate calls people in the message's thread, step by step, while
	// a group fires unacknowledged and not silenced.
	Escalate *Escalate `yaml:"escalate,omitempty"`
	// Digest posts a summary of the route's groups to its channel at set
	// times.
	Digest *Digest `yaml:"digest,omitempty"`
	// BusinessHours, when set, add "until the next business day" to the
	// route's silence menu.
	BusinessHours *BusinessHours `yaml:"business_hours,omitempty"`

	ParsedMatchers labels.Matchers `yaml:"-"`
}

// Escalate is a route's escalation policy.
type Escalate struct {
	// Severities are the group severities that escalate (default
	// DefaultEscalateSeverities); each is one of delivery.severity_order.
	Severities []string `yaml:"severities,omitempty"`
	// Steps fire in order, each once per firing episode; their after
	// increases strictly.
	Steps []EscalateStep `yaml:"steps"`
}

// EscalateStep is one step of an escalation.
type EscalateStep struct {
	// After is how long after the group's message was posted the step
	// fires.
	After model.Duration `yaml:"after"`
	// Mention is who the step calls: <@U…>, <!subteam^S…>, <!here> or
	// <!channel>.
	Mention string `yaml:"mention"`
	// Broadcast also shows the step's thread reply in the channel.
	Broadcast bool `yaml:"broadcast,omitempty"`
}

// DefaultEscalateSeverities is escalate.severities when it is not set.
var DefaultEscalateSeverities = []string{"critical"}

// slackMention matches the mentions Slack's mrkdwn knows: a user, a user
// group, @here and @channel
// (https://api.slack.com/reference/surfaces/formatting#mentioning-users).
var slackMention = regexp.MustCompile(`^(<@[UW][A-Z0-9]{2,}>|<!subteam\^S[A-Z0-9]{2,}>|<!here>|<!channel>)$`)

// validateEscalate fills in the defaults of the route's escalation and
// checks it against the severities that severityOrder knows.
func (r *Route) validateEscalate(key string, severityOrder []string) []error {
	e := r.Escalate
	if e == nil {
		return nil
	}
	key += ".escalate"
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if r.Channel == "" {
		bad(key, "only a route with a channel can escalate; incoming webhooks cannot reply in a thread")
	}
	if len(e.Severities) == 0 {
		e.Severities = slices.Clone(DefaultEscalateSeverities)
	}
	for j, sev := range e.Severities {
		if !slices.Contains(severityOrder, sev) {
			bad(fmt.Sprintf("%s.severities[%d]", key, j), "unknown severity %q (delivery.severity_order: %s)", sev, strings.Join(severityOrder, ", "))
		}
	}
	if len(e.Steps) == 0 {
		bad(key+".steps", "at least one step is needed")
	}
	for j, st := range e.Steps {
		at := fmt.Sprintf("%s.steps[%d]", key, j)
		switch {
		case st.After <= 0:
			bad(at+".after", "must be positive, got %s", st.After)
		case j > 0 && st.After <= e.Steps[j-1].After:
			bad(at+".after", "must be later than steps[%d].after (%s), got %s", j-1, e.Steps[j-1].After, st.After)
		}
		switch {
		case st.Mention == "":
			bad(at+".mention", "must not be empty")
		case !slackMention.MatchString(st.Mention):
			bad(at+".mention", "%q is not a Slack mention: use <@U…> for a user, <!subteam^S…> for a user group, <!here> or <!channel>", st.Mention)
		}
	}
	return errs
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
	errs = append(errs, r.validateDigest(key)...)
	errs = append(errs, r.validateBusinessHours(key)...)
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
