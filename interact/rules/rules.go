// Package rules declares what amslack.yml says about who may act on alert
// groups and what runbook actions do: Rule, Action and its Confirm dialog,
// with their defaults and validation. The configuration decodes into these
// types and interact acts on them, so the two cannot disagree; the package
// imports nothing of amslack.
package rules

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// Defaults of a runbook action: approvals and timeout when they are not
// set.
const (
	DefaultApprovals     = 1
	DefaultActionTimeout = 10 * time.Second
)

// Rule says who may perform an action, and on which alert groups.
//
// A user may act when Users and UserGroups are both empty, when Users lists
// them, or when they belong to one of UserGroups (Slack user group IDs). The
// action applies to a group only when every matcher matches the group's
// common labels.
type Rule struct {
	Users      []string `yaml:"users,omitempty"`
	UserGroups []string `yaml:"usergroups,omitempty"`
	// Matchers are Alertmanager matcher strings such as
	// `severity=~"critical|page"`; one string may hold several,
	// comma-separated, in braces or not.
	Matchers []string `yaml:"matchers,omitempty"`

	// ParsedMatchers is Matchers parsed; Validate fills it.
	ParsedMatchers labels.Matchers `yaml:"-"`
}

// Validate checks the IDs' shapes and parses Matchers into ParsedMatchers.
// Errors name the offending key.
func (r *Rule) Validate() error {
	var errs []error
	for _, u := range r.Users {
		// Slack user IDs start with U, or W in Enterprise Grid.
		if !strings.HasPrefix(u, "U") && !strings.HasPrefix(u, "W") {
			errs = append(errs, fmt.Errorf("users: %q is not a Slack user ID (like U0123ABCD)", u))
		}
	}
	for _, g := range r.UserGroups {
		if !strings.HasPrefix(g, "S") {
			errs = append(errs, fmt.Errorf("usergroups: %q is not a Slack user group ID (like S0123ABCD)", g))
		}
	}
	ms, err := ParseMatchers(r.Matchers)
	if err != nil {
		errs = append(errs, err)
	}
	r.ParsedMatchers = ms
	return errors.Join(errs...)
}

// Open reports whether the rule lets everyone act.
func (r *Rule) Open() bool { return len(r.Users) == 0 && len(r.UserGroups) == 0 }

// ParseMatchers parses Alertmanager matcher strings, each of which may
// hold several; errors name the string by its index.
func ParseMatchers(ss []string) (labels.Matchers, error) {
	var (
		out  labels.Matchers
		errs []error
	)
	for i, s := range ss {
		ms, err := labels.ParseMatchers(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("matchers[%d]: %w", i, err))
			continue
		}
		out = append(out, ms...)
	}
	return out, errors.Join(errs...)
}

// Confirm is the confirmation dialog Slack shows before it sends a click.
type Confirm struct {
	Title   string `yaml:"title,omitempty"`
	Text    string `yaml:"text"`
	Confirm string `yaml:"confirm,omitempty"`
	Deny    string `yaml:"deny,omitempty"`
}

// validate checks the dialog against Slack's limits: a confirm dialog's
// title at most 100 characters, its text 300, its buttons 30
// (https://api.slack.com/reference/block-kit/composition-objects#confirm).
func (c *Confirm) validate(bad func(key, format string, args ...any)) {
	if c.Text == "" {
		bad("confirm.text", "must be set")
	}
	for _, f := range []struct {
		key   string
		value string
		max   int
	}{{"title", c.Title, 100}, {"text", c.Text, 300}, {"confirm", c.Confirm, 30}, {"deny", c.Deny, 30}} {
		if n := len([]rune(f.value)); n > f.max {
			bad("confirm."+f.key, "is %d characters, Slack allows %d", n, f.max)
		}
	}
}

// Action is a runbook action: a button that, once enough distinct allowed
// people clicked it, calls an internal API with a signed POST (see package
// runbook for the call's contract).
type Action struct {
	// ID is the button's action_id.
	ID    string `yaml:"id"`
	Label string `yaml:"label"`
	// URL receives the signed POST. It is not logged: it may carry a token.
	URL     string   `yaml:"url"`
	Style   string   `yaml:"style,omitempty"`
	Confirm *Confirm `yaml:"confirm,omitempty"`
	// Allow lists who may approve; it must name users or user groups.
	Allow Rule `yaml:"allow"`
	// Matchers restrict the groups the action is offered on and applies to.
	Matchers []string `yaml:"matchers,omitempty"`
	// Approvals is how many distinct people must click before the call is
	// made (default DefaultApprovals).
	Approvals int `yaml:"approvals,omitempty"`
	// Timeout bounds each attempt of the call (default
	// DefaultActionTimeout).
	Timeout model.Duration `yaml:"timeout,omitempty"`
	// Secret, or the content of SecretFile, signs the call. SetDirectory
	// makes a relative SecretFile relative to the configuration file.
	Secret     commoncfg.Secret `yaml:"secret,omitempty"`
	SecretFile string           `yaml:"secret_file,omitempty"`

	// ParsedMatchers is Matchers parsed; Validate fills it.
	ParsedMatchers labels.Matchers `yaml:"-"`
}

// actionIDPattern keeps ids short and plain: they become Block Kit
// action_ids (at most 255 characters) and appear in audit lines.
var actionIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Validate fills defaults, parses matchers and checks the action against
// Slack's Block Kit limits; reserved reports the ids of amslack's own
// controls, which an action may not take. Errors name the action and the
// key.
func (a *Action) Validate(reserved func(id string) bool) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("action %q: %s: %s", a.ID, key, fmt.Sprintf(format, args...)))
	}
	switch {
	case !actionIDPattern.MatchString(a.ID):
		bad("id", "must be lower case letters, digits and _ (at most 64), starting with a letter")
	case reserved(a.ID):
		bad("id", "is the id of a built-in control")
	}
	// Slack: button text at most 75 characters.
	if a.Label == "" {
		bad("label", "must be set")
	} else if n := len([]rune(a.Label)); n > 75 {
		bad("label", "is %d characters, Slack allows 75 on a button", n)
	}
	if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may carry a token: say what is wrong, not what it is.
		bad("url", "must be an absolute http(s) URL")
	}
	switch a.Style {
	case "", "primary", "danger":
	default:
		bad("style", `must be "primary" or "danger", got %q`, a.Style)
	}
	if a.Confirm != nil {
		a.Confirm.validate(bad)
	}
	if err := a.Allow.Validate(); err != nil {
		bad("allow", "%v", err)
	}
	if a.Allow.Open() {
		bad("allow", "must list users or usergroups: runbook actions are not open to everyone")
	}
	ms, err := ParseMatchers(a.Matchers)
	if err != nil {
		bad("matchers", "%v", err)
	}
	a.ParsedMatchers = ms
	a.validateCall(bad)
	return errors.Join(errs...)
}

// validateCall fills in and checks how the action's call is made: the
// approvals it waits for, its timeout and its signing secret.
func (a *Action) validateCall(bad func(key, format string, args ...any)) {
	switch {
	case a.Approvals < 0:
		bad("approvals", "must not be negative")
	case a.Approvals == 0:
		a.Approvals = DefaultApprovals
	}
	switch {
	case a.Timeout < 0:
		bad("timeout", "must not be negative")
	case a.Timeout == 0:
		a.Timeout = model.Duration(DefaultActionTimeout)
	}
	if (a.Secret == "") == (a.SecretFile == "") {
		bad("secret", "exactly one of secret and secret_file must be set: calls must be signed")
	}
}

// SetDirectory resolves a relative SecretFile against dir, the directory of
// the configuration file.
func (a *Action) SetDirectory(dir string) {
	a.SecretFile = commoncfg.JoinDir(dir, a.SecretFile)
}

// ValidateActions validates each action, as Validate does, and checks that
// ids are unique. Errors name the action by its index.
func ValidateActions(actions []Action, reserved func(id string) bool) []error {
	var errs []error
	seen := map[string]bool{}
	for i := range actions {
		a := &actions[i]
		if err := a.Validate(reserved); err != nil {
			errs = append(errs, fmt.Errorf("actions[%d]: %w", i, err))
		}
		if seen[a.ID] {
			errs = append(errs, fmt.Errorf("actions[%d]: id %q is used by another action", i, a.ID))
		}
		seen[a.ID] = true
	}
	return errs
}
