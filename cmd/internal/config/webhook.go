package config

import (
	"fmt"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

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

// DefaultMaxBodyBytes is webhook.max_body_bytes when it is not set.
const DefaultMaxBodyBytes = 4 << 20

// DefaultWebhook holds the values of the keys of webhook that are not set.
var DefaultWebhook = Webhook{
	MaxBodyBytes: DefaultMaxBodyBytes,
	DedupWindow:  model.Duration(5 * time.Minute),
}

// validate fills in the defaults of webhook and checks it.
func (w *Webhook) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
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
		w.MaxBodyBytes = DefaultWebhook.MaxBodyBytes
	}
	if w.DedupWindow == 0 {
		w.DedupWindow = DefaultWebhook.DedupWindow
	}
	return errs
}
