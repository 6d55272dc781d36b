package interact

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// ActionCommand is the audit log's action for a slash command.
const ActionCommand = "command"

// Limits of a command's answer.
const (
	// commandTimeout bounds the store read behind an answer: Slack shows
	// operation_timeout when the answer takes more than 3000 ms, network
	// included.
	commandTimeout = 2 * time.Second
	// maxAuditValue bounds the command text kept in the audit log.
	maxAuditValue = 200
)

// CommandReply is the answer to a slash command: the body of the HTTP
// answer, or the payload of the Socket Mode acknowledgement.
type CommandReply struct {
	// ResponseType is "ephemeral": only the person who typed the command
	// sees the answer.
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

func ephemeral(text string) CommandReply {
	return CommandReply{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

// ServeCommands handles POST /slack/commands. It verifies the request like
// ServeHTTP, and answers at once with an ephemeral message.
func (h *Handler) ServeCommands(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readBody(w, r, endpointCommands, false)
	if !ok {
		return
	}
	// Slack checks a new command URL's certificate with a POST carrying
	// ssl_check=1, and expects an empty 200. The answer does and reveals
	// nothing, so it is given before, and whatever the result of,
	// verification.
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("ssl_check") == "1" {
		w.WriteHeader(http.StatusOK)
		return
	}
	if !h.verify(w, r, body, endpointCommands, false) {
		return
	}
	cmd, err := ParseCommand(body)
	if err != nil {
		h.countRejected(endpointCommands, rejectMalformed)
		h.logger.Warn("malformed slash command", "err", err)
		http.Error(w, "malformed slash command", http.StatusBadRequest)
		return
	}
	reply := h.Command(r.Context(), cmd)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}

// ErrIncompleteCommand is returned by ParseCommand for a form without a
// command or user_id.
var ErrIncompleteCommand = errors.New("form has no command or user_id")

// ParseCommand decodes a verified slash command request body: a form with
// the fields of slack.SlashCommand.
func ParseCommand(body []byte) (slack.SlashCommand, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return slack.SlashCommand{}, fmt.Errorf("decode form: %w", err)
	}
	cmd := slack.SlashCommand{
		Token:               form.Get("token"),
		TeamID:              form.Get("team_id"),
		TeamDomain:          form.Get("team_domain"),
		EnterpriseID:        form.Get("enterprise_id"),
		EnterpriseName:      form.Get("enterprise_name"),
		IsEnterpriseInstall: form.Get("is_enterprise_install") == "true",
		ChannelID:           form.Get("channel_id"),
		ChannelName:         form.Get("channel_name"),
		UserID:              form.Get("user_id"),
		UserName:            form.Get("user_name"),
		Command:             form.Get("command"),
		Text:                form.Get("text"),
		ResponseURL:         form.Get("response_url"),
		TriggerID:           form.Get("trigger_id"),
		APIAppID:            form.Get("api_app_id"),
	}
	if cmd.Command == "" || cmd.UserID == "" {
		return slack.SlashCommand{}, ErrIncompleteCommand
	}
	return cmd, nil
}

// subcommand returns the first word of a command's text, lower-cased;
// "help" when there is none.
func subcommand(text string) string {
	f := strings.Fields(text)
	if len(f) == 0 {
		return subHelp
	}
	return strings.ToLower(f[0])
}

// Command answers one verified slash command from any transport (the HTTP
// handler, Socket Mode). Whatever the command's name, its text decides:
// help (the default), alerts or silences. Every command is audited.
func (h *Handler) Command(ctx context.Context, cmd slack.SlashCommand) CommandReply {
	sub := subcommand(cmd.Text)
	label := sub
	var reply CommandReply
	switch sub {
	case subHelp:
		reply = ephemeral(render.CommandHelp(cmd.Command))
	case subAlerts:
		reply = h.listGroups(ctx, cmd, render.AlertLine)
	case subSilences:
		reply = h.listGroups(ctx, cmd, render.SilenceLine)
	default:
		label = subUnknown
		reply = ephemeral(render.CommandUnknown(sub, cmd.Command))
	}
	h.smetrics.commands.WithLabelValues(label).Inc()
	err := h.audit.write(AuditEntry{
		Time:     h.now().UTC(),
		Team:     cmd.TeamID,
		Channel:  cmd.ChannelID,
		UserID:   cmd.UserID,
		UserName: cmd.UserName,
		Action:   ActionCommand,
		Value:    render.Clip(strings.TrimSpace(cmd.Command+" "+cmd.Text), maxAuditValue),
		Decision: DecisionAllowed,
		Result:   label,
	})
	if err != nil {
		h.logger.Error("cannot write audit log", "err", err)
	}
	return reply
}

// lineFunc returns the line of a group in an answer, or "" to leave the
// group out: link is the permalink of the group's message, now is the
// handler's clock.
type lineFunc func(g alertgroup.Group, link string, now time.Time) string

// listGroups answers alerts and silences: one line per group, most severe
// and most recently changed first, within Slack's limits.
func (h *Handler) listGroups(ctx context.Context, cmd slack.SlashCommand, line lineFunc) CommandReply {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	groups, err := h.groups.List(ctx)
	if err != nil {
		h.logger.Error("cannot list alert groups", "err", err)
		return ephemeral(render.CommandListFailed)
	}
	slices.SortStableFunc(groups, func(a, b alertgroup.Group) int {
		return cmp.Or(
			cmp.Compare(render.SeverityRank(render.Severity(b.Message.Data)), render.SeverityRank(render.Severity(a.Message.Data))),
			b.UpdatedAt.Compare(a.UpdatedAt),
		)
	})
	now := h.now()
	var lines []string
	for _, g := range groups {
		// Only the channel's own groups: the command is open to everyone
		// in the workspace, and other channels may be private.
		if g.Key.Channel != cmd.ChannelID {
			continue
		}
		if l := line(g, h.permalink(cmd.TeamDomain, g.Key.Channel, g.TS), now); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		if subcommand(cmd.Text) == subSilences {
			return ephemeral(render.CommandNoSilenced)
		}
		return ephemeral(render.CommandNoFiring)
	}
	return ephemeral(render.CommandList(lines))
}
