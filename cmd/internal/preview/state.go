package preview

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// state is what the page shows, as one user sees it.
type state struct {
	User     slackfake.User   `json:"user"`
	Users    []slackfake.User `json:"users"`
	Examples []string         `json:"examples"`
	Channels []channel        `json:"channels"`
	// Views are the user's open modals, oldest first.
	Views []view `json:"views"`
	// Home is the App Home view published for the user, or nil.
	Home *view `json:"home"`
	// HomeEnabled says whether the preview can open App Home: it needs
	// amslack's Events API handler.
	HomeEnabled bool `json:"home_enabled"`
}

type channel struct {
	ID       string    `json:"id"`
	Messages []message `json:"messages"`
	// Ephemerals are the messages only the user sees, in order.
	Ephemerals []ephemeral `json:"ephemerals"`
}

type message struct {
	TS        string          `json:"ts"`
	ThreadTS  string          `json:"thread_ts,omitempty"`
	Text      string          `json:"text"`
	Blocks    json.RawMessage `json:"blocks,omitempty"`
	Posted    time.Time       `json:"posted"`
	Edited    bool            `json:"edited"`
	Deleted   bool            `json:"deleted,omitempty"`
	Broadcast bool            `json:"broadcast,omitempty"`
	Replies   []message       `json:"replies"`
}

type ephemeral struct {
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Time     time.Time       `json:"time"`
}

type view struct {
	ID string `json:"id"`
	// Hash changes with every views.update of a modal.
	Hash string `json:"hash,omitempty"`
	// View is the modal as amslack sent it to views.open or last to
	// views.update, or the Home tab as it sent it to views.publish.
	View json.RawMessage `json:"view"`
}

func (h *Handler) serveState(w http.ResponseWriter, r *http.Request) {
	if h.fake == nil {
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "no fake Slack"})
		return
	}
	u, ok := h.user(r.URL.Query().Get("user"))
	if !ok {
		writeError(w, fmt.Errorf("%w: unknown user %q", errNotFound, r.URL.Query().Get("user")))
		return
	}
	writeJSON(w, http.StatusOK, h.state(u))
}

// state reads what u sees from the fake Slack.
func (h *Handler) state(u slackfake.User) state {
	st := state{
		User: u, Users: h.users, Examples: h.exampleNames,
		Channels: []channel{}, Views: []view{}, HomeEnabled: h.events != nil,
	}
	if st.Examples == nil {
		st.Examples = []string{}
	}
	for _, id := range h.fake.Channels() {
		ch := channel{ID: id, Messages: []message{}, Ephemerals: []ephemeral{}}
		for _, m := range h.fake.Messages(id) {
			// Slack drops a deleted message from the channel unless a
			// thread hangs on it.
			if m.Deleted && len(m.Replies) == 0 {
				continue
			}
			ch.Messages = append(ch.Messages, toMessage(m))
		}
		for _, e := range h.fake.Ephemerals(id) {
			if e.User != u.ID {
				continue
			}
			if e.Replaced && len(ch.Ephemerals) > 0 {
				// replace_original from an ephemeral source replaces the
				// user's ephemeral message that carried the click; the
				// fake does not say which, and it is the latest one in
				// every flow amslack has.
				ch.Ephemerals = ch.Ephemerals[:len(ch.Ephemerals)-1]
			}
			ch.Ephemerals = append(ch.Ephemerals, ephemeral{
				TS: e.TS, ThreadTS: e.ThreadTS, Text: e.Text, Blocks: e.Blocks, Time: e.Time,
			})
		}
		st.Channels = append(st.Channels, ch)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if v, ok := h.fake.Home(u.ID); ok {
		st.Home = &view{ID: v.ID, Hash: v.Hash, View: v.Raw}
	}
	for _, v := range h.fake.Views() {
		if h.closed[v.ID] || isHome(v) {
			continue
		}
		// A modal opened with a trigger_id the preview did not issue has
		// no known owner; everyone sees it rather than no one.
		if opener, ok := h.openers[v.TriggerID]; ok && opener != u.ID {
			continue
		}
		st.Views = append(st.Views, view{ID: v.ID, Hash: v.Hash, View: v.Raw})
	}
	return st
}

func toMessage(m slackfake.Message) message {
	out := message{
		TS: m.TS, ThreadTS: m.ThreadTS, Text: m.Text, Blocks: m.Blocks, Posted: m.Posted,
		Edited: m.Edits > 0, Deleted: m.Deleted, Broadcast: m.Broadcast, Replies: []message{},
	}
	if m.Deleted {
		out.Text, out.Blocks = "", nil
	}
	for _, r := range m.Replies {
		if r.Deleted {
			continue
		}
		out.Replies = append(out.Replies, toMessage(r))
	}
	return out
}
