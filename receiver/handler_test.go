package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// recorder is an Enqueuer that keeps what it accepts, or fails.
type recorder struct {
	mu   sync.Mutex
	got  []alertgroup.Notification
	fail error
}

func (r *recorder) Enqueue(_ context.Context, n alertgroup.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, n)
	return nil
}

func (r *recorder) notifications() []alertgroup.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]alertgroup.Notification(nil), r.got...)
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "alertmanager", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newTestHandler(t testing.TB, s Settings) (*Handler, *recorder, *prometheus.Registry) {
	t.Helper()
	rec := &recorder{}
	reg := prometheus.NewRegistry()
	if s.Router == nil {
		s.Router = NewRouter([]*Route{{Name: "default", Channel: "C0DEFAULT1"}}, nil)
	}
	h := NewHandler(Options{Settings: s, Enqueuer: rec, Registerer: reg})
	return h, rec, reg
}

func post(h http.Handler, body []byte, mutate func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if mutate != nil {
		mutate(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestStatusCodes(t *testing.T) {
	firing := fixture(t, "v035-firing.json")
	withField := func(old, new string) []byte {
		return bytes.Replace(firing, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name     string
		settings Settings
		body     []byte
		mutate   func(*http.Request)
		want     int
		wantBody string
		result   string
	}{
		{name: "accepted 0.35", body: firing, want: 200, result: "accepted"},
		{name: "accepted 0.25 without notification_reason", body: fixture(t, "v025-firing.json"), want: 200, result: "accepted"},
		{name: "no content type is accepted", body: firing, mutate: func(r *http.Request) { r.Header.Del("Content-Type") }, want: 200, result: "accepted"},
		{name: "charset in content type", body: firing, mutate: func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8") }, want: 200, result: "accepted"},
		{name: "GET", body: nil, mutate: func(r *http.Request) { r.Method = http.MethodGet }, want: 405, wantBody: "use POST", result: "invalid"},
		{name: "wrong content type", body: firing, mutate: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, want: 415, wantBody: "want application/json", result: "invalid"},
		{name: "not JSON", body: []byte("{not json"), want: 400, wantBody: "not valid JSON", result: "invalid"},
		{name: "JSON of the wrong shape", body: []byte(`{"alerts": "x"}`), want: 422, wantBody: "alerts", result: "invalid"},
		{name: "empty object", body: []byte(`{}`), want: 422, wantBody: "receiver", result: "invalid"},
		{name: "version 3", body: withField(`"version":"4"`, `"version":"3"`), want: 422, wantBody: `version: "3" is not supported`, result: "invalid"},
		{name: "missing groupKey", body: withField(`"groupKey":"{}:{alertname=\"DiskFull\", cluster=\"prod\"}"`, `"groupKey":""`), want: 422, wantBody: "groupKey: missing", result: "invalid"},
		{name: "bad status", body: withField(`"status":"firing"`, `"status":"burning"`), want: 422, wantBody: "status", result: "invalid"},
		{name: "too large", settings: Settings{MaxBodyBytes: 100}, body: firing, want: 413, wantBody: "max_body_bytes (100 bytes)", result: "too_large"},
		{name: "bearer required, missing", settings: Settings{Auth: Auth{BearerToken: "s3cret"}}, body: firing, want: 401, result: "unauthorized"},
		{name: "bearer wrong", settings: Settings{Auth: Auth{BearerToken: "s3cret"}}, body: firing, mutate: func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, want: 401, result: "unauthorized"},
		{name: "bearer right", settings: Settings{Auth: Auth{BearerToken: "s3cret"}}, body: firing, mutate: func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") }, want: 200, result: "accepted"},
		{name: "basic wrong password", settings: Settings{Auth: Auth{Username: "am", Password: "pw"}}, body: firing, mutate: func(r *http.Request) { r.SetBasicAuth("am", "nope") }, want: 401, result: "unauthorized"},
		{name: "basic right", settings: Settings{Auth: Auth{Username: "am", Password: "pw"}}, body: firing, mutate: func(r *http.Request) { r.SetBasicAuth("am", "pw") }, want: 200, result: "accepted"},
		{name: "no route", settings: Settings{Router: NewRouter([]*Route{{Name: "db", Receiver: "team-db", Channel: "C0DB000001"}}, nil)}, body: firing, want: 422, wantBody: `no route matches receiver "sink"`, result: "unrouted"},
		{name: "channel not allowed", settings: Settings{Router: NewRouter(nil, []string{"C0ALLOWED1"})}, body: firing, mutate: func(r *http.Request) { r.URL.RawQuery = "channel=C0OTHER001" }, want: 403, wantBody: "allowed_channels", result: "unrouted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, rec, reg := newTestHandler(t, tt.settings)
			w := post(h, tt.body, tt.mutate)
			if w.Code != tt.want {
				t.Fatalf("status = %d (%s), want %d", w.Code, w.Body, tt.want)
			}
			if !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("body %q does not say %q", w.Body, tt.wantBody)
			}
			if got := testutil.ToFloat64(h.received.WithLabelValues(tt.result)); got != 1 {
				t.Errorf("received{result=%q} = %v, want 1", tt.result, got)
			}
			wantN := 0
			if tt.want == 200 {
				wantN = 1
			}
			if n := len(rec.notifications()); n != wantN {
				t.Errorf("enqueued %d notifications, want %d", n, wantN)
			}
			_ = reg
		})
	}
}

func TestUnavailable(t *testing.T) {
	firing := fixture(t, "v035-firing.json")
	t.Run("store fails", func(t *testing.T) {
		h, rec, _ := newTestHandler(t, Settings{})
		rec.fail = errors.New("disk full")
		w := post(h, firing, nil)
		if w.Code != http.StatusServiceUnavailable {
			t.Fatalf("status = %d, want 503", w.Code)
		}
		// The failed notification was not remembered as seen: Alertmanager's
		// retry of it must be accepted, not dropped as a copy.
		rec.fail = nil
		if w := post(h, firing, nil); w.Code != 200 {
			t.Fatalf("retry status = %d, want 200", w.Code)
		}
		if n := len(rec.notifications()); n != 1 {
			t.Fatalf("enqueued %d, want 1", n)
		}
	})
	t.Run("shutting down", func(t *testing.T) {
		h, rec, _ := newTestHandler(t, Settings{})
		h.Close()
		if w := post(h, firing, nil); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("status = %d, want 503", w.Code)
		}
		if n := len(rec.notifications()); n != 0 {
			t.Fatalf("enqueued %d, want 0", n)
		}
	})
}

func TestHADuplicates(t *testing.T) {
	h, rec, _ := newTestHandler(t, Settings{})
	for _, f := range []string{"v035-ha-duplicate-peer-a.json", "v035-ha-duplicate-peer-b.json"} {
		if w := post(h, fixture(t, f), nil); w.Code != 200 {
			t.Fatalf("%s: status %d", f, w.Code)
		}
	}
	if n := len(rec.notifications()); n != 1 {
		t.Fatalf("two HA copies gave %d notifications, want 1", n)
	}
	if got := testutil.ToFloat64(h.duplicates); got != 1 {
		t.Errorf("duplicates = %v, want 1", got)
	}
}

func TestFlappingGroupIsNotACopy(t *testing.T) {
	// Fire, resolve, fire again with the same alert inside the window: each
	// is a real change and must go through.
	h, rec, _ := newTestHandler(t, Settings{})
	firing := fixture(t, "v035-firing.json")
	resolved := fixture(t, "v035-resolved.json")
	for i, b := range [][]byte{firing, resolved, firing, firing} {
		if w := post(h, b, nil); w.Code != 200 {
			t.Fatalf("post %d: status %d", i, w.Code)
		}
	}
	var got []string
	for _, n := range rec.notifications() {
		got = append(got, n.Message.Status)
	}
	if diff := cmp.Diff(got, []string{"firing", "resolved", "firing"}); diff != "" {
		t.Errorf("statuses enqueued (-got +want):\n%s", diff)
	}
}

func TestRouting(t *testing.T) {
	m := func(s string) labels.Matchers {
		ms, err := labels.ParseMatchers(s)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	routes := []*Route{
		{Name: "db-critical", Receiver: "team.db", Matchers: m(`{severity="critical"}`), Channel: "C0DBCRIT01"},
		{Name: "db", Receiver: "team.db", Channel: "C0DB000001"},
		{Name: "prod", Matchers: m(`{cluster=~"prod|production"}`), Channel: "C0PROD0001"},
		{Name: "hook", Matchers: m(`{team="web"}`), Webhook: true},
		{Name: "default", Channel: "C0DEFAULT1"},
	}
	rt := NewRouter(routes, nil)
	tests := []struct {
		name     string
		receiver string
		labels   map[string]string
		channel  string
		route    string
		dest     string
	}{
		{"escaped receiver and matcher", `team\.db`, map[string]string{"severity": "critical"}, "", "db-critical", "C0DBCRIT01"},
		{"receiver only", `team\.db`, map[string]string{"severity": "warning"}, "", "db", "C0DB000001"},
		{"regex matcher", "other", map[string]string{"cluster": "production"}, "", "prod", "C0PROD0001"},
		{"webhook route", "other", map[string]string{"team": "web"}, "", "hook", "webhook:hook"},
		{"default", "other", nil, "", "default", "C0DEFAULT1"},
		{"?channel= uses the default route's options", `team\.db`, map[string]string{"severity": "critical"}, "C0QUERY001", "default", "C0QUERY001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := &alertgroup.Message{Data: newData(tt.receiver, tt.labels)}
			r, dest, err := rt.Route(msg, tt.channel)
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != tt.route || dest != tt.dest {
				t.Errorf("got route %q to %q, want %q to %q", r.Name, dest, tt.route, tt.dest)
			}
		})
	}
}

func TestUnescapeReceiver(t *testing.T) {
	for in, want := range map[string]string{
		`web\.hook`:       "web.hook",
		`plain`:           "plain",
		`a\\b`:            `a\b`,
		`team\-db\ \(x\)`: "team-db (x)",
	} {
		if got := UnescapeReceiver(in); got != want {
			t.Errorf("UnescapeReceiver(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReloadSwapsSettings(t *testing.T) {
	h, _, _ := newTestHandler(t, Settings{})
	firing := fixture(t, "v035-firing.json")
	h.Reload(Settings{Auth: Auth{BearerToken: "new"}, Router: NewRouter([]*Route{{Name: "d", Channel: "C0NEW00001"}}, nil)})
	if w := post(h, firing, nil); w.Code != 401 {
		t.Fatalf("after reload without token: %d, want 401", w.Code)
	}
}

func FuzzDecode(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "alertmanager"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		f.Add(fixture(f, e.Name()))
	}
	f.Add([]byte(`{"version":"4","groupKey":"x","receiver":"r","status":"firing","alerts":[{"status":"firing","fingerprint":"f"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		// Whatever decodes can be routed and identified without panicking.
		if m.GroupKey == "" || m.Version != "4" || len(m.Alerts) == 0 {
			t.Fatalf("Decode accepted an invalid message: %+v", m)
		}
		identity(m, "C0FUZZ0001")
		NewRouter([]*Route{{Name: "d", Channel: "C0FUZZ0001"}}, nil).Route(m, "")
	})
}

func BenchmarkWebhook(b *testing.B) {
	for _, n := range []int{1, 50, 1000} {
		body := syntheticPayload(n)
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			h, _, _ := newTestHandler(b, Settings{MaxBodyBytes: 64 << 20})
			h.enqueuer = discard{}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				// A different group each time, so the HA filter does not
				// short-cut the work.
				r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(bytes.Replace(body, []byte("GROUPKEY"), fmt.Appendf(nil, "g%09d", i), 1)))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Enqueue(context.Context, alertgroup.Notification) error { return nil }

// gate is an Enqueuer whose first call blocks until released and then
// fails; later calls succeed.
type gate struct {
	mu      sync.Mutex
	calls   int
	entered chan struct{}
	release chan struct{}
	got     []alertgroup.Notification
}

func (g *gate) Enqueue(_ context.Context, n alertgroup.Notification) error {
	g.mu.Lock()
	g.calls++
	first := g.calls == 1
	g.mu.Unlock()
	if first {
		close(g.entered)
		<-g.release
		return errors.New("disk full")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.got = append(g.got, n)
	return nil
}

func TestCopyWaitsForTheOriginalsCommit(t *testing.T) {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	h := NewHandler(Options{Settings: Settings{Router: NewRouter([]*Route{{Name: "d", Channel: "C0DEFAULT1"}}, nil)}, Enqueuer: g})
	peerA, peerB := fixture(t, "v035-ha-duplicate-peer-a.json"), fixture(t, "v035-ha-duplicate-peer-b.json")

	first := make(chan int)
	go func() { first <- post(h, peerA, nil).Code }()
	<-g.entered
	second := make(chan int)
	go func() { second <- post(h, peerB, nil).Code }()
	// The copy must wait for the original rather than be answered.
	for h.dedup.waiting.Load() == 0 {
		select {
		case code := <-second:
			t.Fatalf("the copy was answered %d while the original was still being recorded", code)
		case <-time.After(time.Millisecond):
		}
	}
	close(g.release)
	if code := <-first; code != http.StatusServiceUnavailable {
		t.Errorf("original: %d, want 503", code)
	}
	if code := <-second; code != http.StatusOK {
		t.Errorf("copy after the original failed: %d, want 200", code)
	}
	if len(g.got) != 1 {
		t.Errorf("%d notifications recorded, want the copy", len(g.got))
	}
}

// stalled is an Enqueuer whose store never answers: it returns only when
// its context ends, and says whether that context had a deadline.
type stalled struct{ deadline chan bool }

func (s stalled) Enqueue(ctx context.Context, _ alertgroup.Notification) error {
	_, ok := ctx.Deadline()
	s.deadline <- ok
	<-ctx.Done()
	return ctx.Err()
}

// TestRecordingIsBounded: a store that stops answering gets the
// notification a 503 once RecordTimeout has passed, however the store
// itself bounds its calls, so that Alertmanager sends it again rather than
// wait.
func TestRecordingIsBounded(t *testing.T) {
	s := stalled{deadline: make(chan bool, 1)}
	h := NewHandler(Options{
		Settings:      Settings{Router: NewRouter([]*Route{{Name: "d", Channel: "C0DEFAULT1"}}, nil)},
		Enqueuer:      s,
		RecordTimeout: 50 * time.Millisecond,
	})
	w := post(h, fixture(t, "v035-firing.json"), nil)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", w.Code)
	}
	if !<-s.deadline {
		t.Error("the store was called without a deadline")
	}
	if d := NewHandler(Options{Enqueuer: s}).recordTimeout; d != DefaultRecordTimeout {
		t.Errorf("default record timeout = %s, want %s", d, DefaultRecordTimeout)
	}
}
