package slackfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

// homeView is a small valid Home tab view.
func homeView(text string) map[string]any {
	return map[string]any{
		"type":        "home",
		"callback_id": "amslack_home",
		"blocks": []any{
			map[string]any{"type": "section", "block_id": "b1", "text": map[string]any{"type": "mrkdwn", "text": text}},
		},
	}
}

func TestViewsPublish(t *testing.T) {
	s := New(Options{Token: testToken, Now: fixedClock})
	publish := func(body map[string]any) result { return postJSON(t, s, "/api/views.publish", body) }

	res := publish(map[string]any{"user_id": "U1", "view": homeView("first")})
	if res.body["ok"] != true {
		t.Fatalf("publish = %v", res.body)
	}
	view := res.body["view"].(map[string]any)
	if view["id"] != "VHU1" || view["type"] != "home" {
		t.Errorf("answered view = %v", view)
	}
	// A second publish replaces the user's Home; another user's is apart.
	publish(map[string]any{"user_id": "U1", "view": homeView("second")})
	publish(map[string]any{"user_id": "U2", "view": homeView("bob's")})
	h1, ok := s.Home("U1")
	if !ok || !strings.Contains(string(h1.Raw), `"second"`) || h1.CallbackID != "amslack_home" {
		t.Errorf("Home(U1) = %+v, %v", h1, ok)
	}
	if h2, ok := s.Home("U2"); !ok || !strings.Contains(string(h2.Raw), `"bob's"`) {
		t.Errorf("Home(U2) = %s, %v", h2.Raw, ok)
	}
	if _, ok := s.Home("U3"); ok {
		t.Error("Home(U3) exists without a publish")
	}
	if n := len(s.Views()); n != 2 {
		t.Errorf("views = %d, want one per user", n)
	}

	tooMany := homeView("x")
	var blocks []any
	for i := range 101 {
		blocks = append(blocks, map[string]any{"type": "divider", "block_id": fmt.Sprint(i)})
	}
	tooMany["blocks"] = blocks
	modal := homeView("x")
	modal["type"] = "modal"
	for _, tc := range []struct {
		name string
		body map[string]any
		want map[string]any
	}{
		{"no user", map[string]any{"view": homeView("x")}, slackErr("invalid_arguments")},
		{"no view", map[string]any{"user_id": "U1"}, slackErr("invalid_arguments")},
		{"101 blocks", map[string]any{"user_id": "U1", "view": tooMany}, map[string]any{"ok": false, "error": "invalid_arguments",
			"response_metadata": map[string]any{"messages": []any{"[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"}}}},
		{"modal", map[string]any{"user_id": "U1", "view": modal}, map[string]any{"ok": false, "error": "invalid_arguments",
			"response_metadata": map[string]any{"messages": []any{"[ERROR] must be home [json-pointer:/view/type]"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(publish(tc.body).body, tc.want); diff != "" {
				t.Errorf("answer (-got +want):\n%s", diff)
			}
		})
	}
	if h1, _ := s.Home("U1"); !strings.Contains(string(h1.Raw), `"second"`) {
		t.Errorf("a refused publish changed the Home: %s", h1.Raw)
	}

	s.SetUser(User{ID: "U1", Name: "alice"})
	if diff := cmp.Diff(publish(map[string]any{"user_id": "U9", "view": homeView("x")}).body, slackErr("user_not_found")); diff != "" {
		t.Errorf("unknown user (-got +want):\n%s", diff)
	}
}

// TestViewsPublishSlackGo publishes through slack-go's client, which sends
// views.publish as JSON.
func TestViewsPublishSlackGo(t *testing.T) {
	s := New(Options{Token: testToken})
	srv := httptest.NewServer(s)
	defer srv.Close()
	api := slack.New(testToken, slack.OptionAPIURL(s.APIURL(srv.URL)))
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "hello", false, false), nil, nil),
	}}}
	resp, err := api.PublishViewContext(context.Background(), slack.PublishViewContextRequest{UserID: "U1", View: view})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != "VHU1" || resp.Type != slack.VTHomeTab {
		t.Errorf("view = %+v", resp.View)
	}
	if h, ok := s.Home("U1"); !ok || !strings.Contains(string(h.Raw), "hello") {
		t.Errorf("Home = %s, %v", h.Raw, ok)
	}
}

// FuzzCheckHomeView checks that the Home view checker never panics, points
// at the offending place, and judges a view the same after a JSON round
// trip.
func FuzzCheckHomeView(f *testing.F) {
	for _, b := range seeds(f, "blocks/*.json") {
		f.Add([]byte(`{"type":"home","blocks":` + string(b) + `}`))
	}
	good, err := json.Marshal(homeView("hello"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`null`))
	f.Add([]byte(`{"type":"modal","title":{"type":"plain_text","text":"x"},"blocks":[]}`))
	f.Add([]byte(`{"type":"home","private_metadata":1,"callback_id":"","blocks":{}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, problems, err := checkHomeView(raw)
		if err != nil {
			return
		}
		for _, p := range problems {
			if !strings.Contains(p, "[json-pointer:/view") {
				t.Fatalf("problem %q does not point into the view", p)
			}
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		_, problems2, err := checkHomeView(again)
		if err != nil {
			t.Fatalf("round trip of %s: %v", raw, err)
		}
		if !bytes.Equal(mustJSON(t, problems), mustJSON(t, problems2)) {
			t.Fatalf("problems differ after a round trip:\n%v\n%v", problems, problems2)
		}
	})
}
