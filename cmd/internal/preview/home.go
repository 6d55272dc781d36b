package preview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// homeRequest opens a user's App Home on the page.
type homeRequest struct {
	User string `json:"user"`
}

// Shapes of an Events API request carrying app_home_opened, as Slack's
// references list their fields
// (https://docs.slack.dev/apis/events-api/#callback-field and
// https://docs.slack.dev/reference/events/app_home_opened).
type (
	eventEnvelope struct {
		Token     string `json:"token"`
		TeamID    string `json:"team_id"`
		APIAppID  string `json:"api_app_id"`
		Event     any    `json:"event"`
		Type      string `json:"type"`
		EventID   string `json:"event_id"`
		EventTime int64  `json:"event_time"`
	}
	appHomeOpened struct {
		Type    string `json:"type"`
		User    string `json:"user"`
		Channel string `json:"channel"`
		Tab     string `json:"tab"`
		EventTS string `json:"event_ts"`
		// View is the Home view the user has, absent before the first
		// views.publish.
		View map[string]any `json:"view,omitempty"`
	}
)

// openHome sends amslack the app_home_opened event that Slack sends each
// time a user opens the app's Home tab; amslack answers with views.publish,
// which the page then shows.
func (h *Handler) openHome(ctx context.Context, req homeRequest) (apiResult, error) {
	if h.fake == nil || h.events == nil {
		return apiResult{}, errors.New("the preview has no fake Slack or no event handler: App Home needs amslack's Events API handler")
	}
	u, ok := h.user(req.User)
	if !ok {
		return apiResult{}, fmt.Errorf("%w: unknown user %q", errRequest, req.User)
	}
	now := h.now()
	ev := appHomeOpened{
		Type: "app_home_opened", User: u.ID, Channel: dmChannel(u.ID), Tab: "home", EventTS: h.actionTS(),
	}
	if v, ok := h.fake.Home(u.ID); ok {
		doc, err := viewDocument(v)
		if err != nil {
			return apiResult{}, err
		}
		ev.View = doc
	}
	h.mu.Lock()
	h.eventSeq++
	seq := h.eventSeq
	h.mu.Unlock()
	body, err := json.Marshal(eventEnvelope{
		Token: "preview", TeamID: team().ID, APIAppID: appID, Event: ev, Type: "event_callback",
		// amslack drops an event_id it has seen: each opening is a new
		// event, also after a restart of the preview.
		EventID:   "Ev" + strings.ToUpper(strconv.FormatInt(now.UnixMicro(), 36)+strconv.FormatInt(seq, 36)),
		EventTime: now.Unix(),
	})
	if err != nil {
		return apiResult{}, fmt.Errorf("encode event: %w", err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/slack/events", strings.NewReader(string(body)))
	if err != nil {
		return apiResult{}, err
	}
	// The Events API posts JSON, signed as interactions are.
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(headerTimestamp, ts)
	r.Header.Set(headerSignature, sign(h.secret, ts, body))
	status, answer := callHandler(h.events, r)
	h.logger.Info("Preview App Home opened", "user", u.ID, "status", status)
	return apiResult{Status: status, Body: answer}, nil
}

// dmChannel is the id of the fake direct-message channel between the app
// and user, which app_home_opened names.
func dmChannel(user string) string {
	return "D" + strings.TrimPrefix(user, "U")
}
