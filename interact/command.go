package interact

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/alertmanager/pkg/labels"
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

// Subcommands of /amslack beyond those of surfaces.go, the bounded values
// of the subcommand label.
const (
	subSilence   = "silence"
	subUnsilence = "unsilence"
)

// commandArgs returns a command's text after its first word.
func commandArgs(text string) string {
	text = strings.TrimSpace(text)
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		return strings.TrimSpace(text[i:])
	}
	return ""
}

// Command answers one verified slash command from any transport (the HTTP
// handler, Socket Mode). Whatever the command's name, its text decides:
// help (the default), alerts [matchers], silences, silence (which opens the
// silence preview) or unsilence <id>. Every command is audited. The
// answer is immediate; silence and unsilence finish on a worker, which
// tells the outcome through the command's response_url.
func (h *Handler) Command(ctx context.Context, cmd slack.SlashCommand) CommandReply {
	sub := subcommand(cmd.Text)
	label := sub
	var reply CommandReply
	switch sub {
	case subHelp:
		reply = ephemeral(render.CommandHelp(cmd.Command))
	case subAlerts:
		reply = h.commandAlerts(ctx, cmd)
	case subSilences:
		reply = h.listGroups(ctx, cmd, render.SilenceLine, render.CommandNoSilenced)
	case subSilence:
		reply = h.commandSilence(cmd)
	case subUnsilence:
		reply = h.commandUnsilence(cmd)
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
// and most recently changed first, within Slack's limits; none is the
// answer when no group has a line.
func (h *Handler) listGroups(ctx context.Context, cmd slack.SlashCommand, line lineFunc, none string) CommandReply {
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
		return ephemeral(none)
	}
	return ephemeral(render.CommandList(lines))
}

// commandAlerts answers alerts [matchers]: the channel's firing groups, or
// those with a firing alert that all the matchers match.
func (h *Handler) commandAlerts(ctx context.Context, cmd slack.SlashCommand) CommandReply {
	args := commandArgs(cmd.Text)
	if args == "" {
		return h.listGroups(ctx, cmd, render.AlertLine, render.CommandNoFiring)
	}
	ms, err := parseMatcherList(args)
	if err != nil {
		return ephemeral(render.CommandError(err, cmd.Command))
	}
	line := func(g alertgroup.Group, link string, now time.Time) string {
		if !groupAlertMatches(g, ms) {
			return ""
		}
		return render.AlertLine(g, link, now)
	}
	return h.listGroups(ctx, cmd, line, render.CommandNoMatch(matchersString(ms)))
}

// groupAlertMatches reports whether one of g's firing alerts has labels
// that all of ms match.
func groupAlertMatches(g alertgroup.Group, ms labels.Matchers) bool {
	if g.Message == nil || g.Message.Data == nil {
		return false
	}
	for _, a := range g.Message.Alerts {
		if a.Status == alertgroup.StatusFiring && matches(ms, a.Labels) {
			return true
		}
	}
	return false
}

// commandSilence answers silence <matchers> [for <duration>|until <time>]
// [comment]: it checks the text, and a worker opens the silence preview
// with the command's trigger_id (valid for 3 seconds), once the user is
// found to be one the silence rule names.
func (h *Handler) commandSilence(cmd slack.SlashCommand) CommandReply {
	sc, err := parseSilenceCommand(commandArgs(cmd.Text))
	if err != nil {
		return ephemeral(render.CommandError(err, cmd.Command))
	}
	if h.slack == nil || cmd.TriggerID == "" {
		return ephemeral("The silence preview needs amslack's Slack bot token and the command's trigger_id; create the silence in Alertmanager instead.")
	}
	meta := previewMetadata{
		Source: previewFromCommand, Team: cmd.TeamID, TeamDomain: cmd.TeamDomain, Channel: cmd.ChannelID,
		ResponseURL: cmd.ResponseURL,
	}
	in := previewInput{matchers: matchersString(sc.matchers), end: cmp.Or(sc.end, defaultPreviewEnd), comment: sc.comment}
	if len([]rune(in.matchers)) > render.MaxPreviewMatchers {
		return ephemeral(render.CommandError(fmt.Errorf("the matchers are longer than %d characters", render.MaxPreviewMatchers), cmd.Command))
	}
	work := func(ctx context.Context) {
		// Only the rule's users and user groups: its matchers are
		// checked against the silence, in the preview and when it is
		// submitted.
		r := h.silenceRule
		r.Matchers, r.ParsedMatchers = nil, nil
		reason, err := h.authorize(ctx, r, cmd.UserID, nil)
		if err != nil {
			h.logger.Error("cannot check authorization", "err", err)
			reason = "amslack could not check whether you may do this (Slack user groups are unavailable). Try again in a moment."
		}
		if reason != "" {
			h.respond(ctx, cmd.ResponseURL, reason)
			return
		}
		if o := h.openPreviewView(ctx, cmd.TriggerID, cmd.UserID, meta, in, nil); o.err != nil {
			h.logger.Warn("cannot open the silence preview", "err", o.err)
			h.respond(ctx, cmd.ResponseURL, o.text)
		}
	}
	select {
	case h.queue <- work:
		return ephemeral(render.CommandPreviewOpening)
	default:
		return ephemeral("amslack is overloaded, try again in a moment.")
	}
}

// silenceID matches the silence ids Alertmanager gives (UUIDs), and
// other ids of a reasonable shape.
var silenceID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// commandUnsilence answers unsilence <id>: a worker expires the silence,
// as the Unsilence button would, and says how it went.
func (h *Handler) commandUnsilence(cmd slack.SlashCommand) CommandReply {
	id := commandArgs(cmd.Text)
	if !silenceID.MatchString(id) {
		return ephemeral(render.CommandError(fmt.Errorf("give the id of the silence to expire, such as unsilence 0f1e2d3c-…; %s is not one", quote(id)), cmd.Command))
	}
	c := click{
		team: cmd.TeamID, teamDomain: cmd.TeamDomain, channel: cmd.ChannelID,
		user:   alertgroup.User{ID: cmd.UserID, Name: cmd.UserName},
		action: ActionUnsilence, value: id, responseURL: cmd.ResponseURL,
	}
	select {
	case h.queue <- func(ctx context.Context) { h.respond(ctx, c.responseURL, h.unsilenceByID(ctx, c, id)) }:
		return ephemeral(render.CommandUnsilencing(id))
	default:
		return ephemeral("amslack is overloaded, try again in a moment.")
	}
}
