package interact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/interact/runbook"
	"github.com/amslack/amslack/receiver/alertgroup"
)

// TestServeHTTPRejects checks that requests failing verification or
// parsing are answered with the right status and touch nothing.
func TestServeHTTPRejects(t *testing.T) {
	good := formBody(payload(t, clickSpec{action: "ack"}))
	now := time.Now()
	withHeaders := func(body []byte, set func(h http.Header)) func(t testing.TB) *http.Request {
		return func(t testing.TB) *http.Request {
			r := signedRequest(t, body)
			set(r.Header)
			return r
		}
	}
	tests := []struct {
		name string
		req  func(t testing.TB) *http.Request
		want int
	}{
		{"bad signature", withHeaders(good, func(h http.Header) {
			h.Set(HeaderSlackSignature, SlackSignature("wrong-secret", h.Get(HeaderSlackTimestamp), good))
		}), http.StatusUnauthorized},
		{"missing signature", withHeaders(good, func(h http.Header) { h.Del(HeaderSlackSignature) }), http.StatusUnauthorized},
		{"missing timestamp", withHeaders(good, func(h http.Header) { h.Del(HeaderSlackTimestamp) }), http.StatusUnauthorized},
		{"stale timestamp", func(t testing.TB) *http.Request {
			return signedRequestAt(t, good, now.Add(-6*time.Minute), testSecret)
		}, http.StatusUnauthorized},
		{"future timestamp", func(t testing.TB) *http.Request {
			return signedRequestAt(t, good, now.Add(6*time.Minute), testSecret)
		}, http.StatusUnauthorized},
		{"body changed after signing", func(t testing.TB) *http.Request {
			r := signedRequest(t, good)
			r.Body = http.NoBody
			return signedRequestWithHeaders(r, bytes.Replace(good, []byte("U0001ALICE"), []byte("U0009EVE"), 1))
		}, http.StatusUnauthorized},
		{"oversize", func(t testing.TB) *http.Request {
			return signedRequest(t, append(good, bytes.Repeat([]byte("x"), 2048)...))
		}, http.StatusRequestEntityTooLarge},
		{"malformed form", func(t testing.TB) *http.Request {
			return signedRequest(t, []byte("payload=%zz"))
		}, http.StatusBadRequest},
		{"no payload", func(t testing.TB) *http.Request {
			return signedRequest(t, []byte("token=x"))
		}, http.StatusBadRequest},
		{"malformed JSON", func(t testing.TB) *http.Request {
			return signedRequest(t, formBody([]byte(`{"type":"block_actions",`)))
		}, http.StatusBadRequest},
		{"GET", func(t testing.TB) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/slack/interactions", nil)
		}, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{MaxBodyBytes: int64(len(good) + 1024), Workers: -1})
			seedGroup(t, e.groups.Groups, nil)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, tt.req(t))
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
			if n := e.groups.count(); n != 0 {
				t.Errorf("store called %d times", n)
			}
			if got := e.audit.entries(t); len(got) != 0 {
				t.Errorf("audit lines written: %+v", got)
			}
			if n := len(e.h.queue); n != 0 {
				t.Errorf("%d jobs queued", n)
			}
		})
	}
}

// signedRequestWithHeaders returns r with body in place of its own,
// keeping r's signature headers.
func signedRequestWithHeaders(r *http.Request, body []byte) *http.Request {
	r2 := httptest.NewRequest(http.MethodPost, "/slack/interactions", bytes.NewReader(body))
	r2.Header = r.Header.Clone()
	return r2
}

func TestParsePayloadFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    []click
	}{
		{"testdata/block-actions-button.json", []click{{
			team: testTeam, teamDomain: "example", channel: testChannel, ts: testTS,
			user: alertgroup.User{ID: "U0001ALICE", Name: "alice"}, action: "ack", value: "REF",
			triggerID:   "1111111111.2222222222.abcdef0123456789abcdef0123456789",
			responseURL: "https://hooks.slack.com/actions/T0001TEAM/0000000001/RESPONSEURLTOKEN",
		}}},
		{"testdata/block-actions-select.json", []click{{
			team: testTeam, teamDomain: "example", channel: testChannel, ts: testTS,
			user: alertgroup.User{ID: "U0002BOB", Name: "bob"}, action: "silence", value: "4h",
			triggerID:   "1111111112.2222222222.abcdef0123456789abcdef0123456789",
			responseURL: "https://hooks.slack.com/actions/T0001TEAM/0000000002/RESPONSEURLTOKEN",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			b, err := os.ReadFile(tt.fixture)
			if err != nil {
				t.Fatal(err)
			}
			cb, err := ParsePayload(formBody(b))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(clicksFrom(cb), tt.want, cmp.AllowUnexported(click{})); diff != "" {
				t.Errorf("clicks (-got +want):\n%s", diff)
			}
		})
	}
}

func FuzzParsePayload(f *testing.F) {
	for _, name := range []string{"block-actions-button.json", "block-actions-select.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(formBody(b))
	}
	f.Add([]byte("payload=%7B%22type%22%3A%22view_submission%22%7D"))
	f.Add([]byte("payload=%zz"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := ParsePayload(body)
		if err != nil {
			return
		}
		for _, c := range clicksFrom(cb) {
			_ = c.dedupKey()
		}
		if cb.Type == slack.InteractionTypeViewSubmission {
			submissionClick(cb)
		}
	})
}

// TestConcurrentIdenticalClicks sends 100 identical clicks at once: one
// silence and one internal call result, the rest are audited duplicates.
func TestConcurrentIdenticalClicks(t *testing.T) {
	as := newActionServer(t, "action-secret")
	tests := []struct {
		name   string
		spec   clickSpec
		action Action
		kind   string
	}{
		{name: "silence", spec: clickSpec{action: "silence", value: "1h"}, kind: kindSilence},
		{name: "runbook", spec: clickSpec{action: "approve_restart", user: "U0001ALICE", name: "alice"}, kind: kindRunbook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			am := &fakeAM{}
			e := newEnv(t, Options{Silences: am, Actions: []Action{{
				ID: "approve_restart", Label: "Approve restart", URL: as.srv.URL,
				Allow: Rule{Users: []string{"U0001ALICE"}}, Secret: "action-secret",
			}}})
			seedGroup(t, e.groups.Groups, nil)
			tt.spec.responseURL = e.sink.url(tt.name)
			body := formBody(payload(t, tt.spec))
			var wg sync.WaitGroup
			for range 100 {
				wg.Go(func() {
					w := httptest.NewRecorder()
					e.h.ServeHTTP(w, signedRequest(t, body))
					if w.Code != http.StatusOK {
						t.Errorf("status = %d, want 200", w.Code)
					}
				})
			}
			wg.Wait()
			if got := e.counter(t, tt.kind, DecisionDuplicate); got != 99 {
				t.Errorf("duplicates counted = %v, want 99", got)
			}
			text := e.sink.next(t)
			e.stop()
			e.sink.none(t)
			switch tt.kind {
			case kindSilence:
				if n := len(am.creates()); n != 1 {
					t.Errorf("silences created = %d, want 1", n)
				}
				if !strings.HasPrefix(text, "Silenced for 1h") {
					t.Errorf("reply = %q", text)
				}
			case kindRunbook:
				calls, runs := as.snapshot()
				if len(calls) != 1 || len(runs) != 1 {
					t.Errorf("internal calls = %d (runs %v), want 1", len(calls), runs)
				}
				if diff := cmp.Diff(text, "Approve restart: restart scheduled"); diff != "" {
					t.Errorf("reply (-got +want):\n%s", diff)
				}
			}
			got := map[string]int{}
			for _, d := range e.audit.decisions(t) {
				got[d]++
			}
			want := map[string]int{DecisionDuplicate: 99, DecisionAllowed: 1, DecisionSucceeded: 1}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("audit decisions (-got +want):\n%s", diff)
			}
		})
	}
}

func TestAuthorization(t *testing.T) {
	rule := func(users, groups []string, matchers ...string) Rule {
		return Rule{Users: users, UserGroups: groups, Matchers: matchers}
	}
	tests := []struct {
		name      string
		silence   Rule
		members   map[string][]string
		membersEr error
		user      string
		want      string // decision
		wantReply string
	}{
		{name: "open rule", user: "U0002BOB", want: DecisionSucceeded, wantReply: "Silenced for 4h"},
		{name: "listed user", silence: rule([]string{"U0002BOB"}, nil), user: "U0002BOB", want: DecisionSucceeded, wantReply: "Silenced for 4h"},
		{name: "unlisted user", silence: rule([]string{"U0001ALICE"}, nil), user: "U0002BOB", want: DecisionDenied, wantReply: reasonNotAllowed},
		{name: "user group member", silence: rule(nil, []string{"S0001ONCALL"}), members: map[string][]string{"S0001ONCALL": {"U0002BOB"}}, user: "U0002BOB", want: DecisionSucceeded, wantReply: "Silenced for 4h"},
		{name: "not a member", silence: rule(nil, []string{"S0001ONCALL"}), members: map[string][]string{"S0001ONCALL": {"U0001ALICE"}}, user: "U0002BOB", want: DecisionDenied, wantReply: reasonNotAllowed},
		{name: "user groups unavailable", silence: rule(nil, []string{"S0001ONCALL"}), membersEr: errors.New("ratelimited"), user: "U0002BOB", want: DecisionFailed, wantReply: "amslack could not check whether you may do this"},
		{name: "matchers fit", silence: rule(nil, nil, `cluster="prod"`), user: "U0002BOB", want: DecisionSucceeded, wantReply: "Silenced for 4h"},
		{name: "matchers do not fit", silence: rule([]string{"U0002BOB"}, nil, `cluster=~"staging|dev"`), user: "U0002BOB", want: DecisionDenied, wantReply: reasonNotApplicable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fakeSlack{members: tt.members, membersErr: tt.membersEr}
			am := &fakeAM{}
			e := newEnv(t, Options{Silences: am, Silence: tt.silence, Slack: fs})
			seedGroup(t, e.groups.Groups, nil)
			e.post(t, clickSpec{action: "silence", user: tt.user, name: "bob", responseURL: e.sink.url("x")})
			if got := e.sink.next(t); !strings.HasPrefix(got, tt.wantReply) {
				t.Errorf("reply = %q, want it to start with %q", got, tt.wantReply)
			}
			entries := e.audit.entries(t)
			last := entries[len(entries)-1]
			if last.Decision != tt.want || last.UserID != tt.user || last.Action != "silence" || last.Value != "4h" || last.Channel != testChannel || last.MessageTS != testTS || last.Team != testTeam {
				t.Errorf("last audit line = %+v, want decision %s by %s", last, tt.want, tt.user)
			}
			if tt.want == DecisionDenied {
				if len(am.creates()) != 0 {
					t.Error("a denied click created a silence")
				}
				if last.Result != tt.wantReply {
					t.Errorf("audit result = %q, want the reason", last.Result)
				}
			}
			if got := e.counter(t, kindSilence, tt.want); got != 1 {
				t.Errorf("amslack_interactions_total{decision=%q} = %v, want 1", tt.want, got)
			}
		})
	}
}

// TestUserGroupCache checks that members are read once per TTL, on the
// injected clock.
func TestUserGroupCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	fs := &fakeSlack{members: map[string][]string{"S0001ONCALL": {"U0002BOB"}}}
	e := newEnv(t, Options{Slack: fs, Silence: Rule{UserGroups: []string{"S0001ONCALL"}}, Now: clock, Workers: -1})
	r := e.h.rule("silence")
	check := func(wantCalls int) {
		t.Helper()
		reason, err := e.h.authorize(t.Context(), r, "U0002BOB", nil)
		if err != nil || reason != "" {
			t.Fatalf("authorize() = %q, %v; want allowed", reason, err)
		}
		if got := fs.calls(); got != wantCalls {
			t.Errorf("usergroups.users.list calls = %d, want %d", got, wantCalls)
		}
	}
	check(1)
	now = now.Add(DefaultUserGroupTTL - time.Second)
	check(1)
	now = now.Add(time.Second)
	check(2)
}

// TestDedupTTL checks that the same click is a duplicate within the TTL
// and a new click after it.
func TestDedupTTL(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	e := newEnv(t, Options{Now: func() time.Time { return now }, Workers: -1, Queue: 10})
	spec := clickSpec{action: "ack"}
	e.dispatch(t, spec)
	now = now.Add(DefaultDedupTTL - time.Second)
	e.dispatch(t, spec)
	e.dispatch(t, clickSpec{action: "ack", user: "U0002BOB", name: "bob"})
	now = now.Add(time.Second)
	e.dispatch(t, spec)
	if diff := cmp.Diff(e.audit.decisions(t), []string{DecisionDuplicate}); diff != "" {
		t.Errorf("audit decisions (-got +want):\n%s", diff)
	}
	if got := len(e.h.queue); got != 3 {
		t.Errorf("queued = %d, want 3", got)
	}
}

func TestRunbookApprovals(t *testing.T) {
	as := newActionServer(t, "action-secret")
	e := newEnv(t, Options{Actions: []Action{{
		ID: "approve_restart", Label: "Approve restart", URL: as.srv.URL + "/restart",
		Allow: Rule{Users: []string{"U0001ALICE", "U0002BOB"}}, Approvals: 2, SecretFile: writeSecret(t, "action-secret\n"),
	}}})
	seedGroup(t, e.groups.Groups, nil)
	alice := clickSpec{action: "approve_restart", user: "U0001ALICE", name: "alice", responseURL: e.sink.url("a1")}
	bob := clickSpec{action: "approve_restart", user: "U0002BOB", name: "bob", responseURL: e.sink.url("b1")}
	mallory := clickSpec{action: "approve_restart", user: "U0003MAL", name: "mallory", responseURL: e.sink.url("m1")}

	e.post(t, alice)
	if diff := cmp.Diff(e.sink.next(t), "Approval of Approve restart recorded (1 of 2); waiting for 1 more."); diff != "" {
		t.Errorf("first approval reply (-got +want):\n%s", diff)
	}
	// The same person again, after the de-duplication TTL: not a second
	// approval.
	e.h.forget(mustClick(t, alice))
	e.post(t, alice)
	if diff := cmp.Diff(e.sink.next(t), "You already approved Approve restart (1 of 2); waiting for 1 more."); diff != "" {
		t.Errorf("repeated approval reply (-got +want):\n%s", diff)
	}
	e.post(t, mallory)
	if got := e.sink.next(t); got != reasonNotAllowed {
		t.Errorf("unlisted user reply = %q", got)
	}
	if calls, _ := as.snapshot(); len(calls) != 0 {
		t.Fatalf("internal API called %d times before the second approval", len(calls))
	}
	if diff := cmp.Diff(getGroup(t, e.groups).State.Approvals, map[string][]alertgroup.User{"approve_restart": {{ID: "U0001ALICE", Name: "alice"}}}); diff != "" {
		t.Errorf("stored approvals (-got +want):\n%s", diff)
	}

	e.post(t, bob)
	if diff := cmp.Diff(e.sink.next(t), "Approve restart: restart scheduled"); diff != "" {
		t.Errorf("completing approval reply (-got +want):\n%s", diff)
	}
	calls, runs := as.snapshot()
	if len(calls) != 1 {
		t.Fatalf("internal API calls = %d, want 1", len(calls))
	}
	c := calls[0]
	if c.err != nil {
		t.Errorf("call failed verification: %v", c.err)
	}
	wantKey := runbook.IdempotencyKey(testTeam, testChannel, testTS, "approve_restart", 1)
	if diff := cmp.Diff(runs, map[string]int{wantKey: 1}); diff != "" {
		t.Errorf("runs by key (-got +want):\n%s", diff)
	}
	var req runbook.Request
	if err := json.Unmarshal(c.body, &req); err != nil {
		t.Fatal(err)
	}
	m := loadMessage(t)
	want := runbook.Request{
		Action: "approve_restart", IdempotencyKey: wantKey, GroupKey: m.GroupKey, Receiver: "sink",
		Channel: testChannel, MessageTS: testTS, Team: testTeam,
		User:      runbook.User{ID: "U0002BOB", Name: "bob"},
		Approvers: []runbook.User{{ID: "U0001ALICE", Name: "alice"}, {ID: "U0002BOB", Name: "bob"}},
		Labels:    map[string]string{"alertname": "DiskFull", "cluster": "prod"},
		Alerts: []runbook.Alert{
			{Labels: m.Alerts[0].Labels, Status: "firing", Fingerprint: "153de500f4e8a1e4"},
			{Labels: m.Alerts[1].Labels, Status: "firing", Fingerprint: "211c19acb3be2082"},
		},
	}
	if diff := cmp.Diff(req, want); diff != "" {
		t.Errorf("request body (-got +want):\n%s", diff)
	}
	g := getGroup(t, e.groups)
	if len(g.State.Approvals["approve_restart"]) != 0 {
		t.Errorf("approvals not cleared: %v", g.State.Approvals)
	}
	if len(g.State.Results) != 1 || !g.State.Results[0].OK || g.State.Results[0].Detail != "restart scheduled" || g.State.Results[0].By.ID != "U0002BOB" {
		t.Errorf("results = %+v", g.State.Results)
	}
	entries := e.audit.entries(t)
	if last := entries[len(entries)-1]; last.Decision != DecisionSucceeded || last.IdempotencyKey != wantKey {
		t.Errorf("last audit line = %+v", last)
	}

	// A second round, after the de-duplication TTL, gets a new key.
	e.h.forget(mustClick(t, bob))
	e.post(t, bob)
	e.sink.next(t)
	e.h.forget(mustClick(t, alice))
	e.post(t, alice)
	e.sink.next(t)
	_, runs = as.snapshot()
	if len(runs) != 2 || runs[runbook.IdempotencyKey(testTeam, testChannel, testTS, "approve_restart", 2)] != 1 {
		t.Errorf("second round runs = %v", runs)
	}
}

func mustClick(t testing.TB, spec clickSpec) click {
	t.Helper()
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload(t, spec), &cb); err != nil {
		t.Fatal(err)
	}
	return clicksFrom(cb)[0]
}

func writeSecret(t testing.TB, s string) string {
	t.Helper()
	p := t.TempDir() + "/secret"
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunbookFailures(t *testing.T) {
	tests := []struct {
		name      string
		status    []int
		wantCalls int
		wantReply string
		wantOK    bool
	}{
		{"5xx then success", []int{503, 502}, 3, "Approve restart: restart scheduled", true},
		{"5xx three times", []int{500, 500, 500}, 3, "Approve restart failed: call approve_restart (attempt 3 of 3): internal API answered 500 (status 500).", false},
		{"4xx not retried", []int{409}, 1, "Approve restart failed: call approve_restart (attempt 1 of 3): internal API answered 409 (status 409): not retried.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newActionServer(t, "s")
			as.status = tt.status
			e := newEnv(t, Options{Actions: []Action{{
				ID: "approve_restart", Label: "Approve restart", URL: as.srv.URL,
				Allow: Rule{Users: []string{"U0001ALICE"}}, Secret: "s",
			}}})
			// TestCallerBackoff pins the backoff on a fake clock; here it
			// would only make the test slow. Set before the first click
			// reaches a worker.
			e.h.caller.backoff = time.Millisecond
			seedGroup(t, e.groups.Groups, nil)
			e.post(t, clickSpec{action: "approve_restart", user: "U0001ALICE", name: "alice", responseURL: e.sink.url("x")})
			if diff := cmp.Diff(e.sink.next(t), tt.wantReply); diff != "" {
				t.Errorf("reply (-got +want):\n%s", diff)
			}
			calls, _ := as.snapshot()
			if len(calls) != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", len(calls), tt.wantCalls)
			}
			key := calls[0].header.Get(runbook.HeaderIdempotencyKey)
			for i, c := range calls {
				if c.err != nil {
					t.Errorf("call %d not verifiable: %v", i, c.err)
				}
				if got := c.header.Get(runbook.HeaderIdempotencyKey); got != key {
					t.Errorf("call %d key %q, want the first call's %q", i, got, key)
				}
			}
			res := getGroup(t, e.groups).State.Results
			if len(res) != 1 || res[0].OK != tt.wantOK {
				t.Errorf("results = %+v, want one with OK %v", res, tt.wantOK)
			}
		})
	}
}

// TestFailuresTellClicker checks that what cannot be done is said to the
// clicker, audited as failed, and not retried.
func TestFailuresTellClicker(t *testing.T) {
	deadAM := httptest.NewServer(http.NotFoundHandler())
	deadAM.Close()
	unreachable, err := amclient.New(deadAM.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		opts      Options
		seed      bool
		storeErr  error
		spec      clickSpec
		wantReply string
		kind      string
	}{
		{name: "unknown action", seed: true, spec: clickSpec{action: "reboot_everything"}, kind: kindUnknown,
			wantReply: `amslack does not know the action "reboot_everything"`},
		{name: "message not tracked", seed: false, spec: clickSpec{action: "ack"}, kind: kindAck,
			wantReply: "amslack no longer tracks this message"},
		{name: "store failing", seed: true, storeErr: errors.New("disk on fire"), spec: clickSpec{action: "ack"}, kind: kindAck,
			wantReply: "amslack could not read the state of this alert group"},
		{name: "alertmanager unreachable", seed: true, opts: Options{Silences: unreachable}, spec: clickSpec{action: "silence", value: "2h"}, kind: kindSilence,
			wantReply: "Alertmanager did not create the silence"},
		{name: "no alertmanager", seed: true, spec: clickSpec{action: "ack"}, kind: kindAck,
			wantReply: "No Alertmanager is configured"},
		{name: "bad duration", seed: true, opts: Options{Silences: &fakeAM{}}, spec: clickSpec{action: "silence", value: "forever"}, kind: kindSilence,
			wantReply: `"forever" is not a duration`},
		{name: "too long", seed: true, opts: Options{Silences: &fakeAM{}}, spec: clickSpec{action: "silence", value: "31d"}, kind: kindSilence,
			wantReply: `"31d" is out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts)
			if tt.seed {
				seedGroup(t, e.groups.Groups, nil)
			}
			e.groups.err = tt.storeErr
			tt.spec.responseURL = e.sink.url("x")
			e.post(t, tt.spec)
			if got := e.sink.next(t); !strings.HasPrefix(got, tt.wantReply) {
				t.Errorf("reply = %q, want it to start with %q", got, tt.wantReply)
			}
			e.stop()
			e.sink.none(t)
			ds := e.audit.decisions(t)
			if len(ds) == 0 || ds[len(ds)-1] != DecisionFailed {
				t.Errorf("audit decisions = %v, want the last failed", ds)
			}
			if got := e.counter(t, tt.kind, DecisionFailed); got != 1 {
				t.Errorf("failed count = %v, want 1", got)
			}
		})
	}
}

func TestResponseURLLimit(t *testing.T) {
	e := newEnv(t, Options{Workers: -1})
	u := e.sink.url("once")
	for i := range 7 {
		e.h.respond(t.Context(), u, "reply "+strconv.Itoa(i))
	}
	for i := range responseURLUses {
		if diff := cmp.Diff(e.sink.next(t), "reply "+strconv.Itoa(i)); diff != "" {
			t.Errorf("reply %d (-got +want):\n%s", i, diff)
		}
	}
	e.sink.none(t)
	e.h.respond(t.Context(), e.sink.url("other"), "fresh")
	if got := e.sink.next(t); got != "fresh" {
		t.Errorf("another response_url: %q", got)
	}
}

func TestOverloaded(t *testing.T) {
	am := &fakeAM{inCreate: make(chan struct{}, 10), release: make(chan struct{})}
	e := newEnv(t, Options{Silences: am, Workers: 1, Queue: 1})
	seedGroup(t, e.groups.Groups, nil)
	click := func(user string) clickSpec {
		return clickSpec{action: "silence", value: "1h", user: user, name: user, responseURL: e.sink.url(user)}
	}
	e.post(t, click("U1"))
	<-am.inCreate // the worker is busy with U1
	e.post(t, click("U2"))
	e.post(t, click("U3")) // queue full
	if got := e.sink.next(t); got != "amslack is overloaded, try again in a moment." {
		t.Errorf("overload reply = %q", got)
	}
	if got := e.counter(t, kindSilence, DecisionOverloaded); got != 1 {
		t.Errorf("overloaded count = %v, want 1", got)
	}
	close(am.release)
	for range 2 {
		if got := e.sink.next(t); !strings.HasPrefix(got, "Silenced for 1h") {
			t.Errorf("reply = %q", got)
		}
	}
	// The overloaded click is not remembered as done: trying again works.
	e.post(t, click("U3"))
	if got := e.sink.next(t); !strings.HasPrefix(got, "Silenced for 1h") {
		t.Errorf("retry reply = %q", got)
	}
}

// TestCustomSilenceDialog checks that the Custom silence… button opens the
// silence preview, and that the custom silence dialog that it opened
// before still takes its submissions, since such dialogs may be open
// across an upgrade.
func TestCustomSilenceDialog(t *testing.T) {
	am := &fakeAM{}
	e := newEnv(t, Options{Silences: am, MessageLink: func(ch, ts string) string { return "https://example.slack.com/archives/" + ch + "/p" + ts }})
	seedGroup(t, e.groups.Groups, nil)
	ru := e.sink.url("custom")
	e.post(t, clickSpec{action: ActionSilenceCustom, value: CustomSilence, responseURL: ru})
	// Opening the dialog tells the clicker nothing; wait for the audit.
	waitFor(t, func() bool { return len(e.audit.entries(t)) == 2 })
	e.slack.mu.Lock()
	views, triggers := e.slack.views, e.slack.triggers
	e.slack.mu.Unlock()
	// The button's click carries the button fixture's trigger_id.
	if len(views) != 1 || triggers[0] != "1111111111.2222222222.abcdef0123456789abcdef0123456789" {
		t.Fatalf("views.open calls: %d with triggers %v", len(views), triggers)
	}
	if view := views[0]; view.CallbackID != previewViewID || !slack.ValidateUniqueBlockID(view) {
		t.Errorf("view = %+v", view)
	}
	view, err := silenceView(click{team: testTeam, teamDomain: "example", channel: testChannel, ts: testTS, responseURL: ru})
	if err != nil {
		t.Fatal(err)
	}

	submit := func(duration, comment string) *http.Response {
		cb := map[string]any{
			"type": "view_submission",
			"team": map[string]any{"id": testTeam, "domain": "example"},
			"user": map[string]any{"id": "U0002BOB", "name": "bob", "team_id": testTeam},
			"view": map[string]any{
				"id": "V0001", "callback_id": silenceViewID, "private_metadata": view.PrivateMetadata,
				"state": map[string]any{"values": map[string]any{
					durationBlockID: map[string]any{durationBlockID: map[string]any{"type": "plain_text_input", "value": duration}},
					commentBlockID:  map[string]any{commentBlockID: map[string]any{"type": "plain_text_input", "value": comment}},
				}},
			},
		}
		b, err := json.Marshal(cb)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, signedRequest(t, formBody(b)))
		return w.Result()
	}

	resp := submit("eventually", "")
	var errs slack.ViewSubmissionResponse
	if err := json.NewDecoder(resp.Body).Decode(&errs); err != nil {
		t.Fatalf("decode errors answer: %v", err)
	}
	want := slack.ViewSubmissionResponse{ResponseAction: slack.RAErrors, Errors: map[string]string{
		durationBlockID: `"eventually" is not a duration; use forms such as 45m, 4h or 2d`,
	}}
	if resp.StatusCode != http.StatusOK || !cmp.Equal(errs, want) {
		t.Errorf("bad duration answer = %d %+v, want %+v", resp.StatusCode, errs, want)
	}
	if n := len(am.creates()); n != 0 {
		t.Errorf("silences created after a bad duration: %d", n)
	}

	resp = submit("90m", "disk cleanup running")
	if resp.StatusCode != http.StatusOK || resp.ContentLength > 0 {
		t.Errorf("good submission answer = %d, length %d; want an empty 200", resp.StatusCode, resp.ContentLength)
	}
	if got := e.sink.next(t); !strings.HasPrefix(got, "Silenced for 1h30m") {
		t.Errorf("reply = %q", got)
	}
	cs := am.creates()
	if len(cs) != 1 {
		t.Fatalf("silences created = %d, want 1", len(cs))
	}
	if got, want := cs[0].Comment, "Silenced from Slack: https://example.slack.com/archives/C0001ALERTS/p"+testTS+"\ndisk cleanup running"; got != want {
		t.Errorf("comment = %q, want %q", got, want)
	}
	if got := cs[0].EndsAt.Sub(cs[0].StartsAt); got != 90*time.Minute {
		t.Errorf("duration = %v, want 90m", got)
	}
}

// waitFor polls cond until it holds, for effects that leave no message to
// wait on.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAckState covers AckModeState, which needs no Alertmanager.
func TestAckState(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	e := newEnv(t, Options{AckMode: AckModeState, Now: func() time.Time { return now }})
	seedGroup(t, e.groups.Groups, nil)
	e.post(t, clickSpec{action: "ack", responseURL: e.sink.url("1")})
	if got := e.sink.next(t); got != "Acknowledged." {
		t.Errorf("reply = %q", got)
	}
	if diff := cmp.Diff(getGroup(t, e.groups).State.Acked, &alertgroup.Mark{By: alertgroup.User{ID: "U0001ALICE", Name: "alice"}, At: now}); diff != "" {
		t.Errorf("acked (-got +want):\n%s", diff)
	}
	e.post(t, clickSpec{action: "ack", user: "U0002BOB", name: "bob", responseURL: e.sink.url("2")})
	if got := e.sink.next(t); got != "Already acknowledged by alice." {
		t.Errorf("second ack reply = %q", got)
	}
	e.post(t, clickSpec{action: "unack", responseURL: e.sink.url("3")})
	if got := e.sink.next(t); got != "Acknowledgement removed." {
		t.Errorf("unack reply = %q", got)
	}
	if a := getGroup(t, e.groups).State.Acked; a != nil {
		t.Errorf("still acked: %+v", a)
	}
	if got := e.refresh.count(); got != 2 {
		t.Errorf("refreshes = %d, want 2", got)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	st := openStore(t)
	tests := []struct {
		name string
		o    Options
	}{
		{"no secret", Options{Groups: st}},
		{"no store", Options{SigningSecret: "s"}},
		{"bad ack mode", Options{SigningSecret: "s", Groups: st, AckMode: "maybe"}},
		{"bad silence matchers", Options{SigningSecret: "s", Groups: st, SilenceMatchers: "all"}},
		{"usergroups without slack", Options{SigningSecret: "s", Groups: st, Ack: Rule{UserGroups: []string{"S1"}}}},
		{"duplicate actions", Options{SigningSecret: "s", Groups: st, Actions: []Action{
			{ID: "a", Label: "A", URL: "http://x", Allow: Rule{Users: []string{"U1"}}, Secret: "s"},
			{ID: "a", Label: "A", URL: "http://x", Allow: Rule{Users: []string{"U1"}}, Secret: "s"},
		}}},
		{"bad matcher", Options{SigningSecret: "s", Groups: st, Silence: Rule{Matchers: []string{"a=~("}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.o); err == nil {
				t.Error("New() succeeded, want an error")
			}
		})
	}
}

func TestReconcileWithFakeAlertmanager(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	// Alertmanager has been up longer than the resolve timeout, so an empty
	// alert list below proves resolution.
	am := &fakeAM{alerts: []amclient.Alert{{Fingerprint: "153de500f4e8a1e4"}}, started: now.Add(-time.Hour)}
	e := newEnv(t, Options{Silences: am, Now: func() time.Time { return now }, Workers: -1})
	seedGroup(t, e.groups.Groups, func(g *alertgroup.Group) {
		g.State.Acked = &alertgroup.Mark{By: alertgroup.User{ID: "U1", Name: "alice"}, At: now.Add(-14 * time.Minute), Until: now.Add(time.Minute), SilenceID: "ack-1"}
	})
	// Firing, ack ending within two intervals: extended.
	if err := e.h.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	cs := am.creates()
	if len(cs) != 1 || cs[0].ID != "ack-1" || !cs[0].EndsAt.Equal(now.Add(DefaultAckDuration)) || !strings.HasPrefix(cs[0].Comment, "ACK! ") {
		t.Fatalf("extension = %+v", cs)
	}
	if got := getGroup(t, e.groups).State.Acked.Until; !got.Equal(now.Add(DefaultAckDuration)) {
		t.Errorf("ack until = %v", got)
	}
	// Not due again.
	if err := e.h.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(am.creates()); n != 1 {
		t.Errorf("extended again too early: %d creates", n)
	}
	// Alerts gone: resolved.
	am.mu.Lock()
	am.alerts = nil
	am.mu.Unlock()
	if err := e.h.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	g := getGroup(t, e.groups)
	if g.Status != alertgroup.StatusResolved || !g.ResolvedAt.Equal(now) || g.Message.Status != alertgroup.StatusResolved {
		t.Errorf("group = status %s resolved at %v (message %s)", g.Status, g.ResolvedAt, g.Message.Status)
	}
	if diff := cmp.Diff(g.Alerts, map[string]string{"153de500f4e8a1e4": "resolved", "211c19acb3be2082": "resolved"}); diff != "" {
		t.Errorf("alerts (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(am.expired, []string{"ack-1"}); diff != "" {
		t.Errorf("expired (-got +want):\n%s", diff)
	}
	if got := e.refresh.count(); got != 2 {
		t.Errorf("refreshes = %d, want 2", got)
	}
}

// BenchmarkInteraction measures the time from a signed click's arrival to
// its 200: verification, parsing, de-duplication and queueing. Each click
// comes from a different user so that none is a duplicate; the workers
// drain the queue meanwhile. p50 and p99 cover ServeHTTP alone; ns/op also
// includes building and signing the request.
func BenchmarkInteraction(b *testing.B) {
	e := newEnv(b, Options{Queue: 1 << 16})
	tmpl := payload(b, clickSpec{action: "ack", user: "U000000000", name: "bench"})
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := formBody(bytes.Replace(tmpl, []byte("U000000000"), fmt.Appendf(nil, "U%09d", i), 1))
		r := signedRequest(b, body)
		w := httptest.NewRecorder()
		start := time.Now()
		e.h.ServeHTTP(w, r)
		lat = append(lat, time.Since(start))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// TestSecretsStayOut drives failures that log and audit, and checks that
// neither the signing secret, an action's secret or URL token, nor a
// response_url appears in logs, audit lines, replies or metrics.
func TestSecretsStayOut(t *testing.T) {
	var logs lockedBuffer
	as := newActionServer(t, "action-secret-value")
	as.status = []int{500, 500, 500}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	e := newEnv(t, Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Actions: []Action{{
			ID: "approve_restart", Label: "Approve restart", URL: as.srv.URL + "/restart?token=url-token-value",
			Allow: Rule{Users: []string{"U0001ALICE"}}, Secret: "action-secret-value",
		}},
	})
	e.h.caller.backoff = time.Millisecond
	seedGroup(t, e.groups.Groups, nil)

	// A forged request.
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, signedRequestAt(t, formBody(payload(t, clickSpec{action: "ack"})), time.Now(), "forged"))
	// A failing runbook call, answered through a working response_url.
	e.post(t, clickSpec{action: "approve_restart", user: "U0001ALICE", name: "alice", responseURL: e.sink.url("response-token-a")})
	reply := e.sink.next(t)
	// A reply to a response_url that cannot be reached.
	e.h.respond(t.Context(), dead.URL+"/actions/response-token-b", "hello")

	var metrics bytes.Buffer
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		fmt.Fprintln(&metrics, mf.String())
	}
	e.stop()
	e.audit.mu.Lock()
	audit := e.audit.buf.String()
	e.audit.mu.Unlock()
	logs.mu.Lock()
	logText := logs.buf.String()
	logs.mu.Unlock()
	for name, text := range map[string]string{"logs": logText, "audit": audit, "reply": reply, "metrics": metrics.String()} {
		for _, secret := range []string{testSecret, "action-secret-value", "url-token-value", "response-token-a", "response-token-b"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contain %q:\n%s", name, secret, text)
			}
		}
	}
	if !strings.Contains(logText, "rejected interaction request") || !strings.Contains(logText, "cannot post to response_url") {
		t.Errorf("the failures were not logged:\n%s", logText)
	}
}

func TestReconcileExpiresAckOfResolvedGroup(t *testing.T) {
	am := &fakeAM{}
	e := newEnv(t, Options{Silences: am})
	g := seedGroup(t, e.groups.Groups, func(g *alertgroup.Group) {
		g.Status = alertgroup.StatusResolved
		g.State.Acked = &alertgroup.Mark{By: alertgroup.User{ID: "U0001ALICE"}, SilenceID: "ack-1"}
	})
	if err := e.h.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	am.mu.Lock()
	expired := slices.Clone(am.expired)
	am.mu.Unlock()
	if !slices.Equal(expired, []string{"ack-1"}) {
		t.Errorf("expired silences %v, want the ACK! silence", expired)
	}
	got, _, err := e.groups.ByMessage(t.Context(), g.Key.Channel, g.TS)
	if err != nil || got.State.Acked == nil || got.State.Acked.SilenceID != "" {
		t.Errorf("acknowledgement = %+v (%v), want the mark without its expired silence", got.State.Acked, err)
	}
}
