package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// binary is the amslack binary the end-to-end tests run, and actionServer
// the example internal action server; TestMain builds both once.
var binary, actionServer string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "amslack-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "amslack")
	actionServer = filepath.Join(dir, "actionserver")
	for out, pkg := range map[string]string{binary: ".", actionServer: "../../examples/actionserver"} {
		// -buildvcs=auto is go build's default; given here so that the
		// binary carries the git stamp whatever GOFLAGS says.
		build := exec.Command("go", "build", "-buildvcs=auto", "-o", out, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build", pkg+":", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeSlack starts the project's fake Slack on a real HTTP listener.
func fakeSlack(t testing.TB, opts slackfake.Options) (*slackfake.Server, string) {
	t.Helper()
	fake := slackfake.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv.URL
}

// proc is an amslack process run by a test.
type proc struct {
	URL     string
	addr    string
	cmd     *exec.Cmd
	done    chan struct{}
	mu      sync.Mutex
	output  bytes.Buffer
	config  string
	storage string
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.Write(b)
}

// Output returns what amslack logged.
func (p *proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// startAmslack writes config to a file and runs amslack on it, on a free
// port, with storage in the given directory (a new one if empty). It returns
// once /-/ready answers.
func startAmslack(t testing.TB, config, storage string, extraArgs ...string) *proc {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if storage == "" {
		storage = filepath.Join(dir, "data")
	}
	return startAmslackFile(t, cfg, storage, "", extraArgs...)
}

func startAmslackFile(t testing.TB, cfg, storage, addr string, extraArgs ...string) *proc {
	t.Helper()
	p := startProcess(t, cfg, storage, addr, extraArgs...)
	p.waitReady(t, http.DefaultClient)
	return p
}

// startProcess runs amslack and stops it when the test ends, without
// waiting for it to be ready.
func startProcess(t testing.TB, cfg, storage, addr string, extraArgs ...string) *proc {
	t.Helper()
	if addr == "" {
		addr = freeAddr(t)
	}
	p := &proc{URL: "http://" + addr, addr: addr, done: make(chan struct{}), config: cfg, storage: storage}
	args := append([]string{"--config.file=" + cfg, "--storage.path=" + storage, "--web.listen-address=" + addr, "--log.level=debug"}, extraArgs...)
	p.cmd = exec.Command(binary, args...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
		p.checkSecrets(t)
		if t.Failed() {
			t.Logf("amslack output:\n%s", p.Output())
		}
	})
	return p
}

// waitReady waits until /-/ready answers 200 through client.
func (p *proc) waitReady(t testing.TB, client *http.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("amslack exited during start:\n%s", p.Output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("amslack not ready after 30s:\n%s", p.Output())
		}
	}
}

// kill ends the process with SIGKILL, as a crash would.
func (p *proc) kill(t testing.TB) {
	t.Helper()
	p.cmd.Process.Kill()
	<-p.done
}

// stop ends the process with SIGTERM and waits for it.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("amslack did not stop within 20s of SIGTERM:\n%s", p.Output())
	}
}

// restart runs a new process on the same configuration, storage and address.
func (p *proc) restart(t testing.TB) *proc {
	t.Helper()
	return startAmslackFile(t, p.config, p.storage, p.addr)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// waitFor waits until cond holds, re-checking whenever the fake Slack
// changes, and fails the test after timeout.
func waitFor(t testing.TB, fake *slackfake.Server, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	events, cancel := fake.Subscribe()
	defer cancel()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	// A slow tick covers changes made outside the fake (Alertmanager's
	// silences), which send no event.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-events:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// send makes a request to amslack and returns the status and body.
// contentType, when set, is sent as Content-Type; mutate, when set, changes
// the request before it goes.
func send(t testing.TB, method, url, contentType string, body []byte, mutate func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
