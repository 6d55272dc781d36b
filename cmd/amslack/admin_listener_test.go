package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestAdminListenAddress runs amslack with --web.admin-listen-address:
// /metrics, /-/reload and the dead-letter API answer on the admin listener
// and not on the main one, which keeps Alertmanager's and Slack's
// endpoints; health checks answer on both.
func TestAdminListenAddress(t *testing.T) {
	_, slackURL := fakeSlack(t, slackfake.Options{})
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x, signing_secret: s3cret}\nroutes: [{channel: C0ADMINL01}]\n", slackURL)
	adminAddr := freeAddr(t)
	p := startAmslack(t, cfg, "", "--web.admin-listen-address="+adminAddr)
	admin := "http://" + adminAddr

	for _, tt := range []struct {
		method, path string
		main, admin  int
	}{
		{http.MethodGet, "/metrics", 404, 200},
		{http.MethodPost, "/-/reload", 404, 200},
		{http.MethodGet, "/api/v1/dlq", 404, 200},
		{http.MethodPost, "/api/v1/dlq/999/retry", 404, 404},
		{http.MethodDelete, "/api/v1/dlq/999", 404, 404},
		{http.MethodGet, "/-/healthy", 200, 200},
		{http.MethodGet, "/-/ready", 200, 200},
		{http.MethodPost, "/webhook", 200, 404},
		{http.MethodPost, "/slack/interactions", 401, 404},
	} {
		var body []byte
		if tt.path == "/webhook" {
			body = groupPayload("AdminListener", "firing")
		}
		for _, l := range []struct {
			name, base string
			want       int
		}{{"main", p.URL, tt.main}, {"admin", admin, tt.admin}} {
			code, answer := send(t, tt.method, l.base+tt.path, "application/json", body, nil)
			if code != l.want {
				t.Errorf("%s %s on the %s listener: %d (%s), want %d", tt.method, tt.path, l.name, code, strings.TrimSpace(answer), l.want)
			}
			// On the admin listener, an unknown dead letter is a 404 of
			// the API itself, not of the router.
			if l.name == "admin" && code == 404 && strings.HasPrefix(tt.path, "/api/v1/dlq/") && !strings.Contains(answer, "dead letter") {
				t.Errorf("%s %s on the admin listener: %q, want the API's answer", tt.method, tt.path, answer)
			}
		}
	}
	_, metrics := get(t, admin+"/metrics", nil)
	if !strings.Contains(metrics, "amslack_webhook_auth_configured 0") {
		t.Errorf("metrics do not report the webhook without credentials:\n%s", grepLines(metrics, "webhook_auth"))
	}
	if !strings.Contains(p.Output(), adminAddr) {
		t.Errorf("the log does not name the admin listener %s:\n%s", adminAddr, p.Output())
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
