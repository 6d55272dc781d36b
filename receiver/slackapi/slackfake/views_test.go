package slackfake

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestViewsUpdate opens a modal and updates it: by view_id with its current
// hash, which changes with every update; a stale hash and an unknown view
// are refused as Slack refuses them, and change nothing.
func TestViewsUpdate(t *testing.T) {
	view, err := os.ReadFile(filepath.Join("testdata", "view.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Token: testToken, Now: fixedClock})
	res := postJSON(t, s, "/api/views.open", map[string]any{"trigger_id": s.NewTriggerID(), "view": json.RawMessage(view)})
	if res.body["ok"] != true {
		t.Fatalf("views.open: %v", res.body)
	}
	opened := res.body["view"].(map[string]any)
	id, hash := opened["id"].(string), opened["hash"].(string)

	update := func(body map[string]any) map[string]any {
		return postJSON(t, s, "/api/views.update", body).body
	}
	retitled := json.RawMessage(strings.Replace(string(view), "Silence DiskFull", "Silence preview", 1))
	got := update(map[string]any{"view_id": id, "hash": hash, "view": retitled})
	if got["ok"] != true {
		t.Fatalf("views.update: %v", got)
	}
	updated := got["view"].(map[string]any)
	newHash, _ := updated["hash"].(string)
	if updated["id"] != id || newHash == "" || newHash == hash {
		t.Errorf("updated view id %v hash %q, want id %s and a hash other than %q", updated["id"], newHash, id, hash)
	}

	for name, tc := range map[string]struct {
		body map[string]any
		want string
	}{
		"stale hash":  {map[string]any{"view_id": id, "hash": hash, "view": json.RawMessage(view)}, "hash_conflict"},
		"unknown id":  {map[string]any{"view_id": "V9999999999", "view": json.RawMessage(view)}, "not_found"},
		"external id": {map[string]any{"external_id": "x", "view": json.RawMessage(view)}, "not_found"},
		"no view id":  {map[string]any{"view": json.RawMessage(view)}, "invalid_arguments"},
		"no view":     {map[string]any{"view_id": id, "hash": newHash}, "invalid_arguments"},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(update(tc.body), slackErr(tc.want)); diff != "" {
				t.Errorf("answer (-got +want):\n%s", diff)
			}
		})
	}

	v, ok := s.View(id)
	if !ok || v.Title != "Silence preview" || v.Hash != newHash || v.Updates != 1 || !v.Updated.Equal(t0) {
		t.Errorf("View(%s) = %+v, %v; want the update's title, hash %q and one update", id, v, ok, newHash)
	}
	// Without a hash, the update applies whatever the view's state.
	if got := update(map[string]any{"view_id": id, "view": json.RawMessage(view)}); got["ok"] != true {
		t.Errorf("views.update without hash: %v", got)
	}
	if v, _ := s.View(id); v.Title != "Silence DiskFull" || v.Updates != 2 {
		t.Errorf("after the second update: %+v", v)
	}
	if n := len(s.Views()); n != 1 {
		t.Errorf("Views() holds %d modals, want the one opened", n)
	}
}

// TestUserTimeZone checks that users.info answers a user's tz when set.
func TestUserTimeZone(t *testing.T) {
	s := New(Options{})
	s.SetUser(User{ID: "U1", Name: "alice", TZ: "Europe/Berlin"})
	res := postForm(t, s, "users.info", form("user", "U1"))
	u, _ := res.body["user"].(map[string]any)
	if u["tz"] != "Europe/Berlin" {
		t.Errorf("users.info = %v, want tz Europe/Berlin", res.body)
	}
}
