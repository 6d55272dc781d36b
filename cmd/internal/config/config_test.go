package config

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExamplesAreValid(t *testing.T) {
	for _, f := range []string{"amslack.yml", "demo.yml"} {
		t.Run(f, func(t *testing.T) {
			if _, err := Load(filepath.Join("..", "..", "..", "examples", f)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse([]byte("routes: [{channel: C0123456789}]"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.APIURL != DefaultAPIURL || c.Slack.Mode != ModeAPI {
		t.Errorf("slack defaults: %+v", c.Slack)
	}
	if c.Delivery.ChannelRate != 1 || c.Delivery.WorkspacePerMinute != 300 || c.Delivery.MethodPerMinute["chat.update"] != 50 {
		t.Errorf("delivery defaults: %+v", c.Delivery)
	}
	if time.Duration(c.Delivery.Retention) != 7*24*time.Hour || time.Duration(c.Delivery.MaxAge) != 24*time.Hour {
		t.Errorf("retention/max_age defaults: %+v", c.Delivery)
	}
	if c.Routes[0].Name != "route0" || c.Routes[0].Repeat != "ignore" {
		t.Errorf("route defaults: %+v", c.Routes[0])
	}
	if c.Webhook.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Errorf("max_body_bytes = %d", c.Webhook.MaxBodyBytes)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "routes: [{channel: C0123456789, chanel: x}]", `routes[0].chanel: unknown key; did you mean "channel"?`},
		{"unknown top-level key", "slak: {}", `slak: unknown key; did you mean "slack"?`},
		{"bad mode", "slack: {mode: live}", `slack.mode: must be "api" or "preview", got "live"`},
		{"bad api_url", "slack: {api_url: 'ftp://x'}", "slack.api_url:"},
		{"token twice", "slack: {bot_token: a, bot_token_file: b}", "slack: at most one of bot_token and bot_token_file"},
		{"route without destination", "routes: [{receiver: r}]", "routes[0]: one of channel, webhook_url"},
		{"channel and webhook", "routes: [{channel: C0123456789, webhook_url: 'https://hooks.example/x'}]", "routes[0]: channel and webhook_url are mutually exclusive"},
		{"bad channel id", "routes: [{channel: '#alerts'}]", `routes[0].channel: "#alerts" is not a Slack channel ID`},
		{"bad matcher", "routes: [{channel: C0123456789, matchers: ['severity=~\"(\"']}]", "routes[0].matchers[0]:"},
		{"bad duration", "routes: [{channel: C0123456789, silence_durations: [1h, 90d]}]", "routes[0].silence_durations[1]: must be between 1s and 30d"},
		{"duplicate route name", "routes: [{name: a, channel: C0123456789}, {name: a, channel: C0123456780}]", `routes[1].name: "a" is used by another route`},
		{"bad repeat", "routes: [{channel: C0123456789, repeat: always}]", `routes[0].repeat: must be "ignore" or "thread"`},
		{"bad allowed channel", "allowed_channels: [alerts]", `allowed_channels: "alerts" is not a Slack channel ID`},
		{"basic and bearer", "webhook: {bearer_token: t, basic_auth: {username: u, password: p}}", "webhook: bearer_token and basic_auth are mutually exclusive"},
		{"basic without password", "webhook: {basic_auth: {username: u}}", "webhook.basic_auth: exactly one of password and password_file"},
		{"negative rate", "delivery: {channel_rate: -1}", "delivery.channel_rate: must not be negative"},
		{"bad ack mode", "interactions: {ack_mode: maybe}", "interactions.ack_mode:"},
		{"bad user id", "interactions: {silence: {users: [alice]}}", `interactions.silence: users: "alice" is not a Slack user ID`},
		{"action id", "actions: [{id: Restart!, label: R, url: 'http://x', allow: {users: [U1]}, secret: s}]", `actions[0]: action "Restart!": id: must be lower case`},
		{"action id taken", "actions: [{id: ack, label: R, url: 'http://x', allow: {users: [U1]}, secret: s}]", `actions[0]: action "ack": id: is the id of a built-in control`},
		{"action without allow", "actions: [{id: restart, label: R, url: 'http://x', secret: s}]", `actions[0]: action "restart": allow: must list users or usergroups`},
		{"action without secret", "actions: [{id: restart, label: R, url: 'http://x', allow: {users: [U1]}}]", `actions[0]: action "restart": secret: exactly one of secret and secret_file`},
		{"action label too long", "actions: [{id: restart, label: " + strings.Repeat("x", 76) + ", url: 'http://x', allow: {users: [U1]}, secret: s}]", "actions[0]: action \"restart\": label: is 76 characters, Slack allows 75"},
		{"confirm too long", "actions: [{id: restart, label: R, url: 'http://x', allow: {users: [U1]}, secret: s, confirm: {text: " + strings.Repeat("y", 301) + "}}]", "actions[0]: action \"restart\": confirm.text: is 301 characters, Slack allows 300"},
		{"duplicate action", "actions: [{id: restart, label: R, url: 'http://x', allow: {users: [U1]}, secret: s}, {id: restart, label: R, url: 'http://x', allow: {users: [U1]}, secret: s}]", `actions[1]: id "restart" is used by another action`},
		{"redis address", "store: {redis: {address: localhost}}", "store.redis.address: want host:port"},
		{"redis password twice", "store: {redis: {address: 'r:6379', password: a, password_file: b}}", "store.redis: at most one of password and password_file"},
		{"route names unknown action", "routes: [{channel: C0123456789, actions: [reboot]}]", `routes[0].actions: unknown action "reboot"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("xoxb-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "amslack.yml")
	if err := os.WriteFile(cfgPath, []byte("slack: {bot_token_file: token}\nroutes: [{channel: C0123456789}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Secret(c.Slack.BotToken, c.Slack.BotTokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, "xoxb-from-file"); diff != "" {
		t.Errorf("secret (-got +want):\n%s", diff)
	}
	c.Slack.BotTokenFile = "missing"
	_, err = c.Secret(c.Slack.BotToken, c.Slack.BotTokenFile)
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("error for a missing file: %v", err)
	}
}

// TestHideSecrets proves that no secret of the configuration reaches its
// printed form, its log lines or its validation errors.
func TestHideSecrets(t *testing.T) {
	secrets := []string{"xoxb-SECRET-TOKEN", "SIGNING-SECRET", "BEARER-SECRET", "BASIC-SECRET", "https://hooks.slack.com/services/SECRET-HOOK", "ACTION-SECRET"}
	doc := `
slack: {bot_token: xoxb-SECRET-TOKEN, signing_secret: SIGNING-SECRET}
webhook: {bearer_token: BEARER-SECRET}
routes:
  - {channel: C0123456789}
  - {name: hook, webhook_url: "https://hooks.slack.com/services/SECRET-HOOK"}
actions: [{id: restart, label: R, url: 'http://x', allow: {users: [U1]}, secret: ACTION-SECRET}]
`
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "config", c)
	printed := c.String() + logs.String()
	for _, s := range secrets {
		if strings.Contains(printed, s) {
			t.Errorf("secret %q appears in the printed configuration:\n%s", s, printed)
		}
	}
	if !strings.Contains(c.String(), "<secret>") {
		t.Errorf("secrets are not shown as <secret>:\n%s", c.String())
	}

	// A webhook URL that does not parse: the error names the key, not the URL.
	_, err = Parse([]byte(`routes: [{webhook_url: "ftp://SECRET-HOOK"}]`))
	if err == nil || strings.Contains(err.Error(), "SECRET-HOOK") || !strings.Contains(err.Error(), "routes[0].webhook_url") {
		t.Errorf("error = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"../../../examples/amslack.yml", "../../../examples/demo.yml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil && c.Slack.APIURL == "" {
			t.Fatal("valid config without api_url default")
		}
	})
}

// parseRoute parses a configuration whose one route is route, written in
// YAML's flow style. With wantErr it checks that the error says each of
// them and returns nil; without, it fails the test on an error.
func parseRoute(t *testing.T, route string, wantErr []string) *Config {
	t.Helper()
	c, err := Parse([]byte("slack: {bot_token: xoxb-1}\nroutes: [" + route + "]"))
	if len(wantErr) > 0 {
		for _, want := range wantErr {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Parse() error = %v, want %q", err, want)
			}
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantProblemAt parses doc, checks that it has one problem, of the key on
// the line, and returns Parse's error.
func wantProblemAt(t *testing.T, doc, key string, line int) error {
	t.Helper()
	_, err := Parse([]byte(doc))
	if ps := Problems(err); len(ps) != 1 || ps[0].Key != key || ps[0].Line != line {
		t.Errorf("problems = %v, want one at %s on line %d", err, key, line)
	}
	return err
}

// writeConfig writes the configuration and the files beside it into a new
// directory and returns the configuration's path.
func writeConfig(t *testing.T, config string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "amslack.yml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
