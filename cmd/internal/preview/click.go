package preview

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// appID is the app the fake Slack reports for its bot (views.open answers
// carry the same).
const appID = "A0SLACKFAKE"

// Shapes of interaction payloads, as Slack's reference for block_actions
// and view_submission payloads lists their fields
// (https://docs.slack.dev/reference/interaction-payloads) and captured
// payloads show them.
type (
	teamRef struct {
		ID     string `json:"id"`
		Domain string `json:"domain"`
	}
	userRef struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		TeamID   string `json:"team_id"`
	}
	channelRef struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	container struct {
		Type        string `json:"type"`
		MessageTS   string `json:"message_ts"`
		ThreadTS    string `json:"thread_ts,omitempty"`
		ChannelID   string `json:"channel_id"`
		IsEphemeral bool   `json:"is_ephemeral"`
	}
	payloadMessage struct {
		Type     string          `json:"type"`
		Subtype  string          `json:"subtype"`
		User     string          `json:"user"`
		BotID    string          `json:"bot_id"`
		AppID    string          `json:"app_id"`
		Team     string          `json:"team"`
		Text     string          `json:"text"`
		TS       string          `json:"ts"`
		ThreadTS string          `json:"thread_ts,omitempty"`
		Blocks   json.RawMessage `json:"blocks"`
	}
	action struct {
		Type           string          `json:"type"`
		ActionID       string          `json:"action_id"`
		BlockID        string          `json:"block_id"`
		Text           json.RawMessage `json:"text,omitempty"`
		Value          string          `json:"value,omitempty"`
		Style          string          `json:"style,omitempty"`
		SelectedOption *option         `json:"selected_option,omitempty"`
		Placeholder    json.RawMessage `json:"placeholder,omitempty"`
		ActionTS       string          `json:"action_ts"`
	}
	stateValues struct {
		Values map[string]map[string]any `json:"values"`
	}
	blockActions struct {
		Type        string          `json:"type"`
		Team        teamRef         `json:"team"`
		User        userRef         `json:"user"`
		APIAppID    string          `json:"api_app_id"`
		Container   container       `json:"container"`
		TriggerID   string          `json:"trigger_id"`
		Channel     channelRef      `json:"channel"`
		Message     *payloadMessage `json:"message,omitempty"`
		State       stateValues     `json:"state"`
		ResponseURL string          `json:"response_url"`
		Actions     []action        `json:"actions"`
	}
)

// clickRequest is a click on the page.
type clickRequest struct {
	Channel        string `json:"channel"`
	TS             string `json:"ts"`
	BlockID        string `json:"block_id"`
	ActionID       string `json:"action_id"`
	Value          string `json:"value"`
	SelectedOption *struct {
		Value string `json:"value"`
	} `json:"selected_option"`
	User string `json:"user"`
	// Ephemeral says that TS is an ephemeral message of User.
	Ephemeral bool `json:"ephemeral"`
}

// click turns a click on the page into the block_actions payload Slack would
// send, and hands it to amslack.
func (h *Handler) click(ctx context.Context, req clickRequest) (apiResult, error) {
	if h.fake == nil || h.interactions == nil {
		return apiResult{}, errors.New("the preview has no fake Slack or no interaction handler")
	}
	if req.Channel == "" || req.TS == "" || req.ActionID == "" {
		return apiResult{}, fmt.Errorf("%w: channel, ts and action_id are required", errRequest)
	}
	u, ok := h.user(req.User)
	if !ok {
		return apiResult{}, fmt.Errorf("%w: unknown user %q", errRequest, req.User)
	}
	p := blockActions{
		Type: "block_actions", Team: team(), User: userOf(u), APIAppID: appID,
		Container: container{Type: "message", MessageTS: req.TS, ChannelID: req.Channel, IsEphemeral: req.Ephemeral},
		Channel:   channelRef{ID: req.Channel, Name: req.Channel},
		State:     stateValues{Values: map[string]map[string]any{}},
	}
	blocks, err := h.clickedBlocks(req, u, &p)
	if err != nil {
		return apiResult{}, err
	}
	el, ok := findElement(blocks, req.BlockID, req.ActionID)
	if !ok {
		return apiResult{}, fmt.Errorf("%w: no element %q in block %q of %s", errNotFound, req.ActionID, req.BlockID, req.TS)
	}
	a, err := h.clickAction(el, req, &p)
	if err != nil {
		return apiResult{}, err
	}
	p.Actions = []action{a}
	p.TriggerID = h.newTrigger(u.ID)

	status, body, err := h.deliver(ctx, p)
	if err != nil {
		return apiResult{}, err
	}
	h.logger.Info("Preview click delivered", "channel", req.Channel, "ts", req.TS,
		"action_id", req.ActionID, "user", u.ID, "status", status)
	return apiResult{Status: status, Body: body}, nil
}

// clickedBlocks returns the blocks of the message or ephemeral message that
// req clicks, and adds that message and its response_url to p.
func (h *Handler) clickedBlocks(req clickRequest, u slackfake.User, p *blockActions) (json.RawMessage, error) {
	if req.Ephemeral {
		eph := h.fake.Ephemerals(req.Channel)
		i := slices.IndexFunc(eph, func(e slackfake.Ephemeral) bool {
			return e.TS == req.TS && e.User == u.ID
		})
		if i < 0 {
			return nil, fmt.Errorf("%w: no ephemeral message %s for %s in %s", errNotFound, req.TS, u.ID, req.Channel)
		}
		// Slack sends no message with a click on an ephemeral message, and
		// its response_url has no message to replace but the ephemeral.
		p.ResponseURL = h.fake.NewResponseURL(h.baseURL, req.Channel, u.ID, "")
		return eph[i].Blocks, nil
	}
	m, ok := h.fake.Message(req.Channel, req.TS)
	if !ok || m.Deleted {
		return nil, fmt.Errorf("%w: no message %s in %s", errNotFound, req.TS, req.Channel)
	}
	p.Container.ThreadTS = m.ThreadTS
	p.Message = &payloadMessage{
		Type: "message", Subtype: "bot_message", User: slackfake.BotUserID, BotID: slackfake.BotID,
		AppID: appID, Team: slackfake.TeamID, Text: m.Text, TS: m.TS, ThreadTS: m.ThreadTS, Blocks: m.Blocks,
	}
	if p.Message.Blocks == nil {
		p.Message.Blocks = json.RawMessage("[]")
	}
	p.ResponseURL = h.fake.NewResponseURL(h.baseURL, req.Channel, u.ID, m.TS)
	return m.Blocks, nil
}

// clickAction returns the action of a click on el, and adds the choice of a
// stateful element to p's state.
func (h *Handler) clickAction(el element, req clickRequest, p *blockActions) (action, error) {
	value := req.Value
	if req.SelectedOption != nil {
		value = req.SelectedOption.Value
	}
	a, err := h.actionOf(el, req.BlockID, value)
	if err != nil {
		return action{}, err
	}
	if a.SelectedOption != nil && el.Type != "overflow" {
		// Slack reports the current choice of stateful elements in
		// state.values[block_id][action_id].
		p.State.Values[req.BlockID] = map[string]any{
			el.ActionID: map[string]any{"type": el.Type, "selected_option": *a.SelectedOption},
		}
	}
	return a, nil
}

// actionOf returns the action of a click on el in the block blockID: value
// is the chosen option of a select, or the text of an input that sends its
// actions (dispatch_action), and is ignored for a button, whose value is
// the one posted, whatever the page sent.
func (h *Handler) actionOf(el element, blockID, value string) (action, error) {
	a := action{
		Type: el.Type, ActionID: el.ActionID, BlockID: blockID, ActionTS: h.actionTS(),
	}
	switch el.Type {
	case "button":
		a.Text, a.Value, a.Style = el.Text, el.Value, el.Style
	case "static_select", "overflow", "radio_buttons":
		opt, ok := el.option(value)
		if !ok {
			return action{}, fmt.Errorf("%w: %q is not an option of %q", errRequest, value, el.ActionID)
		}
		a.SelectedOption = &opt
		a.Placeholder = el.Placeholder
	case "plain_text_input":
		a.Value = value
	default:
		return action{}, fmt.Errorf("%w: the preview cannot click a %s", errRequest, el.Type)
	}
	return a, nil
}

// newTrigger issues a trigger_id and remembers who it belongs to.
func (h *Handler) newTrigger(user string) string {
	id := h.fake.NewTriggerID()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.openers[id] = user
	return id
}

// actionTS is an action_ts in Slack's "seconds.micros" form.
func (h *Handler) actionTS() string {
	us := h.now().UnixMicro()
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

func team() teamRef { return teamRef{ID: slackfake.TeamID, Domain: "slackfake"} }

func userOf(u slackfake.User) userRef {
	return userRef{ID: u.ID, Username: u.Name, Name: u.Name, TeamID: slackfake.TeamID}
}

// Slack's request signing headers
// (https://docs.slack.dev/authentication/verifying-requests-from-slack).
const (
	headerTimestamp = "X-Slack-Request-Timestamp"
	headerSignature = "X-Slack-Signature"
)

// sign returns Slack's v0 signature of body sent at timestamp:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
func sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// deliver posts payload to amslack's interaction handler as Slack does: a
// form with one field, payload, signed with the signing secret.
func (h *Handler) deliver(ctx context.Context, payload any) (int, string, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return 0, "", fmt.Errorf("encode payload: %w", err)
	}
	body := []byte(url.Values{"payload": {string(b)}}.Encode())
	ts := strconv.FormatInt(h.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/slack/interactions", strings.NewReader(string(body)))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(headerTimestamp, ts)
	req.Header.Set(headerSignature, sign(h.secret, ts, body))
	status, answer := callHandler(h.interactions, req)
	return status, answer, nil
}
