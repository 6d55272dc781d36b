package interact

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// click is one action taken by one person on one message, whatever the
// transport and payload type it came in.
type click struct {
	team       string
	teamDomain string
	channel    string
	ts         string // the message's ts
	user       alertgroup.User
	action     string // action_id
	value      string
	// comment is the free text of the custom silence dialog.
	comment     string
	triggerID   string
	responseURL string
	// viewID is set when the click is a dialog submission.
	viewID string
}

// dedupKey identifies a click for de-duplication: the same person making
// the same choice on the same message. A dialog submission is keyed on its
// view as well, so that each opened dialog counts once.
func (c click) dedupKey() string {
	return strings.Join([]string{c.team, c.channel, c.ts, c.action, c.user.ID, c.value, c.viewID}, "\x1f")
}

// messageKey is the start of the dedupKey of every click on c's message
// with the given action_id, whoever made it and whatever they chose.
func (c click) messageKey(action string) string {
	return strings.Join([]string{c.team, c.channel, c.ts, action, ""}, "\x1f")
}

// opensDialog reports whether the click asks for the silence preview: the
// Custom silence… button, or the alert select's option for the alerts it
// cannot list.
func (c click) opensDialog() bool {
	return c.viewID == "" && (c.value == CustomSilence || c.action == ActionSilenceAlert && c.value == render.MoreAlertsValue)
}

// clicksFrom returns the clicks of a block_actions payload; Slack sends one
// action per payload, but the field is a list.
func clicksFrom(cb slack.InteractionCallback) []click {
	base := click{
		team:        cmpOr(cb.Team.ID, cb.User.TeamID),
		teamDomain:  cb.Team.Domain,
		channel:     cmpOr(cb.Container.ChannelID, cb.Channel.ID),
		ts:          cmpOr(cb.Container.MessageTs, cb.Message.Timestamp),
		user:        alertgroup.User{ID: cb.User.ID, Name: cmpOr(cb.User.Name, cb.User.Username)},
		triggerID:   cb.TriggerID,
		responseURL: cb.ResponseURL,
	}
	var out []click
	for _, a := range cb.ActionCallback.BlockActions {
		if a == nil {
			continue
		}
		c := base
		c.action = a.ActionID
		c.value = a.Value
		if a.SelectedOption.Value != "" {
			c.value = a.SelectedOption.Value
		}
		out = append(out, c)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// The custom silence dialog's ids, which its submission carries back.
const (
	silenceViewID   = render.SilenceViewID
	durationBlockID = render.DurationBlockID
	commentBlockID  = render.CommentBlockID
	maxComment      = render.MaxSilenceComment
)

// silenceMetadata travels in the dialog's private_metadata (Slack: at most
// 3000 characters) from the click that opened it to its submission.
type silenceMetadata struct {
	Team        string `json:"team"`
	TeamDomain  string `json:"domain,omitempty"`
	Channel     string `json:"channel"`
	TS          string `json:"ts"`
	ResponseURL string `json:"response_url,omitempty"`
}

func silenceView(c click) (slack.ModalViewRequest, error) {
	meta, err := json.Marshal(silenceMetadata{
		Team: c.team, TeamDomain: c.teamDomain, Channel: c.channel, TS: c.ts, ResponseURL: c.responseURL,
	})
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	if len(meta) > 3000 {
		return slack.ModalViewRequest{}, fmt.Errorf("dialog metadata is %d bytes, Slack allows 3000", len(meta))
	}
	return render.SilenceModal(string(meta)), nil
}

// submissionClick turns a submitted silence dialog into a silence click, or
// returns the messages to show next to invalid fields.
func submissionClick(cb slack.InteractionCallback) (click, map[string]string) {
	var meta silenceMetadata
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil || meta.Channel == "" || meta.TS == "" {
		return click{}, map[string]string{durationBlockID: "This dialog has expired; pick the duration again from the message."}
	}
	var values map[string]map[string]slack.BlockAction
	if cb.View.State != nil {
		values = cb.View.State.Values
	}
	raw := strings.TrimSpace(values[durationBlockID][durationBlockID].Value)
	if _, err := parseSilenceDuration(raw); err != nil {
		return click{}, map[string]string{durationBlockID: err.Error()}
	}
	comment := strings.TrimSpace(values[commentBlockID][commentBlockID].Value)
	if r := []rune(comment); len(r) > maxComment {
		comment = string(r[:maxComment])
	}
	return click{
		team:        cmpOr(meta.Team, cmpOr(cb.Team.ID, cb.User.TeamID)),
		teamDomain:  meta.TeamDomain,
		channel:     meta.Channel,
		ts:          meta.TS,
		user:        alertgroup.User{ID: cb.User.ID, Name: cmpOr(cb.User.Name, cb.User.Username)},
		action:      ActionSilence,
		value:       raw,
		comment:     comment,
		responseURL: meta.ResponseURL,
		viewID:      cb.View.ID,
	}, nil
}

// parseSilenceDuration accepts Prometheus durations ("1h", "2d", "1h30m")
// up to 30 days.
func parseSilenceDuration(s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; use forms such as 45m, 4h or 2d", s)
	}
	if d <= 0 || time.Duration(d) > maxSilence {
		return 0, fmt.Errorf("%q is out of range; silences last from 1s to 30d", s)
	}
	return time.Duration(d), nil
}
