package render

import (
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// blockReminder is the block id of the acknowledgement reminder's text;
// its buttons are in the blockActions block, as on a group's message.
const blockReminder = "reminder"

// capReminderTitle bounds the group's title in the reminder, which is one
// line in the thread.
const capReminderTitle = 150

// AckReminder is the thread reply that reminds whoever acknowledged a group
// that it still fires.
type AckReminder struct {
	// Acker acknowledged the group; the reminder mentions them.
	Acker alertgroup.User
	// Group and GroupKey are the group as last delivered.
	Group    *template.Data
	GroupKey string
	// For is how long ago the acknowledgement, or its last renewal, was.
	For time.Duration
	// Renewed is set when the acker has renewed the acknowledgement
	// before.
	Renewed bool
	// Controls are the reply's buttons, in order: the caller's renew and
	// unacknowledge buttons.
	Controls []Control
}

// AckReminderMessage renders r: one section that mentions the acker and
// says how long the group has fired since, then r's buttons. The text
// fallback, which notifications show, mentions the acker as well.
func AckReminderMessage(r AckReminder) Message {
	d := r.Group
	if d == nil {
		d = &template.Data{}
	}
	title := clipEscaped(groupTitle(d, r.GroupKey), capReminderTitle)
	since := "you acknowledged it"
	if r.Renewed {
		since = "you said you were still on it"
	}
	mention := who(r.Acker)
	text := "⏰ " + mention + ", *" + title + "* is still firing " + humanDuration(r.For) + " after " + since + ". Still on it?"
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID(blockReminder)),
	}
	if b := controlsBlock(r.Controls); b != nil {
		blocks = append(blocks, b)
	}
	fallback := "⏰ " + mention + ": " + title + " is still firing " + humanDuration(r.For) + " after " + since
	return Message{Text: fallback, Blocks: slack.Blocks{BlockSet: blocks}}
}

// AckRenewedNote is the thread note for by's answer Still on it to the
// acknowledgement reminder.
func AckRenewedNote(by alertgroup.User) string {
	return Mrkdwnf("🔁 %s is still on it", MentionMarkup(by))
}

// AckRenewedReply tells the clicker that the acknowledgement stands, that
// the reminder comes again after every if the group still fires, and, when
// until is not zero, that the acknowledgement silence now lasts until
// until.
func AckRenewedReply(every time.Duration, until time.Time) string {
	s := Mrkdwnf("Noted: you are still on it. amslack reminds you again in %s if it still fires.", humanDuration(every))
	if !until.IsZero() {
		s += Mrkdwnf(" The acknowledgement silence now lasts until %s.", Until(until))
	}
	return s
}

// AckRenewNotAckedReply refuses Still on it on a group that nobody has
// acknowledged.
const AckRenewNotAckedReply = "This alert group is not acknowledged (any more), so there is nothing to renew. Nothing was changed."

// AckRenewRecordFailedReply says that amslack could not record the renewal
// (err).
func AckRenewRecordFailedReply(err error) string {
	return Mrkdwnf("amslack could not record that you are still on it: %v. Try again in a moment.", err)
}

// AckRenewExtendFailedReply says that the renewal was recorded but that
// Alertmanager did not extend the acknowledgement silence (err); the
// reconciler keeps extending it while the group fires.
func AckRenewExtendFailedReply(err error) string {
	return Mrkdwnf("Noted that you are still on it, but Alertmanager did not extend the acknowledgement silence: %v. amslack keeps extending it while the alerts fire.", err)
}
