package app

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/amslack/amslack/cmd/internal/config"
)

func TestReloadNamesTheKeysThatNeedARestart(t *testing.T) {
	const base = "slack: {bot_token: xoxb-x, timeout: 10s}\nroutes: [{channel: C0123456789}]\n"
	tests := []struct {
		name, doc string
		// keys is what the warning names; empty for no warning.
		keys string
	}{
		{"nothing that needs a restart", "slack: {bot_token: xoxb-x, timeout: 10s}\nroutes: [{channel: C0123456780}]\nwebhook: {max_body_bytes: 1000}\n", ""},
		{"one key", base + "delivery: {max_age: 2h}\n", "delivery.max_age"},
		{"several sections", "slack: {bot_token: xoxb-y, timeout: 5s}\nroutes: [{channel: C0123456789}]\ninteractions: {ack_mode: state}\nalertmanager: {url: 'http://am:9093'}\nwebhook: {dedup_window: 1m}\n",
			"slack.bot_token, slack.timeout, alertmanager.url, webhook.dedup_window, interactions.ack_mode"},
		{"actions", base + "actions: [{id: restart, label: R, url: 'http://x', allow: {users: [U1]}, secret: s}]\n", "actions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, err := config.Parse([]byte(base))
			if err != nil {
				t.Fatal(err)
			}
			cur, err := config.Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			a := &App{logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			a.keepRestartOnly(old, cur)
			got := logs.String()
			if tt.keys == "" {
				if got != "" {
					t.Errorf("logged %q, want nothing", got)
				}
				return
			}
			if !strings.Contains(got, `"keys":"`+tt.keys+`"`) {
				t.Errorf("logged %q, want the keys %q", got, tt.keys)
			}
			if strings.Contains(got, "xoxb-") {
				t.Errorf("logged a secret: %q", got)
			}
		})
	}
}
