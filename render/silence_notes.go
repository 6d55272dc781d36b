package render

import (
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// This file holds what a group's thread says about the Alertmanager
// silences that cover the group, from the silence's first sight to its
// end, and the replies to the clicks on Extend and Expire now. Ends are
// Slack date tokens, which each reader's client shows in their own time
// zone; replies to the clicker write times as Until does, like the other
// replies.

// Block id of the expiry warning's text; its buttons are in the
// blockActions block, as on a group's message.
const blockSilenceExpiring = "silence_expiring"

// capNoteMatchers bounds the matchers that a silence note quotes, in runes.
const capNoteMatchers = 300

// SilenceSeenNote is the thread note for a silence, made outside amslack,
// that was first seen covering the group: by made or last changed it, it
// ends at endsAt and lasts d in all; matchers are written as Alertmanager
// writes them.
func SilenceSeenNote(by alertgroup.User, endsAt time.Time, d time.Duration, matchers string) string {
	return Mrkdwnf("🔕 Silenced by %s until %s (%s): %s",
		MentionMarkup(by), Markup(slackDate(endsAt)), Markup(humanDuration(d)), Markup(codeSpan(matchers, capNoteMatchers)))
}

// SilenceChangedNote is the thread note for a silence that by changed in
// Alertmanager, which now ends at endsAt.
func SilenceChangedNote(by alertgroup.User, endsAt time.Time) string {
	return Mrkdwnf("✏️ Silence changed in Alertmanager by %s: it now ends %s", MentionMarkup(by), Markup(slackDate(endsAt)))
}

// SilenceExpiredNote is the thread note for a silence that ended while the
// group fires: firing of the alerts it covered fire now without any other
// silence. early says that it ended before its end time, in Alertmanager.
func SilenceExpiredNote(firing int, early bool) string {
	what := "🔔 Silence expired"
	if early {
		what = "🔔 Silence expired early in Alertmanager"
	}
	if firing == 0 {
		return what + "; none of its alerts fires unsilenced"
	}
	return what + ": " + plural(firing, "alert", "alerts") + " still firing"
}

// SilenceExtendedNote is the thread note for a silence that by extended by
// d, to end at until.
func SilenceExtendedNote(by alertgroup.User, d time.Duration, until time.Time) string {
	return Mrkdwnf("⏩ Silence extended by %s by %s, until %s", MentionMarkup(by), model.Duration(d), Markup(slackDate(until)))
}

// SilenceExpiredByNote is the thread note for a silence that by expired
// with Expire now.
func SilenceExpiredByNote(by alertgroup.User) string {
	return Mrkdwnf("🔔 Silence expired by %s", MentionMarkup(by))
}

// SilenceExpiring is the thread reply that warns that a silence ends
// soon, while the group still fires.
type SilenceExpiring struct {
	// By made the silence or changed it last.
	By alertgroup.User
	// EndsAt is the silence's end, and Left the time left until then.
	EndsAt time.Time
	Left   time.Duration
	// Matchers are written as Alertmanager writes them; not escaped.
	Matchers string
	// Controls are the reply's buttons, in order: the caller's extend and
	// expire buttons.
	Controls []Control
}

// SilenceExpiringMessage renders e: one section that says when the silence
// ends, then e's buttons. The text fallback, which notifications show,
// says the same without the matchers.
func SilenceExpiringMessage(e SilenceExpiring) Message {
	left := e.Left
	if left >= 30*time.Second {
		left = left.Round(time.Minute)
	}
	head := Mrkdwnf("⏳ Silence by %s expires in %s", MentionMarkup(e.By), Markup(humanDuration(left)))
	text := head + Mrkdwnf(" (%s): %s", Markup(slackDate(e.EndsAt)), Markup(codeSpan(e.Matchers, capNoteMatchers)))
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID(blockSilenceExpiring)),
	}
	if b := controlsBlock(e.Controls); b != nil {
		blocks = append(blocks, b)
	}
	return Message{Text: head, Blocks: slack.Blocks{BlockSet: blocks}}
}

// codeSpan writes s on one line as a code span of at most limit runes,
// escaped; backticks, which would end the span early, become quotes.
func codeSpan(s string, limit int) string {
	return "`" + clipEscaped(strings.ReplaceAll(oneLine(s), "`", "'"), limit) + "`"
}

// SilenceExtendedReply tells the clicker that silence id now lasts d
// longer, until until.
func SilenceExtendedReply(id string, d time.Duration, until time.Time) string {
	return Mrkdwnf("Silence %s extended by %s, until %s.", id, model.Duration(d), Until(until))
}

// SilenceEndedReply refuses to extend a silence that has ended.
const SilenceEndedReply = "This silence has ended, so there is nothing to extend. Nothing was done; silence the alerts again from the message if they still need it."

// SilenceNotHereReply refuses to act on a silence that does not cover the
// group whose thread or Home entry the click came from.
const SilenceNotHereReply = "amslack does not follow that silence on this alert group (any more), so it left it alone. Nothing was done."

// AckSilenceExtendReply refuses to extend an acknowledgement silence,
// which the reconciler extends while the group fires.
const AckSilenceExtendReply = "This is an acknowledgement silence, which amslack extends by itself while the alerts fire. Nothing was done."

// SilenceExtendTooLongReply refuses an extension that would make the
// silence end more than max from now.
func SilenceExtendTooLongReply(max time.Duration) string {
	return Mrkdwnf("Extending would make the silence end more than %s from now, longer than amslack allows. Nothing was done.", model.Duration(max))
}

// SilenceReadFailedReply says that amslack could not read the silence
// from Alertmanager (err).
func SilenceReadFailedReply(err error) string {
	return Mrkdwnf("amslack could not read the silence from Alertmanager: %v. Nothing was done; try again in a moment.", err)
}

// SilenceExtendFailedReply says that Alertmanager answered err to the
// extension of silence id.
func SilenceExtendFailedReply(id string, err error) string {
	return Mrkdwnf("Alertmanager did not extend silence %s: %v. Nothing was changed.", id, err)
}

// SilenceExtendRecordFailedReply says that silence id now lasts until
// until but that amslack could not record it (err).
func SilenceExtendRecordFailedReply(id string, until time.Time, err error) string {
	return Mrkdwnf("Silence %s now lasts until %s, but amslack could not update the message: %v.", id, Until(until), err)
}

// SilenceNotFollowedReply answers an Expire click on App Home for a
// silence that amslack no longer finds on any alert group it tracks.
const SilenceNotFollowedReply = "amslack no longer finds that silence on an alert group it tracks, so it left it alone. Expire it in Alertmanager if it is still active."
