package interact

import (
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/interact/amclient"
)

// relay puts a real Alertmanager behind an address of its own that can go
// down (connections refused) and come back, as Alertmanager does when it
// restarts.
type relay struct {
	addr   string
	target *url.URL
	mu     sync.Mutex
	srv    *http.Server
}

// newRelay returns a relay to target, down.
func newRelay(t testing.TB, target string) *relay {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{addr: l.Addr().String(), target: u}
	l.Close()
	t.Cleanup(r.down)
	return r
}

func (r *relay) url() string { return "http://" + r.addr }

// up serves on the relay's address again.
func (r *relay) up(t testing.TB) {
	t.Helper()
	l, err := net.Listen("tcp", r.addr)
	if err != nil {
		t.Fatalf("relay cannot listen on %s again: %v", r.addr, err)
	}
	srv := &http.Server{Handler: httputil.NewSingleHostReverseProxy(r.target)}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("relay: %v", err)
		}
	}()
}

// down closes the listener and every connection.
func (r *relay) down() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

// TestFailedClickIsForgotten clicks Silence 1h while Alertmanager is down,
// then the same again once it is back: the second click must silence.
func TestFailedClickIsForgotten(t *testing.T) {
	am, _, _ := startAlertmanager(t)
	r := newRelay(t, am.URL)
	c, err := amclient.New(r.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Options{Silences: c})
	seedGroup(t, e.groups.Groups, nil)
	click := func(name string) clickSpec {
		return clickSpec{action: "silence", value: "1h", user: "U0002BOB", name: "bob", responseURL: e.sink.url(name)}
	}

	e.post(t, click("down"))
	if got := e.sink.next(t); !strings.HasPrefix(got, "Alertmanager did not create the silence") {
		t.Fatalf("reply while Alertmanager is down = %q", got)
	}
	r.up(t)
	e.post(t, click("up"))
	if got := e.sink.next(t); !strings.HasPrefix(got, "Silenced for 1h") {
		t.Fatalf("reply once Alertmanager is back = %q", got)
	}
	mark := getGroup(t, e.groups).State.Silenced
	if mark == nil || am.Silence(t, mark.SilenceID).Status.State != "active" {
		t.Errorf("silenced mark = %+v, want one with an active silence", mark)
	}
	want := []string{DecisionAllowed, DecisionFailed, DecisionAllowed, DecisionSucceeded}
	if diff := cmp.Diff(e.audit.decisions(t), want); diff != "" {
		t.Errorf("audit decisions (-got +want):\n%s", diff)
	}
}

// TestUndoReopensClick silences, unsilences and silences again with the
// same choice, and does the same with acknowledge, on a real Alertmanager.
func TestUndoReopensClick(t *testing.T) {
	am, c, _ := startAlertmanager(t)
	e := newEnv(t, Options{Silences: c})
	seedGroup(t, e.groups.Groups, nil)
	bob := func(action, value, name string) clickSpec {
		return clickSpec{action: action, value: value, user: "U0002BOB", name: "bob", responseURL: e.sink.url(name)}
	}

	e.post(t, bob("silence", "1h", "s1"))
	if got := e.sink.next(t); !strings.HasPrefix(got, "Silenced for 1h") {
		t.Fatalf("first silence reply = %q", got)
	}
	first := getGroup(t, e.groups).State.Silenced
	e.post(t, bob("unsilence", "", "u1"))
	if got := e.sink.next(t); !strings.HasSuffix(got, "expired.") {
		t.Fatalf("unsilence reply = %q", got)
	}
	e.post(t, bob("silence", "1h", "s2"))
	if got := e.sink.next(t); !strings.HasPrefix(got, "Silenced for 1h") {
		t.Fatalf("second silence reply = %q", got)
	}
	second := getGroup(t, e.groups).State.Silenced
	if second == nil || second.SilenceID == first.SilenceID || am.Silence(t, second.SilenceID).Status.State != "active" {
		t.Fatalf("silenced mark after silence, unsilence, silence = %+v, want a new active silence", second)
	}
	e.post(t, bob("unsilence", "", "u2"))
	if got := e.sink.next(t); !strings.HasSuffix(got, "expired.") {
		t.Fatalf("second unsilence reply = %q", got)
	}
	if len(am.ActiveSilences(t)) != 0 {
		t.Errorf("silences still active after the second unsilence")
	}

	e.post(t, bob("ack", "", "a1"))
	if got := e.sink.next(t); !strings.HasPrefix(got, "Acknowledged.") {
		t.Fatalf("ack reply = %q", got)
	}
	e.post(t, bob("unack", "", "n1"))
	if got := e.sink.next(t); got != "Acknowledgement removed." {
		t.Fatalf("unack reply = %q", got)
	}
	e.post(t, bob("ack", "", "a2"))
	if got := e.sink.next(t); !strings.HasPrefix(got, "Acknowledged.") {
		t.Fatalf("second ack reply = %q", got)
	}
	if a := getGroup(t, e.groups).State.Acked; a == nil || am.Silence(t, a.SilenceID).Status.State != "active" {
		t.Errorf("acked mark = %+v, want one with an active silence", a)
	}
	if got := e.counter(t, kindSilence, DecisionDuplicate) + e.counter(t, kindAck, DecisionDuplicate); got != 0 {
		t.Errorf("clicks taken for duplicates: %v", got)
	}
}

// TestDuplicateClickIsAnswered repeats a click in another payload, as a
// double click does: the repeat is not performed, and the clicker is told
// why.
func TestDuplicateClickIsAnswered(t *testing.T) {
	t.Run("done", func(t *testing.T) {
		now := time.Date(2025, 11, 29, 16, 31, 0, 0, time.UTC)
		e := newEnv(t, Options{AckMode: AckModeState, Now: func() time.Time { return now }})
		seedGroup(t, e.groups.Groups, nil)
		e.post(t, clickSpec{action: "ack", responseURL: e.sink.url("1")})
		if got := e.sink.next(t); got != "Acknowledged." {
			t.Fatalf("reply = %q", got)
		}
		e.post(t, clickSpec{action: "ack", responseURL: e.sink.url("2")})
		if diff := cmp.Diff(e.sink.next(t), "Already done by you at 16:31 UTC; this click changed nothing."); diff != "" {
			t.Errorf("duplicate reply (-got +want):\n%s", diff)
		}
		if got := e.counter(t, kindAck, DecisionDuplicate); got != 1 {
			t.Errorf("duplicates counted = %v, want 1", got)
		}
	})
	t.Run("in progress", func(t *testing.T) {
		now := time.Date(2025, 11, 29, 16, 31, 0, 0, time.UTC)
		am := &fakeAM{inCreate: make(chan struct{}, 1), release: make(chan struct{})}
		e := newEnv(t, Options{Silences: am, Now: func() time.Time { return now }})
		seedGroup(t, e.groups.Groups, nil)
		e.post(t, clickSpec{action: "silence", value: "1h", responseURL: e.sink.url("1")})
		<-am.inCreate
		e.post(t, clickSpec{action: "silence", value: "1h", responseURL: e.sink.url("2")})
		if diff := cmp.Diff(e.sink.next(t), "Your same click at 16:31 UTC is still being done; this click changed nothing."); diff != "" {
			t.Errorf("duplicate reply (-got +want):\n%s", diff)
		}
		close(am.release)
		if got := e.sink.next(t); !strings.HasPrefix(got, "Silenced for 1h") {
			t.Errorf("first click's reply = %q", got)
		}
		if n := len(am.creates()); n != 1 {
			t.Errorf("silences created = %d, want 1", n)
		}
	})
}

// TestNewChecksClickWindows checks the bounds of the de-duplication TTL and
// the approval window.
func TestNewChecksClickWindows(t *testing.T) {
	st := openStore(t)
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"dedup TTL inside Slack's replay window", Options{DedupTTL: 5 * time.Minute}, "dedup_ttl: must be at least 5m30s"},
		{"approval window too short", Options{ApprovalWindow: time.Second}, "approval_window: must be between 1m0s and 24h0m0s"},
		{"approval window too long", Options{ApprovalWindow: 48 * time.Hour}, "approval_window: must be between 1m0s and 24h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.SigningSecret, tt.o.Groups = "s", st
			if _, err := New(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := New(Options{SigningSecret: "s", Groups: st, DedupTTL: MinDedupTTL, ApprovalWindow: time.Hour}); err != nil {
		t.Errorf("New() with the shortest TTL = %v", err)
	}
}
