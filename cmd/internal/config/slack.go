package config

import (
	"fmt"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

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

// DefaultAPIURL is slack.api_url when it is not set.
const DefaultAPIURL = "https://slack.com/api/"

// DefaultSlack holds the values of the keys of slack that are not set.
var DefaultSlack = Slack{
	Mode:    ModeAPI,
	APIURL:  DefaultAPIURL,
	Timeout: model.Duration(10 * time.Second),
}

// validate fills in the defaults of slack and checks it.
func (s *Slack) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch s.Mode {
	case "":
		s.Mode = DefaultSlack.Mode
	case ModeAPI, ModePreview:
	default:
		bad("slack.mode", "must be %q or %q, got %q", ModeAPI, ModePreview, s.Mode)
	}
	if s.APIURL == "" {
		s.APIURL = DefaultSlack.APIURL
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
		s.Timeout = DefaultSlack.Timeout
	}
	return errs
}

// Alertmanager is where silences are created.
type Alertmanager struct {
	URL string `yaml:"url,omitempty"`
}

// validate checks alertmanager.
func (a *Alertmanager) validate() []error {
	if a.URL == "" {
		return nil
	}
	if err := checkURL(a.URL); err != nil {
		return []error{fmt.Errorf("alertmanager.url: %w", err)}
	}
	return nil
}
