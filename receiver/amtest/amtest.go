// Package amtest starts a real Alertmanager process for end-to-end tests and
// talks to its API v2: post alerts, read alerts and silences.
//
// The binary comes from Debian's prometheus-alertmanager package
// (/usr/bin/prometheus-alertmanager) or from the path in the environment
// variable AMSLACK_ALERTMANAGER. When it is missing, Start skips the test with
// a message saying how to install it, except when the environment variable CI
// is "true": there a missing peer fails the test, so that CI cannot pass by
// skipping.
package amtest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvBinary names the environment variable that overrides the Alertmanager
// binary's path.
const EnvBinary = "AMSLACK_ALERTMANAGER"

// DefaultBinary is where Debian's prometheus-alertmanager package installs
// the binary.
const DefaultBinary = "/usr/bin/prometheus-alertmanager"

// SkipMessage is the reason given when no Alertmanager binary is found.
const SkipMessage = "install prometheus-alertmanager (apt-get install prometheus-alertmanager)"

// startTimeout bounds how long Start waits for /-/ready. Alertmanager is
// ready in well under a second on an idle machine; the margin is for loaded
// CI runners.
const startTimeout = 30 * time.Second

// Config shapes the alertmanager.yml that Start writes.
type Config struct {
	// WebhookURL, when set, routes every alert to a webhook receiver at this
	// URL (send_resolved on). When empty, alerts go to a receiver without
	// integrations.
	WebhookURL string
	// Receiver is the receiver's name; "amslack" when empty.
	Receiver string
	// GroupBy lists the labels alerts are grouped by; ["alertname"] when
	// empty.
	GroupBy []string
	// GroupWait, GroupInterval and RepeatInterval default to 1s, 2s and 1h,
	// so that a posted alert reaches the webhook in about a second.
	GroupWait, GroupInterval, RepeatInterval time.Duration
	// YAML, when not empty, is written as alertmanager.yml verbatim and the
	// fields above are ignored.
	YAML string
}

// YAMLText returns the configuration file that c describes.
func (c Config) YAMLText() string {
	if c.YAML != "" {
		return c.YAML
	}
	name := cmp.Or(c.Receiver, "amslack")
	groupBy := c.GroupBy
	if len(groupBy) == 0 {
		groupBy = []string{"alertname"}
	}
	quoted := make([]string, len(groupBy))
	for i, l := range groupBy {
		quoted[i] = strconv.Quote(l)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "route:\n  receiver: %q\n  group_by: [%s]\n", name, strings.Join(quoted, ", "))
	fmt.Fprintf(&b, "  group_wait: %s\n  group_interval: %s\n  repeat_interval: %s\n",
		modelDuration(cmp.Or(c.GroupWait, time.Second)),
		modelDuration(cmp.Or(c.GroupInterval, 2*time.Second)),
		modelDuration(cmp.Or(c.RepeatInterval, time.Hour)))
	fmt.Fprintf(&b, "receivers:\n  - name: %q\n", name)
	if c.WebhookURL != "" {
		fmt.Fprintf(&b, "    webhook_configs:\n      - url: %q\n        send_resolved: true\n", c.WebhookURL)
	}
	return b.String()
}

// modelDuration formats d the way Alertmanager's configuration accepts it
// (Prometheus durations have no fractional units).
func modelDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

// Alertmanager is a running Alertmanager process owned by a test. It stops
// when the test ends.
type Alertmanager struct {
	// URL is the base URL of the web API, such as http://127.0.0.1:39123.
	URL string
	// Dir holds the configuration file and the storage.
	Dir string

	client *http.Client
	// bin and args start the process again on the same address,
	// configuration and storage (see Restart).
	bin    string
	args   []string
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	output *lockedBuffer
}

// Binary returns the path of the Alertmanager binary, or "" when none is
// installed.
func Binary() string {
	if p := os.Getenv(EnvBinary); p != "" {
		return p
	}
	if _, err := os.Stat(DefaultBinary); err == nil {
		return DefaultBinary
	}
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Require skips the test when no Alertmanager binary is installed, or fails
// it when the environment variable CI is "true". It returns the binary's
// path.
func Require(t testing.TB) string {
	t.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Alertmanager binary under CI=true: " + SkipMessage)
		}
		t.Skip(SkipMessage)
	}
	return bin
}

// Start runs an Alertmanager whose alerts go to a receiver without
// integrations, and stops it when the test ends.
func Start(t testing.TB) *Alertmanager {
	t.Helper()
	return StartConfig(t, Config{})
}

// StartConfig runs an Alertmanager with the configuration c, on a free port
// of 127.0.0.1, with its storage in a temporary directory and clustering off,
// and stops it when the test ends.
func StartConfig(t testing.TB, c Config) *Alertmanager {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(c.YAMLText()), 0o600); err != nil {
		t.Fatal(err)
	}
	// The port is found by binding :0 and closing it again, which another
	// process may grab in between; a second and third attempt cover that.
	var errs []error
	for range 3 {
		am, err := start(bin, dir, cfg)
		if err == nil {
			t.Cleanup(func() { am.stop(t) })
			return am
		}
		errs = append(errs, err)
	}
	t.Fatalf("start Alertmanager: %v", errors.Join(errs...))
	return nil
}

func start(bin, dir, cfg string) (*Alertmanager, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// An empty --cluster.listen-address turns clustering off, which keeps
	// the process off 0.0.0.0:9094 and makes it ready at once.
	return startOn(bin, dir, cfg, port, []string{"--cluster.listen-address="})
}

// startOn runs Alertmanager on port with the cluster flags given.
func startOn(bin, dir, cfg string, port int, cluster []string) (*Alertmanager, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	base := "http://" + addr
	storage := filepath.Join(dir, "data-"+strconv.Itoa(port))
	if err := os.MkdirAll(storage, 0o700); err != nil {
		return nil, err
	}
	am := &Alertmanager{
		URL:    base,
		Dir:    dir,
		client: &http.Client{Timeout: 10 * time.Second},
		bin:    bin,
		args: append([]string{
			"--config.file=" + cfg,
			"--storage.path=" + storage,
			"--web.listen-address=" + addr,
			"--web.external-url=" + base,
			"--log.level=debug",
		}, cluster...),
		output: &lockedBuffer{},
	}
	if err := am.run(); err != nil {
		return nil, err
	}
	return am, nil
}

// StartHA runs n Alertmanagers with the configuration c as one highly
// available cluster, as Alertmanager's README describes: each gossips with
// the others over its own cluster port on 127.0.0.1, and all send each
// notification unless the notification log they share says a peer
// already did. peerTimeout is how long the peer at position i waits (i
// times) before it sends; a short one makes the peers send duplicates, as
// they do when gossip lags. They stop when the test ends.
func StartHA(t testing.TB, c Config, n int, peerTimeout time.Duration) []*Alertmanager {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(c.YAMLText()), 0o600); err != nil {
		t.Fatal(err)
	}
	webPorts, clusterPorts := make([]int, n), make([]int, n)
	for i := range n {
		var err error
		if webPorts[i], err = freePort(); err != nil {
			t.Fatal(err)
		}
		if clusterPorts[i], err = freePort(); err != nil {
			t.Fatal(err)
		}
	}
	var ams []*Alertmanager
	for i := range n {
		cluster := []string{
			"--cluster.listen-address=127.0.0.1:" + strconv.Itoa(clusterPorts[i]),
			"--cluster.peer-timeout=" + modelDuration(peerTimeout),
			// The peers are on loopback and settle at once; Alertmanager
			// holds notifications back until they have, up to this long.
			"--cluster.settle-timeout=2s",
			"--cluster.gossip-interval=100ms",
		}
		for j := range n {
			if j != i {
				cluster = append(cluster, "--cluster.peer=127.0.0.1:"+strconv.Itoa(clusterPorts[j]))
			}
		}
		am, err := startOn(bin, dir, cfg, webPorts[i], cluster)
		if err != nil {
			t.Fatalf("start Alertmanager %d of %d: %v", i+1, n, err)
		}
		t.Cleanup(func() { am.stop(t) })
		ams = append(ams, am)
	}
	return ams
}

// run starts the process and waits until it is ready.
func (am *Alertmanager) run() error {
	cmd := exec.Command(am.bin, am.args...)
	cmd.Stdout = am.output
	cmd.Stderr = am.output
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", am.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	am.cmd, am.done = cmd, done
	if err := am.waitReady(); err != nil {
		am.kill()
		return fmt.Errorf("%w\n%s", err, am.output.String())
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (am *Alertmanager) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-am.done:
			return errors.New("alertmanager exited before it was ready")
		default:
		}
		resp, err := am.client.Get(am.URL + "/-/ready")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("alertmanager not ready after %s", startTimeout)
}

func (am *Alertmanager) kill() {
	_ = am.cmd.Process.Kill()
	<-am.done
}

// terminate stops the process as an operator's restart does: SIGTERM, on
// which Alertmanager writes its silences and notification log to the
// storage path, and SIGKILL if it has not exited within 10 seconds.
func (am *Alertmanager) terminate() {
	_ = am.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-am.done:
	case <-time.After(10 * time.Second):
		am.kill()
	}
}

func (am *Alertmanager) stop(t testing.TB) {
	am.terminate()
	if t.Failed() {
		t.Logf("alertmanager output:\n%s", am.output.String())
	}
}

// Restart stops Alertmanager and starts it again with the same
// configuration, storage and address, so URL stays valid. Alertmanager keeps
// silences and its notification log in the storage path but alerts only in
// memory: after a restart it lists no alerts until they are posted again,
// as Prometheus does on its next evaluation.
func (am *Alertmanager) Restart(t testing.TB) {
	t.Helper()
	am.terminate()
	// The address was just released; another process may take it in
	// between, which fails the restart rather than moving URL.
	if err := am.run(); err != nil {
		t.Fatalf("restart Alertmanager: %v", err)
	}
}

// Output returns what the process wrote to stdout and stderr so far.
func (am *Alertmanager) Output() string { return am.output.String() }

// Alert is an alert as posted to POST /api/v2/alerts.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// PostAlerts posts alerts to Alertmanager as Prometheus does. An alert whose
// EndsAt lies in the past resolves an alert with the same labels.
func (am *Alertmanager) PostAlerts(t testing.TB, alerts ...Alert) {
	t.Helper()
	body, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	am.do(t, http.MethodPost, "/api/v2/alerts", body, nil)
}

// ResolveAlerts posts alerts with the given label sets again with an end in
// the past, which resolves them.
func (am *Alertmanager) ResolveAlerts(t testing.TB, labelSets ...map[string]string) {
	t.Helper()
	end := time.Now().Add(-time.Second)
	alerts := make([]Alert, len(labelSets))
	for i, ls := range labelSets {
		alerts[i] = Alert{Labels: ls, StartsAt: end.Add(-time.Minute), EndsAt: end}
	}
	am.PostAlerts(t, alerts...)
}

// Matcher is a silence matcher of API v2.
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"`
}

// Silence is a silence as GET /api/v2/silences returns it.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`
	Status    struct {
		// State is "active", "pending" or "expired".
		State string `json:"state"`
	} `json:"status"`
}

// Silences returns all silences Alertmanager knows, expired ones included.
func (am *Alertmanager) Silences(t testing.TB) []Silence {
	t.Helper()
	var out []Silence
	am.do(t, http.MethodGet, "/api/v2/silences", nil, &out)
	return out
}

// ActiveSilences returns the silences in state "active".
func (am *Alertmanager) ActiveSilences(t testing.TB) []Silence {
	t.Helper()
	var active []Silence
	for _, s := range am.Silences(t) {
		if s.Status.State == "active" {
			active = append(active, s)
		}
	}
	return active
}

// Silence returns the silence with the given id.
func (am *Alertmanager) Silence(t testing.TB, id string) Silence {
	t.Helper()
	var out Silence
	am.do(t, http.MethodGet, "/api/v2/silence/"+url.PathEscape(id), nil, &out)
	return out
}

// CreateSilence creates, as createdBy with comment, a silence from now for
// d whose matchers are equal matchers of labels, and returns its id.
func (am *Alertmanager) CreateSilence(t testing.TB, createdBy, comment string, d time.Duration, labels map[string]string) string {
	t.Helper()
	equal := true
	var ms []Matcher
	for name, value := range labels {
		ms = append(ms, Matcher{Name: name, Value: value, IsEqual: &equal})
	}
	now := time.Now().UTC()
	body, err := json.Marshal(map[string]any{
		"matchers": ms, "startsAt": now, "endsAt": now.Add(d), "createdBy": createdBy, "comment": comment,
	})
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		SilenceID string `json:"silenceID"`
	}
	am.do(t, http.MethodPost, "/api/v2/silences", body, &created)
	if created.SilenceID == "" {
		t.Fatal("POST /api/v2/silences answered no silenceID")
	}
	return created.SilenceID
}

// ExpireSilence expires the silence with the given id.
func (am *Alertmanager) ExpireSilence(t testing.TB, id string) {
	t.Helper()
	am.do(t, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil)
}

// AlertStatus is an alert as GET /api/v2/alerts returns it.
type AlertStatus struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Fingerprint string            `json:"fingerprint"`
	Status      struct {
		// State is "active", "suppressed" or "unprocessed".
		State       string   `json:"state"`
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// Alerts returns the alerts that match all filter matchers (such as
// `alertname="DiskFull"`), silenced and inhibited ones included.
func (am *Alertmanager) Alerts(t testing.TB, filter ...string) []AlertStatus {
	t.Helper()
	q := url.Values{}
	for _, f := range filter {
		q.Add("filter", f)
	}
	var out []AlertStatus
	am.do(t, http.MethodGet, "/api/v2/alerts?"+q.Encode(), nil, &out)
	return out
}

func (am *Alertmanager) do(t testing.TB, method, path string, body []byte, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, am.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := am.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
}

// lockedBuffer collects the process output, written by exec's copying
// goroutines and read by the test.
type lockedBuffer struct {
	// mu guards buf.
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
