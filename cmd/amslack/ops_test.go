package main

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

func get(t testing.TB, url string, mutate func(*http.Request)) (int, string) {
	t.Helper()
	return send(t, http.MethodGet, url, "", nil, mutate)
}

func postWebhook(t testing.TB, url string, body []byte, mutate func(*http.Request)) (int, string) {
	t.Helper()
	return send(t, http.MethodPost, url, "application/json", body, mutate)
}

// TestAdminAuthGuardsOnlyAdminEndpoints: the web config's basic auth
// protects /metrics and the admin endpoints, while Alertmanager (which
// authenticates with the webhook: section) and health checks pass without it.
func TestAdminAuthGuardsOnlyAdminEndpoints(t *testing.T) {
	_, slackURL := fakeSlack(t, slackfake.Options{})
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("admin-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webCfg := filepath.Join(dir, "web.yml")
	writeFile(t, webCfg, fmt.Sprintf("basic_auth_users:\n  admin: %s\n", hash))
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x}\nwebhook: {bearer_token: am-token}\nroutes: [{channel: C0ADMIN001}]\n", slackURL)
	p := startAmslack(t, cfg, "", "--web.config.file="+webCfg)

	admin := func(r *http.Request) { r.SetBasicAuth("admin", "admin-pass") }
	wrong := func(r *http.Request) { r.SetBasicAuth("admin", "nope") }
	for _, tt := range []struct {
		path   string
		mutate func(*http.Request)
		want   int
	}{
		{"/metrics", nil, 401},
		{"/metrics", wrong, 401},
		{"/metrics", admin, 200},
		{"/api/v1/dlq", nil, 401},
		{"/api/v1/dlq", admin, 200},
		{"/-/healthy", nil, 200},
		{"/-/ready", nil, 200},
	} {
		if code, body := get(t, p.URL+tt.path, tt.mutate); code != tt.want {
			t.Errorf("GET %s: %d (%s), want %d", tt.path, code, body, tt.want)
		}
	}
	// /-/reload is POST.
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/-/reload", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("POST /-/reload without credentials: %v %v, want 401", resp.StatusCode, err)
	}
	// The webhook needs Alertmanager's bearer token, not the admin's.
	payload := groupPayload("AdminAuth", "firing")
	if code, _ := postWebhook(t, p.URL+"/webhook", payload, func(r *http.Request) { r.Header.Set("Authorization", "Bearer am-token") }); code != 200 {
		t.Errorf("webhook with Alertmanager's token: %d, want 200", code)
	}
}

// TestSecretsStayOutOfLogsMetricsAndErrors runs amslack with every kind of
// secret, provokes failures that mention the parts the secrets belong to,
// and searches the logs, /metrics and the answers for them.
func TestSecretsStayOutOfLogsMetricsAndErrors(t *testing.T) {
	fake, slackURL := fakeSlack(t, slackfake.Options{Token: "xoxb-SECRET-BOT-TOKEN"})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "hook-url"), fake.WebhookURL(slackURL, "C0HOOK0001")+"\n")
	secrets := []string{"xoxb-SECRET-BOT-TOKEN", "SECRET-SIGNING", "SECRET-AM-TOKEN", fake.WebhookURL(slackURL, "C0HOOK0001")}
	cfg := fmt.Sprintf(`
slack: {api_url: %s/api/, bot_token: xoxb-SECRET-BOT-TOKEN, signing_secret: SECRET-SIGNING}
webhook: {bearer_token: SECRET-AM-TOKEN}
routes:
  - {name: hook, matchers: ['alertname="Hook"'], webhook_url_file: %s}
  - {name: default, channel: C0SECRET01}
`, slackURL, filepath.Join(dir, "hook-url"))
	p := startAmslack(t, cfg, "")
	auth := func(r *http.Request) { r.Header.Set("Authorization", "Bearer SECRET-AM-TOKEN") }

	var answers strings.Builder
	// A wrong token, a channel Slack does not know, and a webhook that fails.
	_, body := postWebhook(t, p.URL+"/webhook", groupPayload("X", "firing"), func(r *http.Request) { r.Header.Set("Authorization", "Bearer SECRET-AM-TOKEN-wrong") })
	answers.WriteString(body)
	fake.FailNext("chat.postMessage", 1, 200, "invalid_auth")
	_, body = postWebhook(t, p.URL+"/webhook", groupPayload("Fails", "firing"), auth)
	answers.WriteString(body)
	fake.FailNext(slackfake.MethodWebhook, 1, 404, "channel_not_found")
	_, body = postWebhook(t, p.URL+"/webhook", groupPayload("Hook", "firing"), auth)
	answers.WriteString(body)
	_, body = postWebhook(t, p.URL+"/webhook", groupPayload("Works", "firing"), auth)
	answers.WriteString(body)
	waitFor(t, fake, 20*time.Second, "the good message", func() bool { return len(fake.Messages("C0SECRET01")) == 1 })
	waitFor(t, fake, 20*time.Second, "two dead letters", func() bool {
		_, dl := get(t, p.URL+"/api/v1/dlq", nil)
		return strings.Count(dl, `"id"`) == 2
	})
	_, metrics := get(t, p.URL+"/metrics", nil)
	_, dlq := get(t, p.URL+"/api/v1/dlq", nil)
	p.stop(t)
	all := p.Output() + metrics + dlq + answers.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("secret %q leaked", s)
		}
	}
	if !strings.Contains(dlq, "invalid_auth") || !strings.Contains(dlq, "channel_not_found") {
		t.Errorf("dead letters do not name their causes: %s", dlq)
	}
}

func TestReloadKeepsLastGoodConfig(t *testing.T) {
	fake, slackURL := fakeSlack(t, slackfake.Options{})
	cfgFor := func(channel string) string {
		return fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x}\nroutes: [{channel: %s}]\n", slackURL, channel)
	}
	p := startAmslack(t, cfgFor("C0RELOAD01"), "")
	reloadOK := func() string {
		_, m := get(t, p.URL+"/metrics", nil)
		for _, l := range strings.Split(m, "\n") {
			if strings.HasPrefix(l, "amslack_config_last_reload_successful ") {
				return strings.Fields(l)[1]
			}
		}
		return ""
	}
	if got := reloadOK(); got != "1" {
		t.Fatalf("reload metric at start = %q", got)
	}

	// A broken file on SIGHUP: the old routes stay, the metric says so.
	writeFile(t, p.config, "routes: [{channel: not-a-channel}]\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for reloadOK() != "0" {
		if time.Now().After(deadline) {
			t.Fatal("reload metric did not drop to 0 after a failed SIGHUP reload")
		}
		time.Sleep(50 * time.Millisecond)
	}
	postWebhook(t, p.URL+"/webhook", groupPayload("Before", "firing"), nil)
	waitFor(t, fake, 10*time.Second, "delivery with the last good config", func() bool { return len(fake.Messages("C0RELOAD01")) == 1 })

	// POST /-/reload with a broken file answers 500 and says why.
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/-/reload", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(b), "routes[0].channel") {
		t.Errorf("reload of a broken file: %d %s", resp.StatusCode, b)
	}

	// A good file: the new route applies.
	writeFile(t, p.config, cfgFor("C0RELOAD02"))
	req, _ = http.NewRequest(http.MethodPost, p.URL+"/-/reload", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("reload: %v %v", resp, err)
	}
	if got := reloadOK(); got != "1" {
		t.Errorf("reload metric after a good reload = %q", got)
	}
	postWebhook(t, p.URL+"/webhook", groupPayload("After", "firing"), nil)
	waitFor(t, fake, 10*time.Second, "delivery with the reloaded config", func() bool { return len(fake.Messages("C0RELOAD02")) == 1 })
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	writeFile(t, bad, "routes:\n  - channel: C0123456789\n    silence_durations: [90d]\n  - receiver: x\nslack: {mode: live}\n")
	out, err := exec.Command(binary, "check-config", bad).CombinedOutput()
	if err == nil {
		t.Fatalf("check-config accepted a bad file:\n%s", out)
	}
	for _, want := range []string{"routes[0].silence_durations[0]", "routes[1]: one of channel", "slack.mode"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("check-config output does not name %q:\n%s", want, out)
		}
	}
	out, err = exec.Command(binary, "check-config", filepath.Join("..", "..", "examples", "demo.yml")).CombinedOutput()
	if err != nil {
		t.Errorf("check-config rejected examples/demo.yml: %v\n%s", err, out)
	}
	missing := filepath.Join(dir, "secret.yml")
	writeFile(t, missing, "slack: {bot_token_file: /nonexistent/token}\nroutes: [{channel: C0123456789}]\n")
	out, err = exec.Command(binary, "check-config", missing).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "slack.bot_token_file") {
		t.Errorf("check-config with an unreadable secret file: %v\n%s", err, out)
	}
}

func TestDeadLetterCommands(t *testing.T) {
	fake, slackURL := fakeSlack(t, slackfake.Options{})
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x}\nroutes: [{channel: C0DLQ00001}]\n", slackURL)
	p := startAmslack(t, cfg, "")
	fake.FailNext("chat.postMessage", 2, 200, "not_in_channel")
	postWebhook(t, p.URL+"/webhook", groupPayload("DeadOne", "firing"), nil)
	postWebhook(t, p.URL+"/webhook", groupPayload("DeadTwo", "firing"), nil)

	dlq := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(binary, append([]string{"dlq", "--amslack.url=" + p.URL}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("amslack dlq %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(dlq("list"), "2 dead letters") {
		if time.Now().After(deadline) {
			t.Fatalf("dead letters did not appear:\n%s", dlq("list"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	list := dlq("list")
	if !strings.Contains(list, "not_in_channel") {
		t.Errorf("list does not show the cause:\n%s", list)
	}
	// Ids are in the first column.
	var ids []string
	for _, l := range strings.Split(list, "\n")[1:] {
		if f := strings.Fields(l); len(f) > 0 && f[0] != "2" || len(f) > 1 && f[1] != "dead" {
			ids = append(ids, f[0])
		}
	}
	if len(ids) != 2 {
		t.Fatalf("ids %v from:\n%s", ids, list)
	}
	dlq("retry", ids[0])
	waitFor(t, fake, 10*time.Second, "the retried dead letter in Slack", func() bool { return len(fake.Messages("C0DLQ00001")) == 1 })
	dlq("drop", ids[1])
	if l := dlq("list"); !strings.Contains(l, "0 dead letters") {
		t.Errorf("after retry and drop:\n%s", l)
	}
	out, err := exec.Command(binary, "dlq", "--amslack.url="+p.URL, "drop", "999999").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "404") {
		t.Errorf("dropping an unknown dead letter: %v %s", err, out)
	}
}

// TestShutdownKeepsWhatItAccepted stops amslack with SIGTERM right after it
// accepted a notification for a slow Slack: the notification is either
// delivered before the exit or kept on disk and delivered after the restart,
// once. (The refusal of new webhooks during shutdown is tested in
// cmd/internal/app.)
func TestShutdownKeepsWhatItAccepted(t *testing.T) {
	fake, slackURL := fakeSlack(t, slackfake.Options{})
	fake.SetLatency(500 * time.Millisecond)
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x}\nroutes: [{channel: C0SHUT0001}]\n", slackURL)
	p := startAmslack(t, cfg, "")
	if code, body := postWebhook(t, p.URL+"/webhook", groupPayload("InFlight", "firing"), nil); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	p.stop(t)
	if !strings.Contains(p.Output(), "Stopped") {
		t.Errorf("no clean stop in the log:\n%s", p.Output())
	}
	fake.SetLatency(0)
	p.restart(t)
	waitFor(t, fake, 10*time.Second, "the notification in Slack", func() bool { return len(fake.Messages("C0SHUT0001")) >= 1 })
	if n := len(fake.Messages("C0SHUT0001")); n != 1 {
		t.Errorf("%d messages, want the notification once", n)
	}
}
