package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/cmd/internal/config"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// redisServerBinary is where Debian's redis-server package installs the
// server.
const redisServerBinary = "/usr/bin/redis-server"

// ownRedis is a redis-server process that a test starts, pauses and
// resumes; the shared one at 127.0.0.1:6379 must not be paused.
type ownRedis struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
	out  bytes.Buffer

	// mu guards paused.
	mu     sync.Mutex
	paused bool
}

// startOwnRedis runs redis-server on a free port of 127.0.0.1 without
// persistence, and stops it when the test ends. Without the binary the
// test is skipped, or fails under CI=true.
func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	bin := redisServerBinary
	if _, err := os.Stat(bin); err != nil {
		p, lerr := exec.LookPath("redis-server")
		if lerr != nil {
			msg := "no redis-server binary: install it with apt-get install redis-server"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		bin = p
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &ownRedis{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{})}
	r.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		// A paused server acts on no signal but SIGKILL; resume it anyway
		// so that nothing is left stopped.
		r.resume()
		r.cmd.Process.Kill()
		<-r.done
	})
	c := redis.NewClient(&redis.Options{Addr: r.addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return r
		}
		select {
		case <-r.done:
			t.Fatalf("redis-server exited during start:\n%s", r.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server at %s did not answer PING within 10s: %v", r.addr, err)
		}
	}
}

// pause stops the server with SIGSTOP: its connections stay open and
// nothing on them is answered, as with a Redis that hangs.
func (r *ownRedis) pause(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	r.paused = true
}

// resume lets a paused server run again.
func (r *ownRedis) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused {
		r.cmd.Process.Signal(syscall.SIGCONT)
		r.paused = false
	}
}

// TestWebhookAnswersWhileRedisIsStalled pauses the Redis that holds the
// groups' state and sends a notification. The outbox is the replica's own
// bbolt file, so the notification is durable without Redis: it gets its
// 200 within 2 s, the failed lookup is counted and logged, and the
// notification reaches Slack once Redis runs again.
func TestWebhookAnswersWhileRedisIsStalled(t *testing.T) {
	rds := startOwnRedis(t)
	fake := slackfake.New(slackfake.Options{})
	slackSrv := httptest.NewServer(fake)
	t.Cleanup(slackSrv.Close)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "amslack.yml")
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x}\nstore: {redis: {address: %q}}\nroutes: [{name: default, channel: C0STALL001}]\n", slackSrv.URL, rds.addr)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	a, err := New(Options{ConfigFile: cfgFile, StoragePath: filepath.Join(dir, "data"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { a.run(ctx); close(done) }()
	t.Cleanup(func() {
		rds.resume()
		cancel()
		<-done
		a.closeStorage()
	})
	srv := httptest.NewServer(a.handler(nil))
	t.Cleanup(srv.Close)

	rds.pause(t)
	payload, err := os.ReadFile(filepath.Join("..", "..", "..", "receiver", "testdata", "alertmanager", "v035-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Post(srv.URL+"/webhook", "application/json", bytes.NewReader(payload))
	took := time.Since(start)
	if err != nil {
		t.Fatalf("webhook with Redis paused: no answer after %s: %v", took.Round(time.Millisecond), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("webhook with Redis paused: %d, want 200 (the outbox is local and durable)", resp.StatusCode)
	}
	if took > 2*time.Second {
		t.Errorf("webhook with Redis paused answered after %s, want within 2s", took.Round(time.Millisecond))
	}
	if n := testutil.ToFloat64(a.rankErrors); n < 1 {
		t.Errorf("amslack_notification_rank_errors_total = %v, want at least 1", n)
	}
	if !strings.Contains(logs.String(), "to rank its notification") {
		t.Errorf("no log line about the failed lookup:\n%s", logs.String())
	}

	rds.resume()
	deadline := time.Now().Add(30 * time.Second)
	for len(fake.Messages("C0STALL001")) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the notification accepted while Redis was paused did not reach Slack within 30s after it resumed:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisCallsAreBounded: a call without a deadline of its own, to a
// Redis that stopped answering, fails within a small multiple of
// store.redis.timeout rather than blocking.
func TestRedisCallsAreBounded(t *testing.T) {
	rds := startOwnRedis(t)
	c := redis.NewClient(redisOptions(&config.Redis{Address: rds.addr, Timeout: config.DefaultRedisTimeout / 5}, ""))
	defer c.Close()
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	rds.pause(t)
	defer rds.resume()
	start := time.Now()
	err := c.Get(context.Background(), "amslack-test-bounded").Err()
	took := time.Since(start)
	if err == nil || err == redis.Nil {
		t.Fatalf("GET from a paused Redis: %v, want a timeout", err)
	}
	// 200ms per attempt, one retry, and go-redis's short backoff.
	if took > 1500*time.Millisecond {
		t.Errorf("GET from a paused Redis failed after %s, want within 1.5s", took.Round(time.Millisecond))
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
