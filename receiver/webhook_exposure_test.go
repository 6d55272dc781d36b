package receiver

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestChannelParameterMustBeAChannelID: ?channel= names a Slack
// conversation ID; anything else is refused with 400 before it can become
// a queue, a rate limiter and a dead letter of its own.
func TestChannelParameterMustBeAChannelID(t *testing.T) {
	firing := fixture(t, "v035-firing.json")
	tests := []struct {
		name    string
		channel string
		allowed []string
		want    int
		result  string
	}{
		{name: "public channel", channel: "C0QUERY001", want: 200, result: "accepted"},
		{name: "private channel", channel: "G0PRIVATE1", want: 200, result: "accepted"},
		{name: "direct message", channel: "D0DIRECT01", want: 200, result: "accepted"},
		{name: "channel name", channel: "general", want: 400, result: "invalid"},
		{name: "name with hash", channel: "#alerts", want: 400, result: "invalid"},
		{name: "lower case ID", channel: "c0query001", want: 400, result: "invalid"},
		{name: "too short", channel: "C0SHORT", want: 400, result: "invalid"},
		{name: "user ID", channel: "U0PREVIEWA", want: 400, result: "invalid"},
		{name: "junk", channel: "C0QUERY001/../x", want: 400, result: "invalid"},
		{name: "control characters", channel: "C0QUERY001\x1b[2J", want: 400, result: "invalid"},
		{name: "malformed even when allowed_channels is set", channel: "nope", allowed: []string{"C0ALLOWED1"}, want: 400, result: "invalid"},
		{name: "well formed but not allowed", channel: "C0OTHER001", allowed: []string{"C0ALLOWED1"}, want: 403, result: "unrouted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, rec, _ := newTestHandler(t, Settings{Router: NewRouter([]*Route{{Name: "default", Channel: "C0DEFAULT1"}}, tt.allowed)})
			w := post(h, firing, func(r *http.Request) { r.URL.RawQuery = "channel=" + url.QueryEscape(tt.channel) })
			if w.Code != tt.want {
				t.Fatalf("status = %d (%s), want %d", w.Code, w.Body, tt.want)
			}
			if got := testutil.ToFloat64(h.received.WithLabelValues(tt.result)); got != 1 {
				t.Errorf("received{result=%q} = %v, want 1", tt.result, got)
			}
			if tt.want == 400 {
				// The answer names the parameter and the form it must have.
				for _, s := range []string{"channel", "C, G or D", "C0123456789"} {
					if !strings.Contains(w.Body.String(), s) {
						t.Errorf("body %q does not say %q", w.Body, s)
					}
				}
				if n := len(rec.notifications()); n != 0 {
					t.Errorf("enqueued %d notifications for a refused channel", n)
				}
			}
		})
	}
}

// TestUnauthenticatedWebhookIsReported: without credentials, anyone who
// reaches the listener can post notifications; amslack says so at warn
// level and in amslack_webhook_auth_configured, at start and after every
// reload.
func TestUnauthenticatedWebhookIsReported(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	h := NewHandler(Options{
		Enqueuer:   &recorder{},
		Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Registerer: reg,
	})
	gauge := func() float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "amslack_webhook_auth_configured" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("amslack_webhook_auth_configured is not exported")
		return 0
	}
	warned := func() bool {
		defer logs.Reset()
		return strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "/webhook")
	}

	if g := gauge(); g != 0 {
		t.Errorf("without credentials: gauge = %v, want 0", g)
	}
	if !warned() {
		t.Error("no warning at start about a /webhook without credentials")
	}
	for _, tt := range []struct {
		name string
		auth Auth
		want float64
	}{
		{"bearer token", Auth{BearerToken: "t"}, 1},
		{"basic auth", Auth{Username: "am", Password: "pw"}, 1},
		{"none again", Auth{}, 0},
	} {
		h.Reload(Settings{Auth: tt.auth})
		if g := gauge(); g != tt.want {
			t.Errorf("%s: gauge = %v, want %v", tt.name, g, tt.want)
		}
		if got := warned(); got != (tt.want == 0) {
			t.Errorf("%s: warned = %v, want %v", tt.name, got, tt.want == 0)
		}
	}
}
