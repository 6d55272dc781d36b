// Package config loads and validates amslack's YAML configuration: Slack and
// Alertmanager connections, routes from alert groups to channels, delivery
// limits, the interactions people may perform, runbook actions, and where
// the message templates are. Each type fills in its own defaults and checks
// itself, with errors that begin with the path of the key at fault. Unknown
// keys are errors, and every secret has a _file twin and prints as
// <secret>. The package holds data only: the wiring turns it into the
// options of the packages that act on it.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	commoncfg "github.com/prometheus/common/config"
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
	AllowedChannels []string     `yaml:"allowed_channels,omitempty"`
	Delivery        Delivery     `yaml:"delivery"`
	Interactions    Interactions `yaml:"interactions"`
	Actions         []Action     `yaml:"actions,omitempty"`
	// TemplateFiles are globs of Alertmanager-style template files that
	// shape the messages; relative ones are taken from the configuration
	// file's directory (see TemplateGlobs).
	TemplateFiles []string `yaml:"templates,omitempty"`

	// dir is the directory of the file, for relative _file paths and
	// template globs.
	dir string
	// file is the file the configuration was loaded from, and doc its node
	// tree, for the lines of problems found after loading.
	file string
	doc  *yaml3.Node
}

// Load reads and validates the file at path.
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

// Parse decodes and validates a configuration document. Relative _file
// paths and template globs are taken from the working directory; Load
// makes them relative to the file instead.
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

// validate fills in the defaults of every part of the configuration and
// checks it, each part by its own validate, then checks what the parts
// name of each other.
func (c *Config) validate() error {
	var errs []error
	errs = append(errs, c.Slack.validate()...)
	errs = append(errs, c.Alertmanager.validate()...)
	errs = append(errs, c.Store.validate()...)
	errs = append(errs, c.Webhook.validate()...)
	for _, ch := range c.AllowedChannels {
		if !channelID.MatchString(ch) {
			errs = append(errs, fmt.Errorf("allowed_channels: %s", notChannelID(ch)))
		}
	}
	names := map[string]bool{}
	for i, r := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		if r == nil {
			errs = append(errs, fmt.Errorf("%s: empty route", key))
			continue
		}
		errs = append(errs, r.validate(key, i, names)...)
	}
	errs = append(errs, c.Delivery.validate()...)
	errs = append(errs, c.Interactions.validate()...)
	errs = append(errs, validateActions(c.Actions)...)
	ids := map[string]bool{}
	for _, a := range c.Actions {
		ids[a.ID] = true
	}
	for i, r := range c.Routes {
		if r != nil {
			errs = append(errs, r.validateReferences(fmt.Sprintf("routes[%d]", i), ids)...)
			errs = append(errs, r.validateEscalate(fmt.Sprintf("routes[%d]", i), c.Delivery.SeverityOrder)...)
		}
	}
	return errors.Join(errs...)
}

// TemplateGlobs returns the globs of the template files, relative ones
// taken from the configuration file's directory.
func (c *Config) TemplateGlobs() []string {
	globs := make([]string, len(c.TemplateFiles))
	for i, g := range c.TemplateFiles {
		globs[i] = commoncfg.JoinDir(c.dir, g)
	}
	return globs
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
