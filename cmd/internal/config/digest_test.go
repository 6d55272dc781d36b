package config

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestDigest(t *testing.T) {
	const channel = "{channel: C0123456789, digest: "
	tests := []struct {
		name     string
		route    string
		every    time.Duration
		at       time.Duration
		timeZone string
		wantErr  []string
	}{
		{name: "documented example", route: channel + `{every: 24h, at: "09:00", time_zone: Europe/Berlin}}`, every: 24 * time.Hour, at: 9 * time.Hour, timeZone: "Europe/Berlin"},
		{name: "defaults", route: channel + `{at: "07:30"}}`, every: 24 * time.Hour, at: 7*time.Hour + 30*time.Minute, timeZone: "UTC"},
		{name: "twice a day", route: channel + `{every: 12h, at: "21:00", time_zone: America/New_York}}`, every: 12 * time.Hour, at: 21 * time.Hour, timeZone: "America/New_York"},
		{name: "weekly", route: channel + `{every: 1w, at: "00:00"}}`, every: 7 * 24 * time.Hour, timeZone: "UTC"},
		{name: "no at", route: channel + `{every: 24h}}`, wantErr: []string{`routes[0].digest.at: must be set, as HH:MM`}},
		{name: "bad at", route: channel + `{at: "9am"}}`, wantErr: []string{`routes[0].digest.at: must be a time of day as HH:MM (such as "09:00"), got "9am"`}},
		{name: "hour 24", route: channel + `{at: "24:00"}}`, wantErr: []string{`routes[0].digest.at: must be a time of day`}},
		{name: "too often", route: channel + `{every: 30m, at: "09:00"}}`, wantErr: []string{"routes[0].digest.every: must be between 1h and 1w, got 30m"}},
		{name: "uneven", route: channel + `{every: 5h, at: "09:00"}}`, wantErr: []string{"routes[0].digest.every: must divide a day"}},
		{name: "unknown zone", route: channel + `{at: "09:00", time_zone: Mars/Olympus}}`, wantErr: []string{`routes[0].digest.time_zone: unknown time zone "Mars/Olympus"`}},
		{name: "local zone", route: channel + `{at: "09:00", time_zone: Local}}`, wantErr: []string{`routes[0].digest.time_zone: must name a time zone`}},
		{
			name:    "webhook route",
			route:   `{webhook_url: 'https://hooks.slack.com/services/T0/B0/x', digest: {at: "09:00"}}`,
			wantErr: []string{"routes[0].digest: only a route with a channel can have a digest"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseRoute(t, tt.route, tt.wantErr)
			if c == nil {
				return
			}
			d := c.Routes[0].Digest
			if time.Duration(d.Every) != tt.every || d.ParsedAt != tt.at || d.TimeZone != tt.timeZone || d.Location == nil || d.Location.String() != tt.timeZone {
				t.Errorf("digest = every %s, at %s, zone %q (%v); want %s, %s, %q", d.Every, d.ParsedAt, d.TimeZone, d.Location, model.Duration(tt.every), tt.at, tt.timeZone)
			}
		})
	}
}

// TestDigestProblemLine checks that a digest's problem names its line.
func TestDigestProblemLine(t *testing.T) {
	doc := "slack: {bot_token: xoxb-1}\nroutes:\n  - channel: C0123456789\n    digest:\n      every: 24h\n      at: \"9:00\"\n"
	wantProblemAt(t, doc, "routes[0].digest.at", 6)
}

func TestAckReminder(t *testing.T) {
	for _, tc := range []struct {
		doc     string
		want    time.Duration
		wantErr string
	}{
		{doc: "interactions: {}", want: 0},
		{doc: "interactions: {ack_reminder: 1h}", want: time.Hour},
		{doc: "interactions: {ack_reminder: 30s}", wantErr: "interactions.ack_reminder: must be 0 (off) or at least 1m, got 30s"},
	} {
		c, err := Parse([]byte("slack: {bot_token: xoxb-1}\nroutes: [{channel: C0123456789}]\n" + tc.doc))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error = %v, want %q", tc.doc, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.doc, err)
		}
		if got := time.Duration(c.Interactions.AckReminder); got != tc.want {
			t.Errorf("%s: ack_reminder = %s, want %s", tc.doc, got, tc.want)
		}
	}
}
