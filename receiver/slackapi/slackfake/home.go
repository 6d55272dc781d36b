package slackfake

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"unicode/utf8"
)

// MethodPublishView is the Web API method that publishes a user's App Home
// view.
const MethodPublishView = "views.publish"

// Limits of a Home tab view (https://docs.slack.dev/reference/views and
// https://docs.slack.dev/reference/methods/views.publish).
const (
	maxHomeBlocks  = 100
	maxExternalID  = 255
	homeViewPrefix = "VH"
)

// homeViewID is the id of user's Home view. Slack keeps one Home view per
// user and app, whose id stays the same across publishes.
func homeViewID(user string) string { return homeViewPrefix + user }

// viewsPublish implements views.publish: it checks the view against Block
// Kit's limits for a Home tab, as views.open does for a modal, and records
// it as the user's Home, in place of the one published before. Home views
// are kept with the modals, under ids that start with VH, so Views lists
// them too.
func (s *Server) viewsPublish(c *call) reply {
	user := c.p.get("user_id")
	if user == "" {
		return slackError(http.StatusOK, "invalid_arguments")
	}
	if len(s.users) > 0 {
		if _, ok := s.users[user]; !ok {
			return slackError(http.StatusOK, "user_not_found")
		}
	}
	raw, view, rejected := viewParam(c, checkHomeView)
	if rejected != nil {
		return *rejected
	}
	v := View{ID: homeViewID(user), Raw: json.RawMessage(slices.Clone(raw)), Time: c.now}
	v.CallbackID, _ = view["callback_id"].(string)
	v.PrivateMetadata, _ = view["private_metadata"].(string)
	if i := slices.IndexFunc(s.st.views, func(old View) bool { return old.ID == v.ID }); i >= 0 {
		s.st.views[i] = v
	} else {
		s.st.views = append(s.st.views, v)
	}
	s.emit(Event{Kind: EventView, User: user})
	return viewAnswer(view, v.ID, viewHash(v.ID, 0))
}

// checkHomeView decodes a Home tab view and checks it against Block Kit's
// limits, returning Slack-style problems, each ending in a json-pointer.
func checkHomeView(raw []byte) (map[string]any, []string, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, errors.New("view is not a JSON object")
	}
	c := &checker{blockIDs: map[string]bool{}}
	const ptr = "/view"
	if typ, ok := c.typeOf(m, ptr); ok && typ != "home" {
		c.fail(ptr+"/type", "must be home")
	}
	if s, ok := m["private_metadata"].(string); ok && utf8.RuneCountInString(s) > maxPrivateMeta {
		c.fail(ptr+"/private_metadata", "must be less than %d characters", maxPrivateMeta+1)
	}
	c.optString(m, "callback_id", ptr, maxCallbackID)
	c.optString(m, "external_id", ptr, maxExternalID)
	if b, ok := c.need(m, "blocks", ptr); ok {
		if arr, ok := b.([]any); ok {
			c.blocks(arr, ptr+"/blocks", maxHomeBlocks)
		} else {
			c.fail(ptr+"/blocks", "must be an array")
		}
	}
	return m, c.problems, nil
}

// Home returns the Home view that views.publish last recorded for user.
func (s *Server) Home(user string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.st.views, func(v View) bool { return v.ID == homeViewID(user) })
	if i < 0 {
		return View{}, false
	}
	v := s.st.views[i]
	v.Raw = slices.Clone(v.Raw)
	return v, true
}
