package storetest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServerBinary is where Debian's redis-server package installs the
// server.
const RedisServerBinary = "/usr/bin/redis-server"

// RedisServer is a redis-server process of a test's own, for the faults
// that the shared one at RedisAddr must not suffer: a pause, a kill, a
// restart.
type RedisServer struct {
	// Addr is host:port on loopback.
	Addr string

	bin, dir string
	aof      bool
	// extra are more of redis-server's arguments.
	extra []string
	t     testing.TB

	// mu guards cmd, done, out and paused.
	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	out    *lockedBuffer
	paused bool
}

// StartRedis runs redis-server on a free port of 127.0.0.1 in a directory
// of the test's, with extra arguments after its own (such as --replicaof),
// and kills it when the test ends. With aof the server
// keeps an append-only file synced on every write (appendonly yes,
// appendfsync always), so that a write it acknowledged survives Kill and
// Restart; without it, the server keeps nothing. Without the binary the
// test is skipped, saying how to get it, or fails under CI=true.
func StartRedis(t testing.TB, aof bool, extra ...string) *RedisServer {
	t.Helper()
	bin := RedisServerBinary
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
	addr := l.Addr().String()
	l.Close()
	r := &RedisServer{Addr: addr, bin: bin, dir: t.TempDir(), aof: aof, extra: extra, t: t}
	r.start()
	t.Cleanup(func() {
		r.Resume()
		r.Kill()
	})
	return r
}

// start runs the server and waits until it answers PING.
func (r *RedisServer) start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.Addr)
	args := []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--dir", r.dir}
	if r.aof {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	args = append(args, r.extra...)
	cmd := exec.Command(r.bin, args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	r.mu.Lock()
	r.cmd, r.done, r.out = cmd, done, out
	r.mu.Unlock()

	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-done:
			r.t.Fatalf("redis-server exited during start:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server at %s did not answer PING within 10s: %v", r.Addr, err)
		}
	}
}

// Pause stops the server with SIGSTOP: its connections stay open and
// nothing on them is answered, as with a Redis that hangs.
func (r *RedisServer) Pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		r.t.Fatal(err)
	}
	r.paused = true
}

// Resume lets a paused server run again.
func (r *RedisServer) Resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused {
		r.cmd.Process.Signal(syscall.SIGCONT)
		r.paused = false
	}
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it to
// exit.
func (r *RedisServer) Kill() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	cmd.Process.Kill()
	<-done
}

// Restart kills the server and starts it again on the same port and
// directory: with aof, it comes back with every write it acknowledged.
func (r *RedisServer) Restart() {
	r.Kill()
	r.start()
}

// Output returns what the server printed.
func (r *RedisServer) Output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// lockedBuffer is a bytes.Buffer safe for a process's output and a
// test's reads at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
