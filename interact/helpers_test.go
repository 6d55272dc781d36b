package interact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/interact/runbook"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/boltstore"
)

const (
	testSecret  = "test-signing-secret"
	testChannel = "C0001ALERTS"
	testTS      = "1764425522.000100"
	testTeam    = "T0001TEAM"
)

// lockedBuffer is an io.Writer that tests can read while workers write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// entries returns the audit lines written so far.
func (b *lockedBuffer) entries(t testing.TB) []AuditEntry {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []AuditEntry
	for line := range strings.Lines(b.buf.String()) {
		var e AuditEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// decisions returns the decisions of the audit lines, in order.
func (b *lockedBuffer) decisions(t testing.TB) []string {
	var out []string
	for _, e := range b.entries(t) {
		out = append(out, e.Decision)
	}
	return out
}

// sink is a fake response_url endpoint.
type sink struct {
	srv  *httptest.Server
	msgs chan sinkMsg
}

type sinkMsg struct {
	path string
	body map[string]any
}

func newSink(t testing.TB) *sink {
	s := &sink{msgs: make(chan sinkMsg, 1000)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("response_url body: %v", err)
		}
		s.msgs <- sinkMsg{path: r.URL.Path, body: body}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// url returns a response_url of the sink; distinct names make distinct
// payloads.
func (s *sink) url(name string) string { return s.srv.URL + "/actions/" + name }

// next waits for the next ephemeral reply and returns its text.
func (s *sink) next(t testing.TB) string {
	t.Helper()
	select {
	case m := <-s.msgs:
		if m.body["response_type"] != "ephemeral" || m.body["replace_original"] != false {
			t.Errorf("reply is not a plain ephemeral: %v", m.body)
		}
		text, _ := m.body["text"].(string)
		return text
	case <-time.After(20 * time.Second):
		t.Fatal("no reply through response_url within 20s")
		return ""
	}
}

// none checks that no reply is pending.
func (s *sink) none(t testing.TB) {
	t.Helper()
	select {
	case m := <-s.msgs:
		t.Errorf("unexpected reply: %v", m.body)
	default:
	}
}

type fakeSlack struct {
	mu          sync.Mutex
	triggers    []string
	views       []slack.ModalViewRequest
	openErr     error
	members     map[string][]string
	memberCalls int
	membersErr  error
	posts       []string // channels of chat.postMessage
	completions []string // "<execution id>: success" or ": <error>"
}

func (f *fakeSlack) OpenViewContext(_ context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.openErr != nil {
		return nil, f.openErr
	}
	f.triggers = append(f.triggers, triggerID)
	f.views = append(f.views, view)
	return &slack.ViewResponse{}, nil
}

func (f *fakeSlack) GetUserGroupMembersContext(_ context.Context, group string, _ ...slack.GetUserGroupMembersOption) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.memberCalls++
	if f.membersErr != nil {
		return nil, f.membersErr
	}
	return f.members[group], nil
}

func (f *fakeSlack) PostMessageContext(_ context.Context, channel string, _ ...slack.MsgOption) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts = append(f.posts, channel)
	return channel, "1764425999.000100", nil
}

func (f *fakeSlack) FunctionCompleteSuccessContext(_ context.Context, id string, _ ...slack.FunctionCompleteSuccessRequestOption) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.completions = append(f.completions, id+": success")
	return nil
}

func (f *fakeSlack) FunctionCompleteErrorContext(_ context.Context, id, msg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.completions = append(f.completions, id+": "+msg)
	return nil
}

func (f *fakeSlack) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.memberCalls
}

type fakeRefresher struct {
	mu   sync.Mutex
	keys []alertgroup.Key
}

func (f *fakeRefresher) Refresh(_ context.Context, key alertgroup.Key, _ string, _ ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	return nil
}

func (f *fakeRefresher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.keys)
}

// fakeAM is an in-memory Silencer for tests that do not need a real
// Alertmanager.
type fakeAM struct {
	mu       sync.Mutex
	created  []amclient.Silence
	expired  []string
	alerts   []amclient.Alert
	err      error
	listErr  error
	inCreate chan struct{} // when set, receives on each create
	release  chan struct{} // when set, each create waits for it
	// started is when the fake Alertmanager says it started; zero says it
	// cannot tell.
	started time.Time
}

func (f *fakeAM) StartedAt(context.Context) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started, nil
}

func (f *fakeAM) CreateSilence(ctx context.Context, s amclient.Silence) (string, error) {
	if f.inCreate != nil {
		f.inCreate <- struct{}{}
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.created = append(f.created, s)
	if s.ID != "" {
		return s.ID, nil
	}
	return fmt.Sprintf("silence-%d", len(f.created)), nil
}

func (f *fakeAM) ExpireSilence(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.expired = append(f.expired, id)
	return nil
}

func (f *fakeAM) ListAlerts(context.Context, labels.Matchers) ([]amclient.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.alerts, f.listErr
}

func (f *fakeAM) creates() []amclient.Silence {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]amclient.Silence(nil), f.created...)
}

// countingGroups wraps the store and counts calls, to prove that rejected
// requests touch nothing.
type countingGroups struct {
	Groups
	mu    sync.Mutex
	calls int
	err   error
}

func (c *countingGroups) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func (c *countingGroups) hit() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return c.err
}

func (c *countingGroups) Update(ctx context.Context, key alertgroup.Key, fn func(g *alertgroup.Group, found bool) error) (alertgroup.Group, error) {
	if err := c.hit(); err != nil {
		return alertgroup.Group{}, err
	}
	return c.Groups.Update(ctx, key, fn)
}

func (c *countingGroups) ByMessage(ctx context.Context, channel, ts string) (alertgroup.Group, bool, error) {
	if err := c.hit(); err != nil {
		return alertgroup.Group{}, false, err
	}
	return c.Groups.ByMessage(ctx, channel, ts)
}

func (c *countingGroups) List(ctx context.Context) ([]alertgroup.Group, error) {
	if err := c.hit(); err != nil {
		return nil, err
	}
	return c.Groups.List(ctx)
}

func openStore(t testing.TB) *boltstore.Store {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "amslack.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := boltstore.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func loadMessage(t testing.TB) *alertgroup.Message {
	t.Helper()
	b, err := os.ReadFile("testdata/v035-firing.json")
	if err != nil {
		t.Fatal(err)
	}
	var m alertgroup.Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// seedGroup stores the fixture's alert group as posted in testChannel at
// testTS.
func seedGroup(t testing.TB, st Groups, mutate func(g *alertgroup.Group)) alertgroup.Group {
	t.Helper()
	m := loadMessage(t)
	key := alertgroup.Key{Receiver: m.Receiver, GroupKey: m.GroupKey, Channel: testChannel}
	g, err := st.Update(context.Background(), key, func(g *alertgroup.Group, _ bool) error {
		g.Route = "default"
		g.TS = testTS
		g.Status = alertgroup.StatusFiring
		g.Message = m
		g.Alerts = map[string]string{}
		for _, a := range m.Alerts {
			g.Alerts[a.Fingerprint] = a.Status
		}
		g.FirstAt = time.Unix(1764425522, 0).UTC()
		g.UpdatedAt = g.FirstAt
		if mutate != nil {
			mutate(g)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func getGroup(t testing.TB, st Groups) alertgroup.Group {
	t.Helper()
	g, found, err := st.ByMessage(context.Background(), testChannel, testTS)
	if err != nil || !found {
		t.Fatalf("ByMessage() = found %v, err %v", found, err)
	}
	return g
}

// env is a Handler with fakes around it, running.
type env struct {
	h       *Handler
	groups  *countingGroups
	slack   *fakeSlack
	refresh *fakeRefresher
	sink    *sink
	audit   *lockedBuffer
	reg     *prometheus.Registry
	stop    func()
}

// newEnv builds a Handler from o, filling what o leaves empty with fakes,
// and runs it unless o.Workers is -1.
func newEnv(t testing.TB, o Options) *env {
	t.Helper()
	e := &env{
		groups:  &countingGroups{Groups: openStore(t)},
		slack:   &fakeSlack{members: map[string][]string{}},
		refresh: &fakeRefresher{},
		sink:    newSink(t),
		audit:   &lockedBuffer{},
		reg:     prometheus.NewRegistry(),
	}
	if o.SigningSecret == "" {
		o.SigningSecret = testSecret
	}
	if o.Groups == nil {
		o.Groups = e.groups
	}
	if o.Slack == nil {
		o.Slack = e.slack
	}
	o.Refresher = e.refresh
	o.Audit = e.audit
	o.Registerer = e.reg
	run := o.Workers != -1
	if !run {
		o.Workers = 1
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	e.stop = func() {}
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Run(ctx) }()
		var once sync.Once
		e.stop = func() {
			once.Do(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run() = %v", err)
				}
			})
		}
		t.Cleanup(e.stop)
	}
	return e
}

// clickSpec describes a block_actions payload built from the fixtures.
type clickSpec struct {
	user, name  string
	action      string
	value       string
	responseURL string
	ts          string
}

// payload returns the JSON of a block_actions payload: the button fixture,
// or the select fixture for the silence action, changed as spec says.
func payload(t testing.TB, spec clickSpec) []byte {
	t.Helper()
	fixture := "testdata/block-actions-button.json"
	if spec.action == "silence" {
		fixture = "testdata/block-actions-select.json"
	}
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if spec.user != "" {
		u := p["user"].(map[string]any)
		u["id"], u["name"], u["username"] = spec.user, spec.name, spec.name
	}
	if spec.responseURL != "" {
		p["response_url"] = spec.responseURL
	}
	if spec.ts != "" {
		p["container"].(map[string]any)["message_ts"] = spec.ts
		p["message"].(map[string]any)["ts"] = spec.ts
	}
	a := p["actions"].([]any)[0].(map[string]any)
	if spec.action != "" {
		a["action_id"] = spec.action
	}
	if spec.value != "" {
		if so, ok := a["selected_option"].(map[string]any); ok {
			so["value"] = spec.value
		} else {
			a["value"] = spec.value
		}
	}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// formBody wraps a payload as Slack posts it.
func formBody(payload []byte) []byte {
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}

// signedRequest returns a request signed now with testSecret.
func signedRequest(t testing.TB, body []byte) *http.Request {
	return signedRequestAt(t, body, time.Now(), testSecret)
}

func signedRequestAt(t testing.TB, body []byte, at time.Time, secret string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/slack/interactions", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts := strconv.FormatInt(at.Unix(), 10)
	r.Header.Set(HeaderSlackTimestamp, ts)
	r.Header.Set(HeaderSlackSignature, SlackSignature(secret, ts, body))
	return r
}

// post serves a signed click and checks the immediate empty 200.
func (e *env) post(t testing.TB, spec clickSpec) {
	t.Helper()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, signedRequest(t, formBody(payload(t, spec))))
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("ServeHTTP() = %d %q, want an empty 200", w.Code, w.Body.String())
	}
}

// dispatch parses and dispatches a click without HTTP.
func (e *env) dispatch(t testing.TB, spec clickSpec) {
	t.Helper()
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload(t, spec), &cb); err != nil {
		t.Fatal(err)
	}
	if r := e.h.Dispatch(t.Context(), cb); r != nil {
		t.Fatalf("Dispatch() = %+v, want nil", r)
	}
}

// counter returns the value of amslack_interactions_total for a series.
func (e *env) counter(t testing.TB, action, decision string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "amslack_interactions_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			ls := map[string]string{}
			for _, l := range m.GetLabel() {
				ls[l.GetName()] = l.GetValue()
			}
			if ls["action"] == action && ls["decision"] == decision {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series amslack_interactions_total{action=%q,decision=%q}", action, decision)
	return 0
}

// actionServer is an internal API in the manner of examples/actionserver:
// it verifies signatures, remembers idempotency keys and counts runs.
type actionServer struct {
	srv    *httptest.Server
	secret []byte
	mu     sync.Mutex
	calls  []actionCall
	runs   map[string]int
	status []int // answers to give, in order; 200 when used up
}

type actionCall struct {
	header http.Header
	body   []byte
	err    error
}

func newActionServer(t testing.TB, secret string) *actionServer {
	a := &actionServer{secret: []byte(secret), runs: map[string]int{}}
	a.srv = httptest.NewServer(a)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *actionServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	err := verifyCall(a.secret, r.Header, body)
	a.mu.Lock()
	a.calls = append(a.calls, actionCall{header: r.Header.Clone(), body: body, err: err})
	status := http.StatusOK
	if len(a.status) > 0 {
		status, a.status = a.status[0], a.status[1:]
	}
	if err == nil && status == http.StatusOK {
		a.runs[r.Header.Get("Idempotency-Key")]++
	}
	a.mu.Unlock()
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusUnauthorized)
	case status != http.StatusOK:
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"ok":false,"detail":"status %d"}`, status)
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true,"detail":"restart scheduled"}`)
	}
}

func (a *actionServer) snapshot() ([]actionCall, map[string]int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	runs := map[string]int{}
	for k, v := range a.runs {
		runs[k] = v
	}
	return append([]actionCall(nil), a.calls...), runs
}

var errBadCall = errors.New("idempotency key missing or different from the body's")

// verifyCall checks a runbook call as an internal API must.
func verifyCall(secret []byte, h http.Header, body []byte) error {
	if err := runbook.Verify(secret, h, body, time.Now(), runbook.DefaultWindow); err != nil {
		return err
	}
	var req runbook.Request
	if err := json.Unmarshal(body, &req); err != nil {
		return err
	}
	if k := h.Get(runbook.HeaderIdempotencyKey); k == "" || k != req.IdempotencyKey {
		return errBadCall
	}
	return nil
}
