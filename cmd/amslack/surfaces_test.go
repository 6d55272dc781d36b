package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// signedPost sends body to amslack as Slack signs its requests.
func signedPost(t *testing.T, target, contentType, body string) (int, string) {
	t.Helper()
	return send(t, http.MethodPost, target, contentType, []byte(body), func(req *http.Request) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", interact.SlackSignature(signingSecret, ts, []byte(body)))
	})
}

// TestSlackSurfacesAreServed checks that the binary serves the slash
// command and the Events API behind Slack's signature.
func TestSlackSurfacesAreServed(t *testing.T) {
	_, slackURL := fakeSlack(t, slackfake.Options{})
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x, signing_secret: %s}\nroutes: [{channel: C0SURF0001}]\n", slackURL, signingSecret)
	p := startAmslack(t, cfg, "")

	code, body := signedPost(t, p.URL+"/slack/events", "application/json", `{"type":"url_verification","token":"x","challenge":"challenge-123"}`)
	if code != 200 || !strings.Contains(body, "challenge-123") {
		t.Errorf("url_verification: %d %q", code, body)
	}
	form := url.Values{
		"team_id": {"T0001"}, "channel_id": {"C0SURF0001"}, "user_id": {"U0ALICE001"}, "user_name": {"alice"},
		"command": {"/amslack"}, "text": {"help"}, "response_url": {slackURL + "/response/x"}, "trigger_id": {"1.2.3"},
	}.Encode()
	code, body = signedPost(t, p.URL+"/slack/commands", "application/x-www-form-urlencoded", form)
	if code != 200 || !strings.Contains(body, "/amslack alerts") {
		t.Errorf("/amslack help: %d %q", code, body)
	}
	// Unsigned: refused.
	resp, err := http.Post(p.URL+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned command: %d, want 401", resp.StatusCode)
	}
}
