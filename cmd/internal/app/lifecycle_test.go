package app

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestStopFinishesWhatItAccepted starts amslack on a real listener, holds a
// webhook in flight (its handler waits for the body), and stops amslack: the
// listener closes and readiness fails while that webhook is still being
// received, the webhook is then answered 200, and once Stop returns its
// notification is in Slack or pending in the storage, which Stop released.
func TestStopFinishesWhatItAccepted(t *testing.T) {
	fake := slackfake.New(slackfake.Options{})
	fake.SetLatency(200 * time.Millisecond)
	slackSrv := httptest.NewServer(fake)
	defer slackSrv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "slack: {api_url: '%s/api/', bot_token: xoxb-x}\nroutes: [{channel: C0STOP0001}]\n", slackSrv.URL), 0o600); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "data")
	a, err := New(Options{ConfigFile: cfg, StoragePath: storage, ListenAddress: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		a.Stop(t.Context())
		t.Fatal(err)
	}
	addr := a.Addr().String()
	resp, err := http.Get("http://" + addr + "/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/-/ready after Start: %d", resp.StatusCode)
	}

	payload, err := os.ReadFile(filepath.Join("..", "..", "..", "receiver", "testdata", "alertmanager", "v035-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	// With Expect: 100-continue the server answers "100 Continue" only
	// when the handler reads the body, past its check for a shutdown.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhook HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", addr, len(payload))
	br := bufio.NewReader(conn)
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("before the body: %q, %v; want 100 Continue", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- a.Stop(context.Background()) }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err != nil && !a.ready.Load() {
			break
		}
		if c != nil {
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts, or amslack is still ready, 5s into Stop")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) before the webhook in flight finished", err)
	default:
	}
	if _, err := conn.Write(payload); err != nil {
		t.Fatal(err)
	}
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("webhook in flight during Stop: %d, want 200", resp.StatusCode)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Stop: %v", err)
	}
	select {
	case err := <-a.Failed():
		t.Errorf("Failed after a clean stop: %v", err)
	default:
	}

	// The storage is released: a new amslack opens it at once.
	b, err := New(Options{ConfigFile: cfg, StoragePath: storage})
	if err != nil {
		t.Fatal(err)
	}
	defer b.closeStorage()
	delivered, pending := len(fake.Messages("C0STOP0001")), b.outbox.(*outbox.Outbox).Len()
	if delivered+pending != 1 {
		t.Errorf("%d delivered and %d pending, want the notification once", delivered, pending)
	}
}

// TestStartFailsOnAListener: an address in use fails Start with an error
// naming it, nothing is left listening, and Stop then releases the storage.
func TestStartFailsOnAListener(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	if err := os.WriteFile(cfg, []byte("slack: {api_url: 'http://127.0.0.1:1/api/', bot_token: xoxb-x}\nroutes: [{channel: C0STOP0001}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "data")
	for _, o := range []Options{
		{ListenAddress: busy.Addr().String()},
		{ListenAddress: "127.0.0.1:0", AdminListenAddress: busy.Addr().String()},
	} {
		o.ConfigFile, o.StoragePath = cfg, storage
		a, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		err = a.Start(t.Context())
		if err == nil || !strings.Contains(err.Error(), busy.Addr().String()) {
			t.Errorf("Start with %s in use: %v, want an error naming it", busy.Addr(), err)
		}
		if a.Addr() != nil || len(a.life.servers) != 0 {
			t.Errorf("Start failed but serves %v", a.Addr())
		}
		if err := a.Stop(t.Context()); err != nil {
			t.Errorf("Stop after a failed Start: %v", err)
		}
	}
}
