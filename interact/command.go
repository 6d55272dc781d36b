package interact

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
	// maxCommandLines caps the groups listed in one answer.
	maxCommandLines = 20
	// maxCommandText keeps the answer within the 4000 characters that a
	// message's text should not pass (Slack truncates long text), leaving
	// room for the "…and N more" line.
	maxCommandText = 3800
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
		h.smetrics.rejected.WithLabelValues(endpointCommands, rejectMalformed).Inc()
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
		reply = ephemeral(helpText(cmd.Command))
	case subAlerts:
		reply = h.listGroups(ctx, cmd, alertLines)
	case subSilences:
		reply = h.listGroups(ctx, cmd, silenceLines)
	default:
		label = subUnknown
		reply = ephemeral(fmt.Sprintf("amslack: unknown command `%s`.\n\n%s", render.EscapeMrkdwn(clipRunes(sub, 40)), helpText(cmd.Command)))
	}
	h.smetrics.commands.WithLabelValues(label).Inc()
	err := h.audit.write(AuditEntry{
		Time:     h.now().UTC(),
		Team:     cmd.TeamID,
		Channel:  cmd.ChannelID,
		UserID:   cmd.UserID,
		UserName: cmd.UserName,
		Action:   ActionCommand,
		Value:    clipRunes(strings.TrimSpace(cmd.Command+" "+cmd.Text), maxAuditValue),
		Decision: DecisionAllowed,
		Result:   label,
	})
	if err != nil {
		h.logger.Error("cannot write audit log", "err", err)
	}
	return reply
}

func helpText(command string) string {
	c := cmp.Or(strings.TrimSpace(command), "/amslack")
	return fmt.Sprintf("*amslack* posts Alertmanager alerts to Slack and acts on them.\n"+
		"`%[1]s alerts` lists the firing alert groups amslack posted in this channel.\n"+
		"`%[1]s silences` lists this channel's alert groups silenced or acknowledged from Slack.\n"+
		"`%[1]s help` shows this help.", render.EscapeMrkdwn(c))
}

// lineFunc returns the line of a group in an answer, or "" to leave the
// group out. now is the handler's clock.
type lineFunc func(h *Handler, cmd slack.SlashCommand, g alertgroup.Group, now time.Time) string

// listGroups answers alerts and silences: one line per group, most severe
// and most recently changed first, within Slack's limits.
func (h *Handler) listGroups(ctx context.Context, cmd slack.SlashCommand, line lineFunc) CommandReply {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	groups, err := h.groups.List(ctx)
	if err != nil {
		h.logger.Error("cannot list alert groups", "err", err)
		return ephemeral("amslack could not read its alert groups. Try again in a moment.")
	}
	slices.SortStableFunc(groups, func(a, b alertgroup.Group) int {
		return cmp.Or(
			cmp.Compare(render.SeverityRank(groupSeverity(b)), render.SeverityRank(groupSeverity(a))),
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
		if l := line(h, cmd, g, now); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		if subcommand(cmd.Text) == subSilences {
			return ephemeral("No alert group is silenced or acknowledged from Slack.")
		}
		return ephemeral("No alert group amslack tracks is firing.")
	}
	var b strings.Builder
	n, size := 0, 0
	for _, l := range lines {
		r := utf8.RuneCountInString(l) + 1
		if n == maxCommandLines || size+r > maxCommandText {
			break
		}
		b.WriteString(l)
		b.WriteByte('\n')
		n, size = n+1, size+r
	}
	if rest := len(lines) - n; rest > 0 {
		fmt.Fprintf(&b, "…and %d more", rest)
	}
	return ephemeral(strings.TrimSuffix(b.String(), "\n"))
}

// alertLines lists firing groups: severity, name, firing alerts, channel,
// message link, acknowledgement and silence.
func alertLines(h *Handler, cmd slack.SlashCommand, g alertgroup.Group, now time.Time) string {
	if g.Status != alertgroup.StatusFiring || g.Message == nil || g.Message.Data == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s — %d firing in %s", render.SeverityIcon(groupSeverity(g)), groupName(g), firingCount(g), channelMention(g.Key.Channel))
	if l := h.permalink(cmd.TeamDomain, g.Key.Channel, g.TS); l != "" {
		fmt.Fprintf(&b, " · <%s|message>", l)
	}
	if a := g.State.Acked; a != nil {
		fmt.Fprintf(&b, " · ✋ acked by %s", render.Mention(a.By))
	}
	if s := g.State.Silenced; s != nil && (s.Until.IsZero() || s.Until.After(now)) {
		fmt.Fprintf(&b, " · 🔕 silenced until %s", formatUntil(s.Until))
	}
	return b.String()
}

// silenceLines lists the groups with a current amslack silence or
// acknowledgement: who, until when.
func silenceLines(h *Handler, cmd slack.SlashCommand, g alertgroup.Group, now time.Time) string {
	current := func(m *alertgroup.Mark) bool { return m != nil && (m.Until.IsZero() || m.Until.After(now)) }
	s, a := g.State.Silenced, g.State.Acked
	if !current(s) && !current(a) {
		return ""
	}
	var parts []string
	if current(s) {
		parts = append(parts, "🔕 silenced by "+render.Mention(s.By)+markDetail(s))
	}
	if current(a) {
		parts = append(parts, "✋ acknowledged by "+render.Mention(a.By)+markDetail(a))
	}
	line := fmt.Sprintf("%s in %s: %s", groupName(g), channelMention(g.Key.Channel), strings.Join(parts, "; "))
	if l := h.permalink(cmd.TeamDomain, g.Key.Channel, g.TS); l != "" {
		line += fmt.Sprintf(" · <%s|message>", l)
	}
	return line
}

func markDetail(m *alertgroup.Mark) string {
	var s string
	if !m.Until.IsZero() {
		s = " until " + formatUntil(m.Until)
	}
	if m.SilenceID != "" {
		s += " (silence `" + render.EscapeMrkdwn(clipRunes(m.SilenceID, 64)) + "`)"
	}
	return s
}

// groupName is the group's alertname in bold, then its other group labels.
func groupName(g alertgroup.Group) string {
	d := g.Message.Data
	ls := d.GroupLabels
	name := cmp.Or(ls["alertname"], d.CommonLabels["alertname"], g.Key.GroupKey, "Alert group")
	var others []string
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		if k != "alertname" {
			others = append(others, k+"="+ls[k])
		}
	}
	s := "*" + render.EscapeMrkdwn(clipRunes(oneLine(name), 80)) + "*"
	if len(others) > 0 {
		s += " (" + render.EscapeMrkdwn(clipRunes(oneLine(strings.Join(others, ", ")), 80)) + ")"
	}
	return s
}

func firingCount(g alertgroup.Group) int {
	n := 0
	if len(g.Alerts) > 0 {
		for _, st := range g.Alerts {
			if st == alertgroup.StatusFiring {
				n++
			}
		}
		return n
	}
	for _, a := range g.Message.Alerts {
		if a.Status == alertgroup.StatusFiring {
			n++
		}
	}
	return n
}

// channelMention links a channel ID (C…, G…); a channel given by name is
// shown as text.
func channelMention(ch string) string {
	if len(ch) > 1 && (ch[0] == 'C' || ch[0] == 'G') && strings.IndexFunc(ch, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return "<#" + ch + ">"
	}
	return render.EscapeMrkdwn(clipRunes(ch, 80))
}

// groupSeverity is the group's severity as its message shows it.
func groupSeverity(g alertgroup.Group) string { return render.Severity(g.Message.Data) }

// oneLine joins the lines of s with spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// clipRunes cuts s to at most n runes, ending in "…" when cut: Slack
// counts characters, not bytes.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
