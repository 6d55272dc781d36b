package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// EventViewUpdate is the Event of a modal replaced with views.update.
const EventViewUpdate EventKind = "view_update"

// viewHash is the hash of a modal after its n-th update; n is 0 as
// views.open leaves it. Slack's hashes are opaque strings that change on
// every update.
func viewHash(id string, n int) string {
	if n == 0 {
		return id + ".hash"
	}
	return fmt.Sprintf("%s.hash.%d", id, n)
}

// viewParam reads the view argument of a views.* call and checks it with
// check. A view that is missing, is not a JSON object or breaks a limit
// gets the answer Slack gives, invalid_arguments, as rejected; views.*
// list the problems only under response_metadata.
func viewParam(c *call, check func([]byte) (map[string]any, []string, error)) (raw []byte, view map[string]any, rejected *reply) {
	raw = c.p.raw("view")
	if raw == nil {
		rep := slackError(http.StatusOK, "invalid_arguments")
		return nil, nil, &rep
	}
	view, problems, err := check(raw)
	if err != nil {
		rep := (&rejection{code: "invalid_arguments", problems: []string{"invalid view JSON [json-pointer:/view]"}}).reply(http.StatusOK)
		return nil, nil, &rep
	}
	if len(problems) > 0 {
		rep := (&rejection{code: "invalid_arguments", problems: problems}).reply(http.StatusOK)
		body := rep.body.(errorBody)
		body.Errors = nil
		rep.body = body
		return nil, nil, &rep
	}
	return raw, view, nil
}

// viewAnswer is the answer of views.* with the view as Slack returns it:
// the view sent, with its id, hash, the ids of its team, app and bot, and
// an empty state.
func viewAnswer(view map[string]any, id, hash string) reply {
	view["id"] = id
	view["team_id"] = TeamID
	view["app_id"] = "A0SLACKFAKE"
	view["bot_id"] = BotID
	view["hash"] = hash
	view["state"] = map[string]any{"values": map[string]any{}}
	return ok(map[string]any{"view": view})
}

// describeModal sets the fields of v that the modal view names.
func (v *View) describeModal(view map[string]any) {
	v.CallbackID, _ = view["callback_id"].(string)
	v.PrivateMetadata, _ = view["private_metadata"].(string)
	v.Title = ""
	if t, ok := view["title"].(map[string]any); ok {
		v.Title, _ = t["text"].(string)
	}
}

// viewsUpdate implements views.update for a modal named by view_id: it
// replaces the modal's view when the hash, if given, is the modal's
// current one. A stale hash answers hash_conflict, as Slack does so that
// an update made from an older state of the view cannot overwrite a newer
// one (https://docs.slack.dev/reference/methods/views.update). The fake
// records no external_id, so a modal named by one is not_found.
func (s *Server) viewsUpdate(c *call) reply {
	id := c.p.get("view_id")
	if id == "" {
		if c.p.get("external_id") != "" {
			return slackError(http.StatusOK, "not_found")
		}
		return slackError(http.StatusOK, "invalid_arguments")
	}
	i := slices.IndexFunc(s.st.views, func(v View) bool { return v.ID == id })
	if i < 0 {
		return slackError(http.StatusOK, "not_found")
	}
	v := &s.st.views[i]
	if h := c.p.get("hash"); h != "" && h != v.Hash {
		return slackError(http.StatusOK, "hash_conflict")
	}
	raw, view, rejected := viewParam(c, checkView)
	if rejected != nil {
		return *rejected
	}
	v.Updates++
	v.Hash = viewHash(v.ID, v.Updates)
	v.Raw = json.RawMessage(slices.Clone(raw))
	v.Updated = c.now
	v.describeModal(view)
	s.emit(Event{Kind: EventViewUpdate})
	return viewAnswer(view, v.ID, v.Hash)
}

// View returns the modal with the given id as it stands now, after its
// updates, and whether the fake knows it.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.st.views, func(v View) bool { return v.ID == id })
	if i < 0 {
		return View{}, false
	}
	v := s.st.views[i]
	v.Raw = slices.Clone(v.Raw)
	return v, true
}
