package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/cmd/internal/config"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestWebhookAnswersWhileRedisIsStalled pauses the Redis that holds the
// outbox and the groups' state, and sends a notification. amslack cannot
// record it, so it answers 503 within 2 s, and Alertmanager sends it again
// later; it never hangs. Once Redis runs again, the notification sent again
// is accepted and reaches Slack.
func TestWebhookAnswersWhileRedisIsStalled(t *testing.T) {
	rds := storetest.StartRedis(t, false)
	fake := slackfake.New(slackfake.Options{})
	slackSrv := httptest.NewServer(fake)
	t.Cleanup(slackSrv.Close)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "amslack.yml")
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x}\nstore: {redis: {address: %q}}\nroutes: [{name: default, channel: C0STALL001}]\n", slackSrv.URL, rds.Addr)
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
		rds.Resume()
		cancel()
		<-done
		a.closeStorage()
	})
	srv := httptest.NewServer(a.handler(nil))
	t.Cleanup(srv.Close)

	rds.Pause()
	payload, err := os.ReadFile(filepath.Join("..", "..", "..", "receiver", "testdata", "alertmanager", "v035-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	resp, err := client.Post(srv.URL+"/webhook", "application/json", bytes.NewReader(payload))
	took := time.Since(start)
	if err != nil {
		t.Fatalf("webhook with Redis paused: no answer after %s: %v", took.Round(time.Millisecond), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("webhook with Redis paused: %d, want 503 (Alertmanager retries it)", resp.StatusCode)
	}
	if took > 2*time.Second {
		t.Errorf("webhook with Redis paused answered after %s, want within 2s", took.Round(time.Millisecond))
	}
	// The lookup that ranks the notification gave up within its own
	// deadline, which leaves the outbox's write time to fail within 2 s.
	if n := testutil.ToFloat64(a.rankErrors); n < 1 {
		t.Errorf("amslack_notification_rank_errors_total = %v, want at least 1", n)
	}
	ready, err := client.Get(srv.URL + "/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	ready.Body.Close()
	if ready.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/-/ready with Redis paused: %d, want 503", ready.StatusCode)
	}

	rds.Resume()
	resp, err = client.Post(srv.URL+"/webhook", "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook sent again after Redis resumed: %d, want 200", resp.StatusCode)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(fake.Messages("C0STALL001")) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the notification accepted after Redis resumed did not reach Slack within 30s:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisCallsAreBounded: a call without a deadline of its own, to a
// Redis that stopped answering, fails within a small multiple of
// store.redis.timeout rather than blocking.
func TestRedisCallsAreBounded(t *testing.T) {
	rds := storetest.StartRedis(t, false)
	c := redis.NewClient(redisOptions(&config.Redis{Address: rds.Addr, Timeout: config.DefaultRedisTimeout / 5}, ""))
	defer c.Close()
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	rds.Pause()
	defer rds.Resume()
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
