package redisoutbox

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/outbox/outboxtest"
)

// redisServer is a Redis server of the test's own, which it can kill.
type redisServer struct {
	t    *testing.T
	bin  string
	dir  string
	port string
	cmd  *exec.Cmd
}

// newRedisServer returns a stopped server that keeps an AOF, fsynced at
// each write, in a directory of the test's. Without redis-server it skips
// the test, except under CI=true, where it fails it.
func newRedisServer(t *testing.T) *redisServer {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "no redis-server in PATH (apt-get install redis-server): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	s := &redisServer{t: t, bin: bin, dir: t.TempDir(), port: port}
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + s.port }

// start starts the server and waits until it answers.
func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--bind", "127.0.0.1", "--port", s.port, "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr()})
	defer c.Close()
	deadline := time.Now().Add(waitFor)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s does not answer after %v", s.addr(), waitFor)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill kills the server as kill -9 does.
func (s *redisServer) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// TestRedisRestart kills Redis, which keeps an AOF fsynced at each write,
// and starts it again: what the outbox acknowledged is still there, in
// flight or not, the same Outbox carries on once Redis is back, and the
// Done that failed meanwhile happens then.
func TestRedisRestart(t *testing.T) {
	srv := newRedisServer(t)
	srv.start()
	c := redis.NewClient(&redis.Options{Addr: srv.addr(), ContextTimeoutEnabled: true, MaxRetries: 1})
	t.Cleanup(func() { c.Close() })
	o := start(t, c, Options{KeyPrefix: "amslack:", Timeout: 500 * time.Millisecond, LeaseTTL: 3 * time.Second})
	if w, err := o.CheckDurability(t.Context()); err != nil || w != "" {
		t.Errorf("CheckDurability with appendfsync always = %q, %v; want no warning", w, err)
	}
	for _, g := range []string{"A", "B"} {
		o.enqueue(t, outboxtest.Note(g, "warning", outboxtest.Epoch))
	}
	takeLease(t, o, outboxtest.Channel)
	a, ok, _ := o.Claim(outboxtest.Channel, outboxtest.Epoch)
	if !ok {
		t.Fatal("claimed nothing")
	}

	srv.kill()
	if err := o.Enqueue(t.Context(), outboxtest.Note("C", "warning", outboxtest.Epoch)); err == nil {
		t.Fatal("Enqueue succeeded while Redis is down")
	}
	// A delivered while Redis was down: Run deletes it once Redis is back.
	if err := o.Done(t.Context(), a); err == nil {
		t.Fatal("Done succeeded while Redis is down")
	}
	if _, ok, next := o.Claim(outboxtest.Channel, outboxtest.Epoch); ok || !next.After(outboxtest.Epoch) {
		t.Errorf("Claim while Redis is down = %v, next %v; want nothing, and a next to wait for", ok, next)
	}
	srv.start()

	deadline := time.Now().Add(waitFor)
	for {
		err := o.Enqueue(t.Context(), outboxtest.Note("C", "warning", outboxtest.Epoch))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Enqueue fails %v after Redis came back: %v", waitFor, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		n, err := c.HLen(t.Context(), o.key("inflight:"+outboxtest.Channel)).Result()
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entries in flight %v after Redis came back (%v), want A done", n, waitFor, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got []string
	for {
		e, ok, _ := o.Claim(outboxtest.Channel, outboxtest.Epoch)
		if !ok {
			break
		}
		got = append(got, e.Notification.Key.GroupKey)
		if err := o.Done(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0] != outboxtest.Key("B").GroupKey || got[1] != outboxtest.Key("C").GroupKey {
		t.Errorf("claimed %q after the restart, want B and C", got)
	}
	if err := o.Done(t.Context(), a); !errors.Is(err, outbox.ErrNotInFlight) {
		t.Errorf("second Done = %v", err)
	}
}
