package config

import (
	"strings"
	"testing"
)

func TestFallbackChannel(t *testing.T) {
	tests := []struct {
		name    string
		route   string
		want    string
		wantErr string
	}{
		{name: "unset", route: "{channel: C0123456789}"},
		{name: "channel ID", route: "{channel: C0123456789, fallback_channel: C0FALLBACK1}", want: "C0FALLBACK1"},
		{
			name:    "channel name",
			route:   "{channel: C0123456789, fallback_channel: '#alerts'}",
			wantErr: `routes[0].fallback_channel: "#alerts" is not a Slack channel ID`,
		},
		{
			name:    "same as channel",
			route:   "{channel: C0123456789, fallback_channel: C0123456789}",
			wantErr: "routes[0].fallback_channel: must differ from channel C0123456789",
		},
		{
			name:    "webhook route",
			route:   "{webhook_url: 'https://hooks.slack.com/services/T0/B0/x', fallback_channel: C0FALLBACK1}",
			wantErr: "routes[0].fallback_channel: only a route with a channel can have one",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte("slack: {bot_token: xoxb-1}\nroutes: [" + tt.route + "]"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Parse() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Routes[0].FallbackChannel; got != tt.want {
				t.Errorf("fallback_channel = %q, want %q", got, tt.want)
			}
		})
	}
}
