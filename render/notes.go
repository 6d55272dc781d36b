package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Markup is mrkdwn that amslack wrote itself, such as a mention, which
// Mrkdwnf keeps as it is.
type Markup string

// MentionMarkup names u in mrkdwn, as Mention does, for Mrkdwnf.
func MentionMarkup(u alertgroup.User) Markup { return Markup(Mention(u)) }

// Mrkdwnf formats like fmt.Sprintf, for text that Slack reads as mrkdwn:
// replies to the clicker, thread notes and command answers. Every string,
// error and fmt.Stringer argument is escaped with EscapeMrkdwn, because any
// of them may carry text from outside (an internal API's or Alertmanager's
// answer, a label, what someone typed), in which Slack would otherwise read
// <!channel> as a ping and <url|label> as a link. Markup arguments are kept
// as they are.
func Mrkdwnf(format string, args ...any) string {
	escaped := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case Markup:
			escaped[i] = string(v)
		case string:
			escaped[i] = escapeMrkdwn(v)
		case error:
			escaped[i] = escapeMrkdwn(v.Error())
		case fmt.Stringer:
			escaped[i] = escapeMrkdwn(v.String())
		default:
			escaped[i] = a
		}
	}
	return fmt.Sprintf(format, escaped...)
}

// Clip cuts s to at most limit runes, ending a cut result in "…": Slack
// counts characters, not bytes. It escapes nothing.
func Clip(s string, limit int) string { return clip(s, limit) }

// Until shows a time in replies and notes: in UTC, to the minute.
func Until(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

// ResultNote is the thread note for a run of the action labelled label:
// whether it succeeded, who approved it and what its internal API said.
func ResultNote(label string, approvers []alertgroup.User, res alertgroup.Result) string {
	who := make([]string, 0, len(approvers))
	for _, u := range approvers {
		who = append(who, Mention(u))
	}
	icon := "✅"
	if !res.OK {
		icon = "❌"
	}
	note := Mrkdwnf("%s %s, approved by %s", icon, label, Markup(strings.Join(who, ", ")))
	if res.Detail != "" {
		note += Mrkdwnf(": %s", res.Detail)
	}
	return note
}

// DuplicateClick tells the clicker why a repeated click did nothing: the
// first was made at at, and done reports whether it has been carried out.
func DuplicateClick(at time.Time, done bool) string {
	t := at.UTC().Format("15:04 MST")
	if done {
		return Mrkdwnf("Already done by you at %s; this click changed nothing.", t)
	}
	return Mrkdwnf("Your same click at %s is still being done; this click changed nothing.", t)
}

// MentionReply is the thread reply to a mention of the app by user, which
// may be "".
func MentionReply(user string) string {
	var b strings.Builder
	if user != "" {
		// The user comes from the event: Mention writes a mention only for
		// an ID of Slack's shape, and escapes anything else.
		b.WriteString("Hi " + Mention(alertgroup.User{ID: user}) + "! ")
	}
	b.WriteString("I post Alertmanager alerts here; use the buttons on an alert to acknowledge or silence it. " +
		"`/amslack alerts` lists the firing alert groups, `/amslack silences` the silenced and acknowledged ones, " +
		"and `/amslack help` says more.")
	return b.String()
}
