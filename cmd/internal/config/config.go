// Package config loads and validates amslack's YAML configuration: Slack and
// Alertmanager connections, routes from alert groups to channels, delivery
// limits, the interactions people may perform, and the message templates.
// Unknown keys are errors, defaults live in code, and every secret has a
// _file twin and prints as <secret>.
package config

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/render"
	"go.yaml.in/yaml/v2"
	yaml3 "go.yaml.in/yaml/v3"
)

// Config is the whole configuration file.
type Config struct {
	Slack        Slack        `yaml:"slack"`
	Alertmanager Alertmanager `yaml:"alertmanager"`
	Webhook      Webhook      `yaml:"webhook"`
	Store        Store        `yaml:"store"`
	Routes       []*Route     `yaml:"routes"`
	// AllowedChannels restricts the channels that POST /webhook?channel=
	// may name; empty allows any.
	AllowedChannels []string          `yaml:"allowed_channels,omitempty"`
	Delivery        Delivery          `yaml:"delivery"`
	Interactions    Interactions      `yaml:"interactions"`
	Actions         []interact.Action `yaml:"actions,omitempty"`
	// TemplateFiles are globs of Alertmanager-style template files that
	// shape the messages (see render.NewTemplates); relative ones are taken
	// from the configuration file's directory.
	TemplateFiles []string `yaml:"templates,omitempty"`

	// dir is the directory of the file, for relative _file paths and
	// template globs.
	dir string
	// templates is the compiled template set; nil when the configuration
	// names no template.
	templates *texttemplate.Template
	// file is the file the configuration was loaded from, and doc its node
	// tree, for the lines of problems found after loading.
	file string
	doc  *yaml3.Node
}

// Slack modes.
const (
	ModeAPI     = "api"
	ModePreview = "preview"
)

// Slack is how amslack reaches Slack.
type Slack struct {
	// Mode is "api" (the real Slack Web API at APIURL) or "preview" (an
	// in-process fake Slack, for trying amslack without a workspace).
	Mode              string           `yaml:"mode,omitempty"`
	APIURL            string           `yaml:"api_url,omitempty"`
	BotToken          commoncfg.Secret `yaml:"bot_token,omitempty"`
	BotTokenFile      string           `yaml:"bot_token_file,omitempty"`
	SigningSecret     commoncfg.Secret `yaml:"signing_secret,omitempty"`
	SigningSecretFile string           `yaml:"signing_secret_file,omitempty"`
	// AppToken (xapp-…) turns on Socket Mode: Slack's interactions,
	// commands and events arrive over a WebSocket that amslack opens, for
	// installations that cannot expose a public Request URL.
	AppToken     commoncfg.Secret `yaml:"app_token,omitempty"`
	AppTokenFile string           `yaml:"app_token_file,omitempty"`
	// Timeout bounds each Slack API call.
	Timeout model.Duration `yaml:"timeout,omitempty"`
}

// Alertmanager is where silences are created.
type Alertmanager struct {
	URL string `yaml:"url,omitempty"`
}

// Store is where the state of alert groups lives: embedded in
// --storage.path by default, or in Redis, shared by several replicas.
type Store struct {
	Redis *Redis `yaml:"redis,omitempty"`
}

// Redis is a Redis server.
type Redis struct {
	Address      string           `yaml:"address"`
	Username     string           `yaml:"username,omitempty"`
	Password     commoncfg.Secret `yaml:"password,omitempty"`
	PasswordFile string           `yaml:"password_file,omitempty"`
	DB           int              `yaml:"db,omitempty"`
	// KeyPrefix separates amslack's keys from others'; replicas that share
	// state use the same prefix.
	KeyPrefix string `yaml:"key_prefix,omitempty"`
	// Timeout bounds each Redis call: connecting, writing the command and
	// reading the answer (default DefaultRedisTimeout).
	Timeout model.Duration `yaml:"timeout,omitempty"`
}

// DefaultRedisTimeout is store.redis.timeout when it is not set. Redis
// answers in well under a millisecond on a healthy network; a second means
// it is paused, overloaded or cut off.
const DefaultRedisTimeout = model.Duration(time.Second)

// checkTimeout defaults and bounds store.redis.timeout.
func (r *Redis) checkTimeout() error {
	if r.Timeout == 0 {
		r.Timeout = DefaultRedisTimeout
	}
	if t := time.Duration(r.Timeout); t < 10*time.Millisecond || t > time.Minute {
		return fmt.Errorf("store.redis.timeout: must be between 10ms and 1m, got %s", r.Timeout)
	}
	return nil
}

// Webhook is how Alertmanager authenticates to POST /webhook.
type Webhook struct {
	BearerToken     commoncfg.Secret `yaml:"bearer_token,omitempty"`
	BearerTokenFile string           `yaml:"bearer_token_file,omitempty"`
	BasicAuth       *BasicAuth       `yaml:"basic_auth,omitempty"`
	// MaxBodyBytes bounds a notification's size; larger ones get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes,omitempty"`
	// DedupWindow is how long identical notifications from Alertmanager HA
	// peers are recognised as copies.
	DedupWindow model.Duration `yaml:"dedup_window,omitempty"`
}

// BasicAuth is a user name and password.
type BasicAuth struct {
	Username     string           `yaml:"username"`
	Password     commoncfg.Secret `yaml:"password,omitempty"`
	PasswordFile string           `yaml:"password_file,omitempty"`
}

// Route sends alert groups to a Slack channel or an incoming webhook.
type Route struct {
	// Name identifies the route in logs, metrics and state; defaults to the
	// receiver, or "route<N>".
	Name     string   `yaml:"name,omitempty"`
	Receiver string   `yaml:"receiver,omitempty"`
	Matchers []string `yaml:"matchers,omitempty"`
	Channel  string   `yaml:"channel,omitempty"`
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
	// Templates maps a message part (title, severity, context, action_hint,
	// links, alert_line, text) to the template that renders it on this
	// route, instead of the conventional amslack.<part>.
	Templates map[string]string `yaml:"templates,omitempty"`

	ParsedMatchers labels.Matchers `yaml:"-"`
}

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

// Defaults of the dead-letter list: delivery.dead_letter_limit and
// delivery.dead_letter_retention when they are not set.
const (
	DefaultDeadLetterLimit     = 10000
	DefaultDeadLetterRetention = model.Duration(7 * 24 * time.Hour)
)

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

// Interactions configures the built-in buttons.
type Interactions struct {
	Silence *interact.Rule `yaml:"silence,omitempty"`
	Ack     *interact.Rule `yaml:"ack,omitempty"`
	// AckMode is "silence" (an ACK! silence, kept while the group fires) or
	// "state" (only recorded in amslack).
	AckMode     string         `yaml:"ack_mode,omitempty"`
	AckDuration model.Duration `yaml:"ack_duration,omitempty"`
	// SilenceMatchers is "common" (the group's common labels) or "group"
	// (its group labels).
	SilenceMatchers   string         `yaml:"silence_matchers,omitempty"`
	DedupTTL          model.Duration `yaml:"dedup_ttl,omitempty"`
	ReconcileInterval model.Duration `yaml:"reconcile_interval,omitempty"`
	AuditFile         string         `yaml:"audit_file,omitempty"`
	// ApprovalWindow is how long a runbook action's approval counts toward
	// the round that runs it (default interact.DefaultApprovalWindow).
	ApprovalWindow model.Duration `yaml:"approval_window,omitempty"`
	// ResolveTimeout is how long Alertmanager must have run, or a silenced
	// group's alerts have been missing from it, before the reconciler
	// takes their absence for resolution (default
	// interact.DefaultResolveTimeout).
	ResolveTimeout model.Duration `yaml:"resolve_timeout,omitempty"`
}

// validateReconcile fills in the resolve timeout and checks the
// acknowledgement silence's length against the reconcile interval.
func (in *Interactions) validateReconcile() []error {
	if in.ResolveTimeout == 0 {
		in.ResolveTimeout = model.Duration(interact.DefaultResolveTimeout)
	}
	// The reconciler extends an acknowledgement silence once it ends within
	// two reconcile intervals; a shorter one is extended on every pass, and
	// one missed pass (Alertmanager unavailable) can let it lapse.
	if ack, every := time.Duration(in.AckDuration), time.Duration(in.ReconcileInterval); in.AckMode == interact.AckModeSilence && ack <= 2*every {
		return []error{fmt.Errorf("interactions.ack_duration: must be longer than twice interactions.reconcile_interval (%s), got %s: "+
			"the acknowledgement silence is extended when it ends within two reconcile intervals", model.Duration(2*every), in.AckDuration)}
	}
	return nil
}

// validateClickWindows checks the de-duplication TTL and fills in and checks
// the approval window.
func (in *Interactions) validateClickWindows() []error {
	var errs []error
	if d := time.Duration(in.DedupTTL); d < interact.MinDedupTTL {
		errs = append(errs, fmt.Errorf("interactions.dedup_ttl: must be at least %s, longer than the 5 minutes in which Slack's signature check accepts a replayed request, got %s",
			model.Duration(interact.MinDedupTTL), in.DedupTTL))
	}
	if in.ApprovalWindow == 0 {
		in.ApprovalWindow = model.Duration(interact.DefaultApprovalWindow)
	}
	if d := time.Duration(in.ApprovalWindow); d < interact.MinApprovalWindow || d > interact.MaxApprovalWindow {
		errs = append(errs, fmt.Errorf("interactions.approval_window: must be between %s and %s, got %s",
			model.Duration(interact.MinApprovalWindow), model.Duration(interact.MaxApprovalWindow), in.ApprovalWindow))
	}
	return errs
}

// Defaults.
const (
	DefaultAPIURL       = "https://slack.com/api/"
	DefaultMaxBodyBytes = 4 << 20
)

// Load reads and validates the file at path, and compiles the templates it
// names.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := parse(b, filepath.Dir(path))
	if err != nil {
		return nil, inFile(path, err)
	}
	cfg.file = path
	for i := range cfg.Actions {
		cfg.Actions[i].SetDirectory(cfg.dir)
	}
	return cfg, nil
}

// Parse decodes and validates a configuration document, and compiles the
// templates it names. Relative _file paths and template globs are taken
// from the working directory; Load makes them relative to the file
// instead.
func Parse(b []byte) (*Config, error) {
	return parse(b, "")
}

// parse is Parse with relative paths taken from dir. Its error holds a
// Problem for each thing wrong, in the order of the document's lines: the
// parts that do not decode are left out, so that the rest is validated in
// the same pass.
func parse(b []byte, dir string) (*Config, error) {
	cfg := &Config{dir: dir}
	doc, problems := decode(b, cfg)
	if doc == nil {
		return nil, joinProblems(problems)
	}
	reported := make([]string, 0, len(problems))
	for _, p := range problems {
		reported = append(reported, p.Key)
	}
	problems = append(problems, locate(doc, cfg.validate(), reported)...)
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	cfg.doc = doc
	return cfg, nil
}

// channelID is the shape of a Slack conversation ID.
var channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)

// notChannelID says that s is not a channel ID, and where Slack shows a
// channel's ID: the channel details' About tab, and the last element of
// the channel's link.
func notChannelID(s string) string {
	return fmt.Sprintf("%q is not a Slack channel ID (like C0123456789). To find a channel's ID in Slack, "+
		"open the channel and click its name: the ID is at the bottom of the About tab; "+
		"or right-click the channel, choose Copy link, and take the link's last path element", s)
}

func (c *Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	s := &c.Slack
	switch s.Mode {
	case "":
		s.Mode = ModeAPI
	case ModeAPI, ModePreview:
	default:
		bad("slack.mode", "must be %q or %q, got %q", ModeAPI, ModePreview, s.Mode)
	}
	if s.APIURL == "" {
		s.APIURL = DefaultAPIURL
	}
	if err := checkURL(s.APIURL); err != nil {
		bad("slack.api_url", "%v", err)
	} else if !strings.HasSuffix(s.APIURL, "/") {
		s.APIURL += "/"
	}
	if s.BotToken != "" && s.BotTokenFile != "" {
		bad("slack", "at most one of bot_token and bot_token_file may be set")
	}
	if s.SigningSecret != "" && s.SigningSecretFile != "" {
		bad("slack", "at most one of signing_secret and signing_secret_file may be set")
	}
	if s.AppToken != "" && s.AppTokenFile != "" {
		bad("slack", "at most one of app_token and app_token_file may be set")
	}
	if s.AppToken != "" && !strings.HasPrefix(string(s.AppToken), "xapp-") {
		bad("slack.app_token", "must be an app-level token (xapp-…) with the connections:write scope")
	}
	if s.Timeout == 0 {
		s.Timeout = model.Duration(10 * time.Second)
	}

	if c.Alertmanager.URL != "" {
		if err := checkURL(c.Alertmanager.URL); err != nil {
			bad("alertmanager.url", "%v", err)
		}
	}

	if r := c.Store.Redis; r != nil {
		if _, _, err := net.SplitHostPort(r.Address); err != nil {
			bad("store.redis.address", "want host:port: %v", err)
		}
		if r.Password != "" && r.PasswordFile != "" {
			bad("store.redis", "at most one of password and password_file may be set")
		}
		if r.DB < 0 {
			bad("store.redis.db", "must not be negative")
		}
		if r.KeyPrefix == "" {
			r.KeyPrefix = "amslack:"
		}
		if err := r.checkTimeout(); err != nil {
			errs = append(errs, err)
		}
	}

	w := &c.Webhook
	if w.BearerToken != "" && w.BearerTokenFile != "" {
		bad("webhook", "at most one of bearer_token and bearer_token_file may be set")
	}
	if w.BasicAuth != nil {
		if w.BearerToken != "" || w.BearerTokenFile != "" {
			bad("webhook", "bearer_token and basic_auth are mutually exclusive")
		}
		if w.BasicAuth.Username == "" {
			bad("webhook.basic_auth.username", "must be set")
		}
		if (w.BasicAuth.Password == "") == (w.BasicAuth.PasswordFile == "") {
			bad("webhook.basic_auth", "exactly one of password and password_file must be set")
		}
	}
	if w.MaxBodyBytes < 0 {
		bad("webhook.max_body_bytes", "must not be negative")
	}
	if w.MaxBodyBytes == 0 {
		w.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if w.DedupWindow == 0 {
		w.DedupWindow = model.Duration(5 * time.Minute)
	}

	for _, ch := range c.AllowedChannels {
		if !channelID.MatchString(ch) {
			bad("allowed_channels", "%s", notChannelID(ch))
		}
	}

	names := map[string]bool{}
	for i, r := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		if r == nil {
			bad(key, "empty route")
			continue
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
		for j, m := range r.Matchers {
			ms, err := labels.ParseMatchers(m)
			if err != nil {
				bad(fmt.Sprintf("%s.matchers[%d]", key, j), "%v", err)
				continue
			}
			r.ParsedMatchers = append(r.ParsedMatchers, ms...)
		}
		for j, d := range r.SilenceDurations {
			if d <= 0 || time.Duration(d) > 30*24*time.Hour {
				bad(fmt.Sprintf("%s.silence_durations[%d]", key, j), "must be between 1s and 30d, got %s", d)
			}
		}
		if len(r.SilenceDurations) > 99 {
			bad(key+".silence_durations", "at most 99 choices fit in a Slack select")
		}
		switch r.Repeat {
		case "":
			r.Repeat = "ignore"
		case "ignore", "thread":
		default:
			bad(key+".repeat", `must be "ignore" or "thread", got %q`, r.Repeat)
		}
		for sev, m := range r.Mention {
			if sev == "" || m == "" {
				bad(key+".mention", "severity and mention must both be non-empty")
			}
		}
	}

	d := &c.Delivery
	if d.ChannelRate < 0 {
		bad("delivery.channel_rate", "must not be negative")
	}
	if d.ChannelRate == 0 {
		d.ChannelRate = 1
	}
	if d.ChannelBurst < 0 {
		bad("delivery.channel_burst", "must not be negative")
	}
	if d.ChannelBurst == 0 {
		d.ChannelBurst = 3
	}
	if d.MethodPerMinute == nil {
		d.MethodPerMinute = map[string]int{}
	}
	// chat.update is Slack's Tier 3 (50+ a minute); chat.postMessage is
	// limited per channel and per workspace above.
	if _, ok := d.MethodPerMinute["chat.update"]; !ok {
		d.MethodPerMinute["chat.update"] = 50
	}
	for m, n := range d.MethodPerMinute {
		switch {
		case m != "chat.update" && m != "chat.postMessage":
			bad("delivery.method_per_minute."+m, "amslack's sender calls only chat.postMessage and chat.update")
		case n < 0:
			bad("delivery.method_per_minute."+m, "must not be negative")
		}
	}
	if d.WorkspacePerMinute < 0 {
		bad("delivery.workspace_per_minute", "must not be negative")
	}
	if d.WorkspacePerMinute == 0 {
		d.WorkspacePerMinute = 300
	}
	if d.RateLimitedBackoff == 0 {
		d.RateLimitedBackoff = model.Duration(time.Minute)
	}
	if d.MaxAge == 0 {
		d.MaxAge = model.Duration(24 * time.Hour)
	}
	if len(d.SeverityOrder) == 0 {
		d.SeverityOrder = slices.Clone(outbox.DefaultSeverityOrder)
	}
	if d.Retention == 0 {
		d.Retention = model.Duration(7 * 24 * time.Hour)
	}
	errs = append(errs, d.validateDeadLetters()...)

	in := &c.Interactions
	for name, r := range map[string]*interact.Rule{"interactions.silence": in.Silence, "interactions.ack": in.Ack} {
		if r != nil {
			if err := r.Validate(); err != nil {
				bad(name, "%v", err)
			}
		}
	}
	switch in.AckMode {
	case "":
		in.AckMode = "silence"
	case "silence", "state":
	default:
		bad("interactions.ack_mode", `must be "silence" or "state", got %q`, in.AckMode)
	}
	if in.AckDuration == 0 {
		in.AckDuration = model.Duration(15 * time.Minute)
	}
	switch in.SilenceMatchers {
	case "":
		in.SilenceMatchers = "common"
	case "common", "group":
	default:
		bad("interactions.silence_matchers", `must be "common" or "group", got %q`, in.SilenceMatchers)
	}
	if in.DedupTTL == 0 {
		in.DedupTTL = model.Duration(10 * time.Minute)
	}
	if in.ReconcileInterval == 0 {
		in.ReconcileInterval = model.Duration(time.Minute)
	}
	errs = append(errs, in.validateClickWindows()...)
	errs = append(errs, in.validateReconcile()...)

	if err := interact.ValidateActions(c.Actions); err != nil {
		errs = append(errs, err)
	}
	ids := map[string]bool{}
	for _, a := range c.Actions {
		ids[a.ID] = true
	}
	for i, r := range c.Routes {
		if r == nil {
			continue
		}
		for _, id := range r.Actions {
			if !ids[id] {
				bad(fmt.Sprintf("routes[%d].actions", i), "unknown action %q", id)
			}
		}
		for _, part := range slices.Sorted(maps.Keys(r.Templates)) {
			key := fmt.Sprintf("routes[%d].templates", i)
			switch {
			case !slices.Contains(render.Parts(), part):
				bad(key, "unknown part %q (parts: %s)", part, strings.Join(render.Parts(), ", "))
			case r.Templates[part] == "":
				bad(key+"."+part, "empty template name")
			}
		}
	}
	errs = append(errs, c.compileTemplates()...)
	return errors.Join(errs...)
}

// compileTemplates parses the template files, after Alertmanager's own
// templates and with amslack's template functions, and checks that the
// templates the routes name are defined. It compiles nothing when the
// configuration names no template, so that rendering keeps its built-in
// path.
func (c *Config) compileTemplates() []error {
	routeNames := slices.ContainsFunc(c.Routes, func(r *Route) bool { return r != nil && len(r.Templates) > 0 })
	if len(c.TemplateFiles) == 0 && !routeNames {
		return nil
	}
	var errs []error
	globs := make([]string, len(c.TemplateFiles))
	for i, g := range c.TemplateFiles {
		globs[i] = commoncfg.JoinDir(c.dir, g)
		// Alertmanager accepts a glob that matches nothing; a message
		// template that is silently missing is worse than an error.
		switch files, err := filepath.Glob(globs[i]); {
		case err != nil:
			errs = append(errs, fmt.Errorf("templates[%d]: %q: %w", i, g, err))
		case len(files) == 0:
			errs = append(errs, fmt.Errorf("templates[%d]: %q matches no files", i, g))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	set, err := parseTemplates(globs)
	if err != nil {
		// The error names the file and line ("template: team.tmpl:3: …");
		// name the glob that holds the file too.
		for i := range globs {
			if _, err := parseTemplates(globs[i : i+1]); err != nil {
				return []error{fmt.Errorf("templates[%d]: %w", i, err)}
			}
		}
		return []error{fmt.Errorf("templates: %w", err)}
	}
	c.templates = set
	for i, r := range c.Routes {
		if r == nil {
			continue
		}
		for _, part := range slices.Sorted(maps.Keys(r.Templates)) {
			name := r.Templates[part]
			if t := set.Lookup(name); name != "" && (t == nil || t.Tree == nil) {
				errs = append(errs, fmt.Errorf("routes[%d].templates.%s: template %q is not defined", i, part, name))
			}
		}
	}
	return errs
}

// parseTemplates parses the files of globs as Alertmanager does, with
// amslack's template functions, and returns the text templates.
func parseTemplates(globs []string) (*texttemplate.Template, error) {
	var set *texttemplate.Template
	keep := func(text *texttemplate.Template, _ *htmltemplate.Template) { set = text }
	if _, err := template.FromGlobs(globs, render.AddTemplateFuncs, keep); err != nil {
		return nil, err
	}
	return set, nil
}

// Templates returns the compiled message templates: Alertmanager's own and
// those of the template files, with amslack's template functions. It is
// nil when the configuration names no template.
func (c *Config) Templates() *texttemplate.Template { return c.templates }

// RouteTemplates returns the templates that render the messages of r, one
// of c.Routes, or nil when the configuration names no template. For a route
// that did not come from the file, such as a default made up by the
// caller, only the conventional names amslack.<part> apply.
func (c *Config) RouteTemplates(r *Route) *render.Templates {
	if c.templates == nil {
		return nil
	}
	var names map[string]string
	if r != nil {
		names = r.Templates
	}
	t, err := render.NewTemplates(c.templates, names)
	if err != nil {
		// validate checked the routes of the file; this route is another
		// one.
		t, _ = render.NewTemplates(c.templates, nil)
	}
	return t
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

// Secret returns a secret's value, reading its _file twin when that is the
// one set. The file's content is trimmed of surrounding white space.
func (c *Config) Secret(value commoncfg.Secret, file string) (string, error) {
	if file == "" {
		return string(value), nil
	}
	b, err := os.ReadFile(commoncfg.JoinDir(c.dir, file))
	if err != nil {
		// The error names the file, never its content.
		return "", fmt.Errorf("read secret file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// LogValue logs the configuration as its String, with secrets hidden.
func (c *Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String renders the configuration as YAML with secrets hidden.
func (c *Config) String() string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("<error: %v>", err)
	}
	return string(b)
}
