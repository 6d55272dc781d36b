package render

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Limits of a slash command's answer.
const (
	// MaxCommandLines caps the groups listed in one answer.
	MaxCommandLines = 20
	// maxCommandText keeps the answer within the 4000 characters that a
	// message's text should not pass (Slack truncates long text), leaving
	// room for the "…and N more" line.
	maxCommandText = 3800
)

// Answers of a slash command that carry no outside text.
const (
	CommandListFailed = "amslack could not read its alert groups. Try again in a moment."
	CommandNoSilenced = "No alert group is silenced or acknowledged from Slack."
	CommandNoFiring   = "No alert group amslack tracks is firing."
)

// CommandHelp is the answer to help, for the slash command named command
// ("/amslack" when empty).
func CommandHelp(command string) string {
	c := cmp.Or(strings.TrimSpace(command), "/amslack")
	return fmt.Sprintf("*amslack* posts Alertmanager alerts to Slack and acts on them.\n"+
		"`%[1]s alerts [matchers]` lists the firing alert groups amslack posted in this channel, or those with an alert the matchers match.\n"+
		"`%[1]s silences` lists this channel's alert groups silenced or acknowledged from Slack.\n"+
		"`%[1]s silence <matchers> [for <duration>|until <time>] [comment]` opens a preview of the silence, with the alerts it would match, before you create it. "+
		"Matchers are Alertmanager's, such as `alertname=\"DiskFull\", instance=~\"db-.*\"`; a duration is like `2h` or `1d`, a time like `18:00` or `2025-12-24 18:00` on your clock.\n"+
		"`%[1]s unsilence <id>` expires the Alertmanager silence with that id.\n"+
		"`%[1]s help` shows this help.", escapeMrkdwn(c))
}

// CommandError says what is wrong with the text of a slash command (err,
// which quotes the part at fault) and points at the help of the command
// named command.
func CommandError(err error, command string) string {
	c := cmp.Or(strings.TrimSpace(command), "/amslack")
	return Mrkdwnf("amslack: %v. See `%s help`.", err, c)
}

// CommandPreviewOpening answers /amslack silence while the preview opens.
const CommandPreviewOpening = "Opening the silence preview…"

// CommandUnsilencing answers /amslack unsilence while the silence id is
// being expired; the outcome follows.
func CommandUnsilencing(id string) string {
	return Mrkdwnf("Expiring silence %s…", id)
}

// CommandNoMatch answers /amslack alerts with matchers that no firing
// group's alert matches.
func CommandNoMatch(matchers string) string {
	return Mrkdwnf("No firing alert group in this channel has an alert that %s matches.", matchers)
}

// UnknownSilenceReply says that Alertmanager has no silence id.
func UnknownSilenceReply(id string) string {
	return Mrkdwnf("Alertmanager has no silence %s. Nothing was done.", id)
}

// SilenceAlreadyExpiredReply says that silence id had already ended.
func SilenceAlreadyExpiredReply(id string) string {
	return Mrkdwnf("Silence %s has already expired. Nothing was done.", id)
}

// CommandUnknown is the answer to an unknown subcommand sub: its name, then
// the help.
func CommandUnknown(sub, command string) string {
	return fmt.Sprintf("amslack: unknown command `%s`.\n\n%s", escapeMrkdwn(clip(sub, 40)), CommandHelp(command))
}

// CommandList joins the lines of an answer, within MaxCommandLines and
// Slack's limit on a message's text, ending in "…and N more" when lines
// were left out.
func CommandList(lines []string) string {
	var b strings.Builder
	n, size := 0, 0
	for _, l := range lines {
		r := utf8.RuneCountInString(l) + 1
		if n == MaxCommandLines || size+r > maxCommandText {
			break
		}
		b.WriteString(l)
		b.WriteByte('\n')
		n, size = n+1, size+r
	}
	if rest := len(lines) - n; rest > 0 {
		fmt.Fprintf(&b, "…and %d more", rest)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// AlertLine is the line of a firing group in the answer to alerts:
// severity, name, firing alerts, channel, message link, acknowledgement and
// silence. link is the message's permalink, or "" for none; now decides
// whether a silence is current. It is "" for a group that is not firing.
func AlertLine(g alertgroup.Group, link string, now time.Time) string {
	if g.Status != alertgroup.StatusFiring || g.Message == nil || g.Message.Data == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s — %d firing in %s", SeverityIcon(Severity(g.Message.Data)), commandGroupName(g), firingCount(g), channelMention(g.Key.Channel))
	if link != "" {
		fmt.Fprintf(&b, " · <%s|message>", link)
	}
	if a := g.State.Acked; a != nil {
		fmt.Fprintf(&b, " · ✋ acked by %s", Mention(a.By))
	}
	if s := g.State.Silenced; s != nil && (s.Until.IsZero() || s.Until.After(now)) {
		fmt.Fprintf(&b, " · 🔕 silenced until %s", Until(s.Until))
	}
	return b.String()
}

// SilenceLine is the line of a group in the answer to silences: who
// silenced or acknowledged it from Slack, until when. link is the message's
// permalink, or "" for none. It is "" for a group with no current silence
// or acknowledgement at now.
func SilenceLine(g alertgroup.Group, link string, now time.Time) string {
	current := func(m *alertgroup.Mark) bool { return m != nil && (m.Until.IsZero() || m.Until.After(now)) }
	s, a := g.State.Silenced, g.State.Acked
	if !current(s) && !current(a) {
		return ""
	}
	var parts []string
	if current(s) {
		parts = append(parts, "🔕 silenced by "+Mention(s.By)+markDetail(s))
	}
	if current(a) {
		parts = append(parts, "✋ acknowledged by "+Mention(a.By)+markDetail(a))
	}
	line := fmt.Sprintf("%s in %s: %s", commandGroupName(g), channelMention(g.Key.Channel), strings.Join(parts, "; "))
	if link != "" {
		line += fmt.Sprintf(" · <%s|message>", link)
	}
	return line
}

func markDetail(m *alertgroup.Mark) string {
	var s string
	if !m.Until.IsZero() {
		s = " until " + Until(m.Until)
	}
	if m.SilenceID != "" {
		s += " (silence `" + escapeMrkdwn(clip(m.SilenceID, 64)) + "`)"
	}
	return s
}

// commandGroupName is the group's alertname in bold, then its other group
// labels.
func commandGroupName(g alertgroup.Group) string {
	d := g.Message.Data
	ls := d.GroupLabels
	name := cmp.Or(ls["alertname"], d.CommonLabels["alertname"], g.Key.GroupKey, "Alert group")
	var others []string
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		if k != "alertname" {
			others = append(others, k+"="+ls[k])
		}
	}
	s := "*" + escapeMrkdwn(clip(joinFields(name), 80)) + "*"
	if len(others) > 0 {
		s += " (" + escapeMrkdwn(clip(joinFields(strings.Join(others, ", ")), 80)) + ")"
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
	return escapeMrkdwn(clip(ch, 80))
}

// joinFields joins the words of s with single spaces.
func joinFields(s string) string { return strings.Join(strings.Fields(s), " ") }
