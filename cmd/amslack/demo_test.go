package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// The demo's files, which the Quick start runs as they are.
var (
	demoConfig   = filepath.Join("..", "..", "examples", "demo.yml")
	demoAMConfig = filepath.Join("..", "..", "examples", "alertmanager-demo.yml")
	demoAlerts   = filepath.Join("..", "internal", "preview", "alerts")
)

// The addresses the demo's files name: amslack's and Alertmanager's from
// the Quick start.
const (
	demoWebhookURL      = "http://127.0.0.1:9097/webhook"
	demoAlertmanagerURL = "http://127.0.0.1:9093"
)

// readReplacing returns the file at path with each old string replaced by
// its new one, and fails when the file does not hold an old string exactly
// once: the test must run the file as shipped, only moved to free ports.
func readReplacing(t testing.TB, path string, oldNew ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i < len(oldNew); i += 2 {
		if n := strings.Count(s, oldNew[i]); n != 1 {
			t.Fatalf("%s holds %q %d times, want once", path, oldNew[i], n)
		}
		s = strings.Replace(s, oldNew[i], oldNew[i+1], 1)
	}
	return s
}

// previewMessage is a top-level message of the preview's state.
type previewMessage struct {
	TS     string          `json:"ts"`
	Blocks json.RawMessage `json:"blocks"`
}

// previewMessages returns the messages the preview shows in channel.
func previewMessages(t testing.TB, p *proc, channel string) []previewMessage {
	t.Helper()
	status, body := get(t, p.URL+"/preview/api/state?user=U0PREVIEWA", nil)
	if status != http.StatusOK {
		t.Fatalf("preview state: %d %s", status, body)
	}
	var st struct {
		Channels []struct {
			ID       string           `json:"id"`
			Messages []previewMessage `json:"messages"`
		} `json:"channels"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("preview state: %v", err)
	}
	for _, c := range st.Channels {
		if c.ID == channel {
			return c.Messages
		}
	}
	return nil
}

// previewAnswer is the answer of the preview's POST endpoints.
type previewAnswer struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
	Note   string `json:"note"`
	Error  string `json:"error"`
}

// previewPost calls one of the preview's POST endpoints as its page does.
func previewPost(t testing.TB, p *proc, path string, req any) (int, previewAnswer) {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	status, body := send(t, http.MethodPost, p.URL+path, "application/json", b, nil)
	var a previewAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("POST %s answered %d %q: %v", path, status, body, err)
	}
	return status, a
}

// actionBlocks maps the action_id of each button and select of the message
// to its block_id.
func actionBlocks(t testing.TB, m previewMessage) map[string]string {
	t.Helper()
	var blocks []struct {
		BlockID  string `json:"block_id"`
		Elements []struct {
			ActionID string `json:"action_id"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID != "" {
				ids[e.ActionID] = b.BlockID
			}
		}
	}
	return ids
}

// has reports whether the message offers the control action_id: a firing
// message offers silence, an acknowledged one unack.
func has(t testing.TB, m previewMessage, actionID string) bool {
	t.Helper()
	_, ok := actionBlocks(t, m)[actionID]
	return ok
}

// clickPreview clicks the button action_id of the message as user, through
// the preview's API.
func clickPreview(t testing.TB, p *proc, channel string, m previewMessage, actionID, user string) previewAnswer {
	t.Helper()
	block, ok := actionBlocks(t, m)[actionID]
	if !ok {
		t.Fatalf("no %s in the message %s", actionID, m.Blocks)
	}
	status, a := previewPost(t, p, "/preview/api/click", map[string]string{
		"channel": channel, "ts": m.TS, "block_id": block, "action_id": actionID, "user": user,
	})
	if status != http.StatusOK {
		t.Fatalf("click %s: %d %+v", actionID, status, a)
	}
	return a
}

// metricValue reads one series from amslack's /metrics; series is its name
// with labels as the exposition format writes them.
func metricValue(t testing.TB, p *proc, series string) float64 {
	t.Helper()
	status, body := get(t, p.URL+"/metrics", nil)
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no %s", series)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitMetric polls a series until it reaches at least min.
func waitMetric(t testing.TB, p *proc, series string, min float64, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(100 * time.Millisecond) {
		v := metricValue(t, p, series)
		if v >= min {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after %s, want at least %v", series, v, timeout, min)
		}
	}
}

// waitPreview polls the preview's messages in channel until cond holds.
func waitPreview(t testing.TB, p *proc, channel, what string, timeout time.Duration, cond func([]previewMessage) bool) []previewMessage {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(100 * time.Millisecond) {
		msgs := previewMessages(t, p, channel)
		if cond(msgs) {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; messages: %d", timeout, what, len(msgs))
		}
	}
}

func previewText(t testing.TB, m previewMessage) string {
	return allText(t, slackfake.Message{Blocks: m.Blocks})
}

// TestDemoWithAlertmanager runs the Quick start as written: amslack on
// examples/demo.yml, Debian's Alertmanager on
// examples/alertmanager-demo.yml, both moved to free ports. The preview's
// Send posts the example to Alertmanager, which notifies amslack through
// its webhook receiver; an acknowledgement then lasts, because
// Alertmanager knows the alerts it silences.
func TestDemoWithAlertmanager(t *testing.T) {
	amtest.Require(t)
	addr := freeAddr(t)
	am := amtest.StartConfig(t, amtest.Config{
		YAML: readReplacing(t, demoAMConfig, demoWebhookURL, "http://"+addr+"/webhook"),
	})
	// amslack reaches Alertmanager through a proxy that counts the
	// reconciler's passes over the group (each lists its alerts).
	var lists atomic.Int64
	amURL, err := url.Parse(am.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(amURL)
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/api/v2/alerts" {
			lists.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(counting.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "demo.yml")
	// Passes every second, and an absence from Alertmanager that would
	// count as resolution after 1s: an alert that Alertmanager did not
	// know would resolve at the first pass.
	writeFile(t, cfg, readReplacing(t, demoConfig,
		"url: "+demoAlertmanagerURL, "url: "+counting.URL,
		"reconcile_interval: 30s", "reconcile_interval: 1s\n  resolve_timeout: 1s"))
	p := startAmslackFile(t, cfg, filepath.Join(dir, "data"), addr)

	if want := `msg="Local preview ready" url=http://` + addr + `/preview`; !strings.Contains(p.Output(), want) {
		t.Errorf("the start-up log does not say %s:\n%s", want, p.Output())
	}

	const channel = "C0PREVIEW01"
	status, a := previewPost(t, p, "/preview/api/send-example", map[string]string{"name": "disk-full-firing"})
	if status != http.StatusOK || !strings.Contains(a.Note, "sent to Alertmanager at "+counting.URL) {
		t.Fatalf("send = %d %+v, want 200 and a note that Alertmanager got it", status, a)
	}
	got := am.Alerts(t, `alertname="DiskFull"`)
	if len(got) != 2 {
		t.Fatalf("Alertmanager lists %d DiskFull alerts after Send, want the example's 2: %+v", len(got), got)
	}
	for _, al := range got {
		if al.Annotations["summary"] == "" || al.Labels["cluster"] != "prod" {
			t.Errorf("alert in Alertmanager lost the example's labels or annotations: %+v", al)
		}
	}

	// Alertmanager notifies amslack after group_wait (5s).
	msgs := waitPreview(t, p, channel, "the message from Alertmanager's notification", 30*time.Second, func(m []previewMessage) bool { return len(m) > 0 })
	if text := previewText(t, msgs[0]); !strings.Contains(text, "DiskFull") || !strings.Contains(text, am.URL) {
		t.Errorf("message does not show the alert with links to the demo's Alertmanager %s:\n%s", am.URL, text)
	}
	if !has(t, msgs[0], "approve_restart") {
		t.Errorf("a database alert does not offer Approve restart: %s", msgs[0].Blocks)
	}

	clickPreview(t, p, channel, msgs[0], "ack", "U0PREVIEWA")
	waitPreview(t, p, channel, "the acknowledgement", 20*time.Second, func(m []previewMessage) bool {
		return len(m) > 0 && has(t, m[0], "unack")
	})
	// Three passes of the reconciler over the acknowledged group: each
	// finds its alerts in Alertmanager and leaves it firing.
	for from, deadline := lists.Load(), time.Now().Add(30*time.Second); lists.Load() < from+3; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d reconcile passes over the acknowledged group in 30s, want 3 (a resolved group is not checked again)", lists.Load()-from)
		}
	}
	if v := metricValue(t, p, `amslack_reconcile_changes_total{change="resolved"}`); v != 0 {
		t.Errorf("the reconciler resolved %v groups whose alerts still fire in Alertmanager", v)
	}
	if m := previewMessages(t, p, channel)[0]; !has(t, m, "silence") || !has(t, m, "unack") {
		t.Errorf("after acknowledgement the message is no longer firing and acknowledged:\n%s", previewText(t, m))
	}
	if active := am.ActiveSilences(t); len(active) != 1 || !strings.HasPrefix(active[0].Comment, "ACK!") {
		t.Errorf("active silences = %+v, want the acknowledgement", active)
	}
}

// TestDemoWithoutAlertmanager runs the demo where no Alertmanager answers
// at alertmanager.url: Send posts the example to amslack itself and says
// so, and an acknowledgement stays, since the reconciler cannot ask
// Alertmanager about the group.
func TestDemoWithoutAlertmanager(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "demo.yml")
	nobody := "http://" + freeAddr(t)
	// ack_mode state records the acknowledgement without Alertmanager.
	writeFile(t, cfg, readReplacing(t, demoConfig,
		"url: "+demoAlertmanagerURL, "url: "+nobody,
		"reconcile_interval: 30s", "reconcile_interval: 1s\n  resolve_timeout: 1s\n  ack_mode: state"))
	p := startAmslackFile(t, cfg, filepath.Join(dir, "data"), "")

	const channel = "C0PREVIEW01"
	status, a := previewPost(t, p, "/preview/api/send-example", map[string]string{"name": "disk-full-firing"})
	if want := "no Alertmanager at " + nobody + ": sent directly; acks are kept as they are"; status != http.StatusOK || !strings.Contains(a.Note, want) {
		t.Fatalf("send = %d %+v, want 200 and the note %q", status, a, want)
	}
	msgs := waitPreview(t, p, channel, "the message", 20*time.Second, func(m []previewMessage) bool { return len(m) > 0 })
	clickPreview(t, p, channel, msgs[0], "ack", "U0PREVIEWA")
	waitPreview(t, p, channel, "the acknowledgement", 20*time.Second, func(m []previewMessage) bool {
		return len(m) > 0 && has(t, m[0], "unack")
	})
	// Each pass fails to reach Alertmanager; none may resolve the group.
	before := metricValue(t, p, "amslack_reconcile_errors_total")
	waitMetric(t, p, "amslack_reconcile_errors_total", before+3, 30*time.Second)
	if v := metricValue(t, p, `amslack_reconcile_changes_total{change="resolved"}`); v != 0 {
		t.Errorf("the reconciler resolved %v groups without an Alertmanager to ask", v)
	}
	if m := previewMessages(t, p, channel)[0]; !has(t, m, "silence") || !has(t, m, "unack") {
		t.Errorf("without Alertmanager the message is no longer firing and acknowledged:\n%s", previewText(t, m))
	}
}

// TestDemoExamples renders each example notification with the demo's
// configuration: links point at the demo's Alertmanager, and "Approve
// restart" (a database restart) shows only on database alerts.
func TestDemoExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(demoAlerts, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("examples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var payload struct {
				Status       string            `json:"status"`
				ExternalURL  string            `json:"externalURL"`
				CommonLabels map[string]string `json:"commonLabels"`
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &payload); err != nil {
				t.Fatal(err)
			}
			if payload.ExternalURL != demoAlertmanagerURL {
				t.Errorf("externalURL = %q, want the demo's Alertmanager %s", payload.ExternalURL, demoAlertmanagerURL)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(binary, "render", "--config.file="+demoConfig, "--data="+f)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("render: %v\n%s", err, stderr.String())
			}
			database := payload.CommonLabels["service"] == "database"
			if payload.Status == "firing" {
				if got := strings.Contains(string(out), `"approve_restart"`); got != database {
					t.Errorf("Approve restart shown = %v, want %v (commonLabels %v)", got, database, payload.CommonLabels)
				}
			}
			if strings.Contains(string(out), "://") && !strings.Contains(string(out), demoAlertmanagerURL) {
				t.Errorf("the message links to no page of %s:\n%s", demoAlertmanagerURL, out)
			}
		})
	}
	// The examples must include both kinds, or the test above proves nothing.
	var kinds [2]bool
	for _, f := range files {
		b, _ := os.ReadFile(f)
		kinds[0] = kinds[0] || strings.Contains(string(b), `"service":"database"`)
		kinds[1] = kinds[1] || !strings.Contains(string(b), `"service":"database"`)
	}
	if !kinds[0] || !kinds[1] {
		t.Errorf("the examples need a database alert and another one; got database %v, other %v", kinds[0], kinds[1])
	}
}
