package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Delivery tunes the sender.
type Delivery struct {
	// ChannelRate is messages per second per channel (Slack: about 1).
	ChannelRate  float64 `yaml:"channel_rate,omitempty"`
	ChannelBurst int     `yaml:"channel_burst,omitempty"`
	// MethodPerMinute caps calls per Slack method (chat.update is Tier 3).
	MethodPerMinute map[string]int `yaml:"method_per_minute,omitempty"`
	// WorkspacePerMinute caps messages across all channels.
	WorkspacePerMinute int `yaml:"workspace_per_minute,omitempty"`
	// RateLimitedBackoff is the pause after a 429 without Retry-After.
	RateLimitedBackoff model.Duration `yaml:"rate_limited_backoff,omitempty"`
	// MaxAge is how long a notification is retried before it is
	// dead-lettered.
	MaxAge model.Duration `yaml:"max_age,omitempty"`
	// SeverityOrder ranks severities, most urgent first.
	SeverityOrder []string `yaml:"severity_order,omitempty"`
	// Retention is how long the state of a group is kept after it resolved,
	// or, for a group that never resolves in amslack (send_resolved:
	// false), after its last notification.
	Retention model.Duration `yaml:"retention,omitempty"`
	// DeadLetterLimit is the most dead letters kept; beyond it the oldest
	// are dropped (default DefaultDeadLetterLimit).
	DeadLetterLimit int `yaml:"dead_letter_limit,omitempty"`
	// DeadLetterRetention is how long a dead letter is kept (default
	// DefaultDeadLetterRetention).
	DeadLetterRetention model.Duration `yaml:"dead_letter_retention,omitempty"`
}

// limitedMethods are the Web API methods amslack calls that
// delivery.method_per_minute may limit.
var limitedMethods = []string{"chat.postMessage", "chat.update", "views.open", "views.update", "views.publish", "users.info", "usergroups.users.list"}

// DefaultDelivery holds the values of the keys of delivery that are not
// set. Slack posts about one message per second to a channel
// (https://docs.slack.dev/apis/web-api/rate-limits); chat.update is its Tier 3, 50
// or more calls a minute, and chat.postMessage is limited per channel and
// per workspace instead. The Slack-in path's own calls have limits too:
// views.open is Tier 4 (100 or more a minute) and usergroups.users.list
// Tier 2 (20 or more a minute), per their reference pages on docs.slack.dev.
var DefaultDelivery = Delivery{
	ChannelRate:         1,
	ChannelBurst:        3,
	MethodPerMinute:     map[string]int{"chat.update": 50, "views.open": 100, "views.update": 100, "views.publish": 100, "users.info": 100, "usergroups.users.list": 20},
	WorkspacePerMinute:  300,
	RateLimitedBackoff:  model.Duration(time.Minute),
	MaxAge:              model.Duration(24 * time.Hour),
	SeverityOrder:       DefaultSeverityOrder,
	Retention:           model.Duration(7 * 24 * time.Hour),
	DeadLetterLimit:     DefaultDeadLetterLimit,
	DeadLetterRetention: DefaultDeadLetterRetention,
}

// DefaultSeverityOrder is delivery.severity_order when it is not set: the
// severities of Prometheus's usual alerting rules, most urgent first.
var DefaultSeverityOrder = []string{"critical", "error", "warning", "info", "none"}

// Defaults of the dead-letter list: delivery.dead_letter_limit and
// delivery.dead_letter_retention when they are not set.
const (
	DefaultDeadLetterLimit     = 10000
	DefaultDeadLetterRetention = model.Duration(7 * 24 * time.Hour)
)

// validate fills in the defaults of delivery and checks it.
func (d *Delivery) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	def := &DefaultDelivery
	if d.ChannelRate < 0 {
		bad("delivery.channel_rate", "must not be negative")
	}
	if d.ChannelRate == 0 {
		d.ChannelRate = def.ChannelRate
	}
	if d.ChannelBurst < 0 {
		bad("delivery.channel_burst", "must not be negative")
	}
	if d.ChannelBurst == 0 {
		d.ChannelBurst = def.ChannelBurst
	}
	if d.MethodPerMinute == nil {
		d.MethodPerMinute = map[string]int{}
	}
	for m, n := range def.MethodPerMinute {
		if _, ok := d.MethodPerMinute[m]; !ok {
			d.MethodPerMinute[m] = n
		}
	}
	for m, n := range d.MethodPerMinute {
		switch {
		case !slices.Contains(limitedMethods, m):
			bad("delivery.method_per_minute."+m, "amslack limits only the methods it calls: %s", strings.Join(limitedMethods, ", "))
		case n < 0:
			bad("delivery.method_per_minute."+m, "must not be negative")
		}
	}
	if d.WorkspacePerMinute < 0 {
		bad("delivery.workspace_per_minute", "must not be negative")
	}
	if d.WorkspacePerMinute == 0 {
		d.WorkspacePerMinute = def.WorkspacePerMinute
	}
	if d.RateLimitedBackoff == 0 {
		d.RateLimitedBackoff = def.RateLimitedBackoff
	}
	if d.MaxAge == 0 {
		d.MaxAge = def.MaxAge
	}
	if len(d.SeverityOrder) == 0 {
		d.SeverityOrder = slices.Clone(def.SeverityOrder)
	}
	if d.Retention == 0 {
		d.Retention = def.Retention
	}
	return append(errs, d.validateDeadLetters()...)
}

// validateDeadLetters fills in and checks the dead-letter list's limit and
// retention.
func (d *Delivery) validateDeadLetters() []error {
	var errs []error
	if d.DeadLetterLimit == 0 {
		d.DeadLetterLimit = DefaultDeadLetterLimit
	}
	if d.DeadLetterLimit < 0 {
		errs = append(errs, fmt.Errorf("delivery.dead_letter_limit: must be positive, got %d", d.DeadLetterLimit))
	}
	if d.DeadLetterRetention == 0 {
		d.DeadLetterRetention = DefaultDeadLetterRetention
	}
	// Dead letters past their retention are deleted once an hour.
	if r := time.Duration(d.DeadLetterRetention); r < time.Hour {
		errs = append(errs, fmt.Errorf("delivery.dead_letter_retention: must be at least 1h, got %s", d.DeadLetterRetention))
	}
	return errs
}
