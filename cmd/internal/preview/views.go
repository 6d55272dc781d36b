package preview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// viewRequest is a submitted or cancelled modal on the page.
type viewRequest struct {
	ViewID string `json:"view_id"`
	User   string `json:"user"`
	// Values are the inputs' values by block_id and action_id: text for
	// text inputs, the chosen option's value for selects.
	Values map[string]map[string]string `json:"values"`
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
	doc["state"] = map[string]any{"values": inputValues(v.Raw, req.Values)}
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
	doc["hash"] = v.ID + ".hash"
	doc["root_view_id"] = v.ID
	doc["previous_view_id"] = nil
	return doc, nil
}

// inputValues builds a view's state.values from what the page sent: an
// entry for every input block, typed as its element, as Slack sends them;
// values the page sent for blocks the view lacks are ignored.
func inputValues(raw json.RawMessage, sent map[string]map[string]string) map[string]map[string]any {
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
