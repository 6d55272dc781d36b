package slackfake

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestArchive checks that an archived channel refuses new messages and
// edits of old ones with is_archived, as chat.postMessage and chat.update
// document, while other channels go on as before.
func TestArchive(t *testing.T) {
	s := New(Options{Now: fixedClock})
	posted := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "before"))
	if posted.body["ok"] != true {
		t.Fatalf("post before archiving: %v", posted.body)
	}
	s.Archive("C1")
	tests := []struct {
		name   string
		method string
		form   []string
		want   map[string]any
	}{
		{"post", "chat.postMessage", []string{"channel", "C1", "text", "after"}, slackErr("is_archived")},
		{"update", "chat.update", []string{"channel", "C1", "ts", ts0, "text", "edited"}, slackErr("is_archived")},
		{"another channel", "chat.postMessage", []string{"channel", "C2", "text", "elsewhere"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := postForm(t, s, tt.method, form(tt.form...))
			if tt.want == nil {
				if res.body["ok"] != true {
					t.Fatalf("body = %v, want ok", res.body)
				}
				return
			}
			if diff := cmp.Diff(res.body, tt.want); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
		})
	}
	if m := s.Messages("C1"); len(m) != 1 || m[0].Text != "before" || m[0].Edits != 0 {
		t.Errorf("archived channel holds %+v; want the one message from before, unedited", m)
	}
	// Archiving is configuration, like SetChannels: Reset keeps it.
	s.Reset()
	if res := postForm(t, s, "chat.postMessage", form("channel", "C1", "text", "after reset")); res.body["error"] != "is_archived" {
		t.Errorf("after Reset: body = %v, want is_archived", res.body)
	}
}
