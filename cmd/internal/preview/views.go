package preview

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// viewRequest is a submitted or cancelled modal on the page.
type viewRequest struct {
	ViewID string `json:"view_id"`
	User   string `json:"user"`
	// Values are the inputs' values by block_id and action_id: text for
	// text inputs, the chosen option's value for selects.
	Values map[string]map[string]string `json:"values"`
	// Checked are the ticked options' values of checkbox groups, by
	// block_id and action_id.
	Checked map[string]map[string][]string `json:"checked"`
}

// viewPayload is a view_submission or view_closed payload.
type viewPayload struct {
	Type                string         `json:"type"`
	Team                teamRef        `json:"team"`
	User                userRef        `json:"user"`
	APIAppID            string         `json:"api_app_id"`
	TriggerID           string         `json:"trigger_id,omitempty"`
	View                map[string]any `json:"view"`
	ResponseURLs        []any          `json:"response_urls,omitempty"`
	IsCleared           *bool          `json:"is_cleared,omitempty"`
	IsEnterpriseInstall bool           `json:"is_enterprise_install"`
}

// viewAnswer is amslack's answer to a view_submission.
type viewAnswer struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

// openView finds an open modal of user u.
func (h *Handler) openView(id string, u slackfake.User) (slackfake.View, error) {
	if h.fake == nil || h.interactions == nil {
		return slackfake.View{}, errors.New("the preview has no fake Slack or no interaction handler")
	}
	for _, v := range h.fake.Views() {
		if v.ID != id {
			continue
		}
		if isHome(v) {
			// A Home tab is no modal: it is neither submitted nor
			// closed, and only its own user sees it (actionView).
			break
		}
		h.mu.Lock()
		closed := h.closed[id]
		opener, known := h.openers[v.TriggerID]
		h.mu.Unlock()
		switch {
		case closed:
			return slackfake.View{}, fmt.Errorf("%w: modal %s is closed", errNotFound, id)
		case known && opener != u.ID:
			// Slack shows a modal only to the user whose click opened it.
			return slackfake.View{}, fmt.Errorf("%w: modal %s belongs to %s", errForbidden, id, opener)
		}
		return v, nil
	}
	return slackfake.View{}, fmt.Errorf("%w: no modal %s", errNotFound, id)
}

// submitView sends the view_submission payload of a modal filled in on the
// page, and closes the modal unless amslack answers with field errors.
func (h *Handler) submitView(ctx context.Context, req viewRequest) (apiResult, error) {
	u, ok := h.user(req.User)
	if !ok {
		return apiResult{}, fmt.Errorf("%w: unknown user %q", errRequest, req.User)
	}
	v, err := h.openView(req.ViewID, u)
	if err != nil {
		return apiResult{}, err
	}
	doc, err := viewDocument(v)
	if err != nil {
		return apiResult{}, err
	}
	doc["state"] = map[string]any{"values": inputValues(v.Raw, req.Values, req.Checked)}
	p := viewPayload{
		Type: "view_submission", Team: team(), User: userOf(u), APIAppID: appID,
		TriggerID: h.newTrigger(u.ID), View: doc, ResponseURLs: []any{},
	}
	status, body, err := h.deliver(ctx, p)
	if err != nil {
		return apiResult{}, err
	}
	res := apiResult{Status: status, Body: body}
	if status/100 == 2 {
		var ans viewAnswer
		switch {
		case body == "":
			// Slack: an empty 200 closes the modal.
			h.markClosed(v.ID)
		case json.Unmarshal([]byte(body), &ans) != nil:
			// Slack shows an error and keeps the modal open.
		case ans.ResponseAction == "errors":
			res.Errors = ans.Errors
		default:
			// clear, update and push are not modelled: the modal closes.
			h.markClosed(v.ID)
		}
	}
	h.logger.Info("Preview modal submitted", "view_id", v.ID, "callback_id", v.CallbackID, "user", u.ID, "status", status)
	return res, nil
}

// closeView closes a modal cancelled on the page, telling amslack when the
// modal asked for it (notify_on_close).
func (h *Handler) closeView(ctx context.Context, req viewRequest) (apiResult, error) {
	u, ok := h.user(req.User)
	if !ok {
		return apiResult{}, fmt.Errorf("%w: unknown user %q", errRequest, req.User)
	}
	v, err := h.openView(req.ViewID, u)
	if err != nil {
		return apiResult{}, err
	}
	h.markClosed(v.ID)
	doc, err := viewDocument(v)
	if err != nil {
		return apiResult{}, err
	}
	if notify, _ := doc["notify_on_close"].(bool); !notify {
		return apiResult{Status: http.StatusOK}, nil
	}
	doc["state"] = map[string]any{"values": map[string]any{}}
	cleared := false
	status, body, err := h.deliver(ctx, viewPayload{
		Type: "view_closed", Team: team(), User: userOf(u), APIAppID: appID, View: doc, IsCleared: &cleared,
	})
	if err != nil {
		return apiResult{}, err
	}
	return apiResult{Status: status, Body: body}, nil
}

func (h *Handler) markClosed(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed[id] = true
	// The fake has no event for a closed modal; the page hears of it in
	// the answer to its own request and renders again.
}

// viewDocument returns the modal as Slack reports it in a payload: as
// amslack sent it, plus the fields Slack adds.
func viewDocument(v slackfake.View) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(v.Raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, fmt.Errorf("read modal %s: %w", v.ID, errors.Join(errors.New("not a JSON object"), err))
	}
	if _, ok := doc["type"]; !ok {
		doc["type"] = "modal"
	}
	doc["id"] = v.ID
	doc["team_id"] = slackfake.TeamID
	doc["app_id"] = appID
	doc["bot_id"] = slackfake.BotID
	doc["app_installed_team_id"] = slackfake.TeamID
	// views.update changes the hash, and amslack updates a view on the
	// hash its payload carried (https://docs.slack.dev/reference/methods/views.update).
	doc["hash"] = cmp.Or(v.Hash, v.ID+".hash")
	doc["root_view_id"] = v.ID
	doc["previous_view_id"] = nil
	return doc, nil
}

// inputValues builds a view's state.values from what the page sent, the
// values of inputs and the ticked options of checkbox groups: an entry for
// every input block, typed as its element, as Slack sends them; values the
// page sent for blocks the view lacks, and options it lacks, are ignored.
func inputValues(raw json.RawMessage, sent map[string]map[string]string, checked map[string]map[string][]string) map[string]map[string]any {
	out := map[string]map[string]any{}
	bs, _ := parseBlocks(blocksOf(raw))
	for _, b := range bs {
		if b.Type != "input" || len(b.Element) == 0 {
			continue
		}
		var el element
		if json.Unmarshal(b.Element, &el) != nil || el.ActionID == "" {
			continue
		}
		v, given := sent[b.BlockID][el.ActionID]
		st := map[string]any{"type": el.Type}
		switch el.Type {
		case "static_select", "radio_buttons":
			st["selected_option"] = nil
			if opt, ok := el.option(v); given && ok {
				st["selected_option"] = opt
			}
		case "checkboxes":
			// Slack sends an empty list when none is ticked.
			opts := []option{}
			for _, value := range checked[b.BlockID][el.ActionID] {
				if opt, ok := el.option(value); ok && !slices.ContainsFunc(opts, func(o option) bool { return o.Value == value }) {
					opts = append(opts, opt)
				}
			}
			st["selected_options"] = opts
		default:
			// Slack sends null for an empty text input.
			st["value"] = nil
			if given && v != "" {
				st["value"] = v
			}
		}
		out[b.BlockID] = map[string]any{el.ActionID: st}
	}
	return out
}

// blocksOf returns the blocks array of a view.
func blocksOf(raw json.RawMessage) json.RawMessage {
	var v struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v.Blocks
}

// viewActionRequest is a click, a choice or Enter in an input inside a
// modal or the user's App Home on the page.
type viewActionRequest struct {
	ViewID   string `json:"view_id"`
	User     string `json:"user"`
	BlockID  string `json:"block_id"`
	ActionID string `json:"action_id"`
	// Value is the chosen option of a select, or the text of an input
	// whose block sends its actions (dispatch_action).
	Value string `json:"value"`
	// Values and Checked are the modal's inputs, as in viewRequest; Slack
	// sends them with every action inside a modal.
	Values  map[string]map[string]string   `json:"values"`
	Checked map[string]map[string][]string `json:"checked"`
}

// viewContainer is the container of a block_actions payload from inside a
// view.
type viewContainer struct {
	Type   string `json:"type"`
	ViewID string `json:"view_id"`
}

// viewActions is a block_actions payload from inside a modal or a Home
// tab: Slack sends the view, with the state of its inputs, and neither a
// message nor a response_url
// (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload).
type viewActions struct {
	Type                string         `json:"type"`
	Team                teamRef        `json:"team"`
	User                userRef        `json:"user"`
	APIAppID            string         `json:"api_app_id"`
	Container           viewContainer  `json:"container"`
	TriggerID           string         `json:"trigger_id"`
	View                map[string]any `json:"view"`
	Actions             []action       `json:"actions"`
	IsEnterpriseInstall bool           `json:"is_enterprise_install"`
}

// viewAction sends the block_actions payload of an action inside a modal
// or the user's App Home. The modal stays open: amslack answers an action
// in a modal by updating it (views.update), and one in Home by publishing
// Home again (views.publish).
func (h *Handler) viewAction(ctx context.Context, req viewActionRequest) (apiResult, error) {
	u, ok := h.user(req.User)
	if !ok {
		return apiResult{}, fmt.Errorf("%w: unknown user %q", errRequest, req.User)
	}
	if req.ViewID == "" || req.ActionID == "" {
		return apiResult{}, fmt.Errorf("%w: view_id and action_id are required", errRequest)
	}
	v, err := h.actionView(req.ViewID, u)
	if err != nil {
		return apiResult{}, err
	}
	el, ok := findElement(blocksOf(v.Raw), req.BlockID, req.ActionID)
	if !ok {
		return apiResult{}, fmt.Errorf("%w: no element %q in block %q of view %s", errNotFound, req.ActionID, req.BlockID, v.ID)
	}
	a, err := h.actionOf(el, req.BlockID, req.Value)
	if err != nil {
		return apiResult{}, err
	}
	doc, err := viewDocument(v)
	if err != nil {
		return apiResult{}, err
	}
	values := map[string]map[string]any{}
	if !isHome(v) {
		values = inputValues(v.Raw, req.Values, req.Checked)
	}
	doc["state"] = map[string]any{"values": values}
	p := viewActions{
		Type: "block_actions", Team: team(), User: userOf(u), APIAppID: appID,
		Container: viewContainer{Type: "view", ViewID: v.ID},
		TriggerID: h.newTrigger(u.ID), View: doc, Actions: []action{a},
	}
	status, body, err := h.deliver(ctx, p)
	if err != nil {
		return apiResult{}, err
	}
	h.logger.Info("Preview view action delivered", "view_id", v.ID, "action_id", req.ActionID, "user", u.ID, "status", status)
	return apiResult{Status: status, Body: body}, nil
}

// actionView returns the view with id in which u acts: u's own App Home,
// or a modal open for u.
func (h *Handler) actionView(id string, u slackfake.User) (slackfake.View, error) {
	if h.fake == nil || h.interactions == nil {
		return slackfake.View{}, errors.New("the preview has no fake Slack or no interaction handler")
	}
	if home, ok := h.fake.Home(u.ID); ok && home.ID == id {
		return home, nil
	}
	return h.openView(id, u)
}

// isHome reports whether v is a Home tab that views.publish recorded
// rather than a modal; the fake keeps both.
func isHome(v slackfake.View) bool {
	var doc struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(v.Raw, &doc) == nil && doc.Type == "home"
}
