package slackapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// inProcess serves requests from the fake Slack's handler without a
// network, so that the tests run inside a synctest bubble with its fake
// clock.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

const group = "S0ONCALL"

// newFake returns a fake Slack that allows views.open and
// usergroups.users.list only a few times a minute, and a slack-go client
// of it.
func newFake(t *testing.T, perMinute map[string]int) (*slackfake.Server, *slack.Client) {
	t.Helper()
	fake := slackfake.New(slackfake.Options{MethodPerMinute: perMinute, RetryAfter: time.Second})
	fake.SetUserGroup(group, []string{"U1", "U2"})
	api := slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL("http://slack.test")),
		slack.OptionHTTPClient(&http.Client{Transport: inProcess{fake}}))
	return fake, api
}

// interactCalls makes n of each call that interactions make through api,
// all at once, and returns their errors.
func interactCalls(api interface {
	OpenViewContext(context.Context, string, slack.ModalViewRequest) (*slack.ViewResponse, error)
	GetUserGroupMembersContext(context.Context, string, ...slack.GetUserGroupMembersOption) ([]string, error)
}, n int) []error {
	view := slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  slack.NewTextBlockObject(slack.PlainTextType, "Silence", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}},
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := api.OpenViewContext(context.Background(), fmt.Sprintf("T%d", i), view)
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
		wg.Go(func() {
			_, err := api.GetUserGroupMembersContext(context.Background(), group)
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	return errs
}

// TestInteractCallsKeepToTheLimits makes the calls of interactions
// (views.open, usergroups.users.list) through the client against a fake
// Slack with tight method limits: none is refused with a 429, and none
// arrives in a scope before its Retry-After. The same calls made with
// slack-go alone draw 429s, so the limits are tight enough to matter.
func TestInteractCallsKeepToTheLimits(t *testing.T) {
	perMinute := map[string]int{slackapi.MethodOpenView: 3, slackapi.MethodUserGroupMembers: 2}
	const n = 5

	t.Run("without the client", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fake, api := newFake(t, perMinute)
			interactCalls(api, n)
			if limited := count429(fake); limited == 0 {
				t.Fatal("the fake answered no 429: its limits do not hold the calls back")
			}
		})
	})

	t.Run("through the client", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fake, api := newFake(t, perMinute)
			c := slackapi.New(slackapi.Options{API: api, Limits: slackapi.Limits{MethodPerMinute: perMinute}})
			start := time.Now()
			for _, err := range interactCalls(c, n) {
				if err != nil {
					t.Errorf("call failed: %v", err)
				}
			}
			if limited := count429(fake); limited != 0 {
				t.Errorf("the fake answered %d calls with 429, want none", limited)
			}
			if v := fake.Violations(); len(v) != 0 {
				t.Errorf("%d calls arrived before their Retry-After: %+v", len(v), v[0])
			}
			// Two usergroups.users.list calls a minute allow n of them in
			// no less than n-1 minutes.
			if took := time.Since(start); took < (n-1)*time.Minute {
				t.Errorf("the calls took %s, want at least %s", took, (n-1)*time.Minute)
			}
		})
	})
}

// TestRateLimitedPausesTheMethod answers one views.open with a 429: the
// client passes slack-go's error on, and the next views.open waits out the
// Retry-After, while other methods go on. Without the client the next call
// breaks the pause, and the fake reports it in the method's scope.
func TestRateLimitedPausesTheMethod(t *testing.T) {
	view := slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  slack.NewTextBlockObject(slack.PlainTextType, "Silence", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}},
	}

	t.Run("through the client", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fake, api := newFake(t, nil)
			c := slackapi.New(slackapi.Options{API: api})
			ctx := context.Background()
			fake.FailNext(slackapi.MethodOpenView, 1, http.StatusTooManyRequests, "")
			_, err := c.OpenViewContext(ctx, "T1", view)
			if _, ok := errors.AsType[*slack.RateLimitedError](err); !ok {
				t.Fatalf("OpenViewContext = %v, want a *slack.RateLimitedError", err)
			}
			start := time.Now()
			if _, err := c.GetUserGroupMembersContext(ctx, group); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d != 0 {
				t.Errorf("usergroups.users.list waited %s for views.open's pause, want 0", d)
			}
			if _, err := c.OpenViewContext(ctx, "T2", view); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d != time.Second {
				t.Errorf("the next views.open went out after %s, want after Retry-After (1s)", d)
			}
			if v := fake.Violations(); len(v) != 0 {
				t.Errorf("calls arrived before their Retry-After: %+v", v)
			}
		})
	})

	t.Run("without the client", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fake, api := newFake(t, nil)
			ctx := context.Background()
			fake.FailNext(slackapi.MethodOpenView, 1, http.StatusTooManyRequests, "")
			api.OpenViewContext(ctx, "T1", view)
			api.OpenViewContext(ctx, "T2", view)
			v := fake.Violations()
			if len(v) != 1 {
				t.Fatalf("violations = %+v, want one", v)
			}
			if want := slackapi.MethodScope(slackapi.MethodOpenView); v[0].Scope != want || v[0].Scope.String() != "method:views.open" {
				t.Errorf("violation in scope %q, want %q", v[0].Scope, want)
			}
		})
	})
}

func count429(fake *slackfake.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}
