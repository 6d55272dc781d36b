package slackapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestPreviewCallsKeepToTheLimits makes the calls of the silence preview
// (users.info, views.update) through the client against a fake Slack that
// allows two of each a minute: none is refused with a 429, a 429 pauses
// only its method, and the answers carry the user's tz and the view's new
// hash.
func TestPreviewCallsKeepToTheLimits(t *testing.T) {
	perMinute := map[string]int{slackapi.MethodUpdateView: 2, slackapi.MethodUserInfo: 2}
	view := slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  slack.NewTextBlockObject(slack.PlainTextType, "Silence", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}},
	}
	synctest.Test(t, func(t *testing.T) {
		fake, api := newFake(t, perMinute)
		fake.SetUser(slackfake.User{ID: "U1", Name: "alice", TZ: "Europe/Berlin"})
		c := slackapi.New(slackapi.Options{API: api, Limits: slackapi.Limits{MethodPerMinute: perMinute}})
		ctx := context.Background()
		opened, err := c.OpenViewContext(ctx, "T1", view)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		hash := opened.Hash
		for range 4 {
			resp, err := c.UpdateViewContext(ctx, view, "", hash, opened.ID)
			if err != nil {
				t.Fatalf("UpdateViewContext: %v", err)
			}
			if resp.Hash == hash {
				t.Errorf("views.update kept the hash %q", hash)
			}
			hash = resp.Hash
			u, err := c.GetUserInfoContext(ctx, "U1")
			if err != nil || u.TZ != "Europe/Berlin" {
				t.Fatalf("GetUserInfoContext = %+v, %v; want tz Europe/Berlin", u, err)
			}
		}
		if limited := count429(fake); limited != 0 {
			t.Errorf("the fake answered %d calls with 429, want none", limited)
		}
		// Two a minute allow four in no less than a minute.
		if took := time.Since(start); took < time.Minute {
			t.Errorf("four calls of each took %s, want at least 1m", took)
		}

		// A stale hash is Slack's error, passed on as slack-go returns it.
		_, err = c.UpdateViewContext(ctx, view, "", opened.Hash, opened.ID)
		if se, ok := errors.AsType[slack.SlackErrorResponse](err); !ok || se.Err != "hash_conflict" {
			t.Errorf("update with a stale hash = %v, want hash_conflict", err)
		}

		fake.FailNext(slackapi.MethodUserInfo, 1, http.StatusTooManyRequests, "")
		if _, err := c.GetUserInfoContext(ctx, "U1"); err == nil {
			t.Fatal("users.info answered 429 and the client saw no error")
		}
		if v := fake.Violations(); len(v) != 0 {
			t.Errorf("calls arrived before their Retry-After: %+v", v)
		}
	})
}
