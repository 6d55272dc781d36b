package slackfake

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/slackapi"
)

// attempt is one request of a rate-limit scenario: wait, then call.
type attempt struct {
	after time.Duration
	call  func(t *testing.T, s *Server) result
}

// outcome is what a scenario checks of each answer.
type outcome struct {
	Status     int
	RetryAfter string
	Error      string
}

func outcomeOf(res result) outcome {
	o := outcome{Status: res.status, RetryAfter: res.header.Get("Retry-After")}
	if res.body != nil {
		o.Error, _ = res.body["error"].(string)
	} else if res.plain != "ok" {
		o.Error = res.plain
	}
	return o
}

func postTo(channel string) func(t *testing.T, s *Server) result {
	return func(t *testing.T, s *Server) result {
		return postForm(t, s, "chat.postMessage", form("channel", channel, "text", "x"))
	}
}

func callMethod(method string, kv ...string) func(t *testing.T, s *Server) result {
	return func(t *testing.T, s *Server) result {
		return postForm(t, s, method, form(kv...))
	}
}

var (
	passed  = outcome{Status: 200}
	limited = func(secs string) outcome {
		return outcome{Status: http.StatusTooManyRequests, RetryAfter: secs, Error: "ratelimited"}
	}
)

func TestRateLimits(t *testing.T) {
	tests := []struct {
		name           string
		opts           Options
		attempts       []attempt
		want           []outcome
		wantViolations []Violation // Time and Until relative to the start, in Duration
	}{
		{
			name: "per channel with burst",
			opts: Options{ChannelPerSecond: 1, ChannelBurst: 2},
			attempts: []attempt{
				{0, postTo("C1")}, {0, postTo("C1")}, {0, postTo("C1")},
				{0, postTo("C2")}, // another channel has its own budget
				{time.Second, postTo("C1")},
				{0, postTo("C1")},
				{2 * time.Second, postTo("C1")}, {0, postTo("C1")},
			},
			want: []outcome{
				passed, passed, limited("1"),
				passed,
				passed,
				limited("1"),
				passed, passed,
			},
		},
		{
			name: "retry after rounds up to whole seconds",
			opts: Options{ChannelPerSecond: 0.4, RetryAfter: 1500 * time.Millisecond},
			attempts: []attempt{
				{0, postTo("C1")}, {0, postTo("C1")},
				{2 * time.Second, postTo("C1")}, // told 3s (the bucket needs 2.5s): too early, told 1.5s more
				{2 * time.Second, postTo("C1")},
			},
			want: []outcome{passed, limited("3"), limited("2"), passed},
			wantViolations: []Violation{{
				Time: at(2 * time.Second), Scope: slackapi.ChannelScope("C1"), Method: "chat.postMessage", Channel: "C1",
				Until: at(3 * time.Second),
			}},
		},
		{
			name: "per method per minute",
			opts: Options{MethodPerMinute: map[string]int{"users.info": 2}},
			attempts: []attempt{
				{0, callMethod("users.info", "user", "U1")},
				{10 * time.Second, callMethod("users.info", "user", "U1")},
				{0, callMethod("users.info", "user", "U1")},
				{0, callMethod("auth.test")}, // other methods are not limited
				{50 * time.Second, callMethod("users.info", "user", "U1")},
				{10 * time.Second, callMethod("users.info", "user", "U1")},
			},
			want: []outcome{
				{Status: 200, Error: "user_not_found"},
				{Status: 200, Error: "user_not_found"},
				limited("50"),
				passed,
				{Status: 200, Error: "user_not_found"},
				{Status: 200, Error: "user_not_found"},
			},
		},
		{
			name: "workspace messages per minute",
			opts: Options{WorkspacePerMinute: 2},
			attempts: []attempt{
				{0, postTo("C1")}, {0, postTo("C2")}, {0, postTo("C3")},
				{30 * time.Second, postTo("C4")},
				{30 * time.Second, postTo("C4")},
			},
			want: []outcome{passed, passed, limited("60"), limited("30"), passed},
			wantViolations: []Violation{{
				Time: at(30 * time.Second), Scope: slackapi.WorkspaceScope(), Method: "chat.postMessage", Channel: "C4",
				Until: at(60 * time.Second),
			}},
		},
		{
			name: "violation in a blocked channel only",
			opts: Options{ChannelPerSecond: 1},
			attempts: []attempt{
				{0, postTo("C1")}, {0, postTo("C1")},
				{500 * time.Millisecond, postTo("C2")},
				{0, postTo("C1")}, // told to wait until 1.5s now
				{time.Second, postTo("C1")},
			},
			want: []outcome{passed, limited("1"), passed, limited("1"), passed},
			wantViolations: []Violation{{
				Time: at(500 * time.Millisecond), Scope: slackapi.ChannelScope("C1"), Method: "chat.postMessage", Channel: "C1",
				Until: at(time.Second),
			}},
		},
		{
			name: "violation extends the wait",
			opts: Options{ChannelPerSecond: 1},
			attempts: []attempt{
				{0, postTo("C1")}, {0, postTo("C1")},
				{900 * time.Millisecond, postTo("C1")}, // told to wait until 1.9s now
				{200 * time.Millisecond, postTo("C1")}, // and until 2.1s
				{time.Second, postTo("C1")},
			},
			want: []outcome{passed, limited("1"), limited("1"), limited("1"), passed},
			wantViolations: []Violation{
				{
					Time: at(900 * time.Millisecond), Scope: slackapi.ChannelScope("C1"), Method: "chat.postMessage", Channel: "C1",
					Until: at(time.Second),
				},
				{
					Time: at(1100 * time.Millisecond), Scope: slackapi.ChannelScope("C1"), Method: "chat.postMessage", Channel: "C1",
					Until: at(1900 * time.Millisecond),
				},
			},
		},
		{
			name: "injected 429 counts for violations",
			opts: Options{},
			attempts: []attempt{
				{0, func(t *testing.T, s *Server) result {
					s.FailNext("chat.update", 1, http.StatusTooManyRequests, "")
					return callMethod("chat.update", "channel", "C1", "ts", "1.000001", "text", "x")(t, s)
				}},
				{0, callMethod("chat.update", "channel", "C1", "ts", "1.000001", "text", "x")},
				{time.Second, callMethod("chat.update", "channel", "C1", "ts", "1.000001", "text", "x")},
			},
			want: []outcome{
				limited("1"),
				limited("1"),
				{Status: 200, Error: "message_not_found"},
			},
			wantViolations: []Violation{{
				Time: at(0), Scope: slackapi.MethodScope("chat.update"), Method: "chat.update", Channel: "C1", Until: at(time.Second),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := New(tt.opts)
				var got []outcome
				for _, a := range tt.attempts {
					time.Sleep(a.after)
					got = append(got, outcomeOf(a.call(t, s)))
				}
				if diff := cmp.Diff(got, tt.want); diff != "" {
					t.Errorf("answers (-got +want):\n%s", diff)
				}
				if diff := cmp.Diff(s.Violations(), tt.wantViolations); diff != "" {
					t.Errorf("violations (-got +want):\n%s", diff)
				}
			})
		})
	}
}

// at is a time relative to the start of a synctest bubble, whose clock starts
// at 2000-01-01T00:00:00Z.
func at(d time.Duration) time.Time {
	return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(d)
}

func TestRateLimitedRequestsAreRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Options{ChannelPerSecond: 1})
		postTo("C1")(t, s)
		postTo("C1")(t, s)
		postTo("C1")(t, s)
		reqs := s.Requests()
		got := make([]string, len(reqs))
		for i, r := range reqs {
			got[i] = r.Error + "/" + r.RetryAfter.String()
		}
		if diff := cmp.Diff(got, []string{"/0s", "ratelimited/1s", "ratelimited/1s"}); diff != "" {
			t.Errorf("requests (-got +want):\n%s", diff)
		}
	})
}

func TestSlackRateLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(SlackRateLimits())
		var got []outcome
		for range 4 {
			got = append(got, outcomeOf(postTo("C1")(t, s)))
		}
		want := []outcome{passed, passed, passed, limited("1")}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("chat.postMessage burst (-got +want):\n%s", diff)
		}
		for range 20 {
			if res := postForm(t, s, "usergroups.users.list", form("usergroup", "S1")); res.status != 200 {
				t.Fatalf("usergroups.users.list under Tier 2: %d", res.status)
			}
		}
		if res := postForm(t, s, "usergroups.users.list", form("usergroup", "S1")); res.status != http.StatusTooManyRequests {
			t.Errorf("21st usergroups.users.list in a minute: %d, want 429", res.status)
		}
	})
}

func TestLimiters(t *testing.T) {
	start := time.Unix(1000, 0)
	t.Run("window", func(t *testing.T) {
		w := newWindow(2, time.Minute)
		w.take(start)
		w.take(start.Add(10 * time.Second))
		if got := w.wait(start.Add(20 * time.Second)); got != 40*time.Second {
			t.Errorf("wait = %v, want 40s", got)
		}
		if got := w.wait(start.Add(time.Minute)); got != 0 {
			t.Errorf("wait after the window = %v, want 0", got)
		}
	})
	t.Run("bucket", func(t *testing.T) {
		b := newBucket(2, 0)
		b.take(start)
		if got := b.wait(start); got != 500*time.Millisecond {
			t.Errorf("wait = %v, want 500ms", got)
		}
		if got := b.wait(start.Add(500 * time.Millisecond)); got != 0 {
			t.Errorf("wait after refill = %v, want 0", got)
		}
		// A clock that steps back does not mint tokens.
		b.take(start.Add(500 * time.Millisecond))
		if got := b.wait(start); got != 500*time.Millisecond {
			t.Errorf("wait with clock stepping back = %v, want 500ms", got)
		}
	})
	t.Run("retry after", func(t *testing.T) {
		for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, 59 * time.Second: 59} {
			if got := retryAfterSeconds(d); got != want {
				t.Errorf("retryAfterSeconds(%v) = %d, want %d", d, got, want)
			}
		}
	})
}
