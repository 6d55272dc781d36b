package render

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// This file holds the thread notes and the replies to the clicker that the
// built-in actions (silence, unsilence, ack, unack and the runbook actions)
// show. Durations read as Alertmanager writes them (model.Duration: 4h, 2d)
// and times as Until writes them. Every argument that may carry outside text
// (an error, an Alertmanager silence id, a label, an internal API's answer)
// is escaped through Mrkdwnf.

// ResolvedWhileSilencedNote is the thread note when a silenced or
// acknowledged group's alerts are gone from Alertmanager.
const ResolvedWhileSilencedNote = "✅ Resolved while silenced: Alertmanager no longer has these alerts"

// SilencedNote is the thread note for a silence that by created for d,
// until until, with the matchers written as Alertmanager writes them. It
// lists the matchers because they come from the group's labels, which may
// be narrower or wider than people expect.
func SilencedNote(by alertgroup.User, d time.Duration, until time.Time, matchers string) string {
	return Mrkdwnf("🔕 Silenced by %s for %s, until %s: %s", MentionMarkup(by), model.Duration(d), Until(until), matchers)
}

// UnsilencedNote is the thread note for a silence that by removed.
func UnsilencedNote(by alertgroup.User) string {
	return Mrkdwnf("🔔 Silence removed by %s", MentionMarkup(by))
}

// AckedNote is the thread note for an acknowledgement by by.
func AckedNote(by alertgroup.User) string {
	return Mrkdwnf("👀 Acknowledged by %s", MentionMarkup(by))
}

// UnackedNote is the thread note for an acknowledgement that by removed.
func UnackedNote(by alertgroup.User) string {
	return Mrkdwnf("Acknowledgement removed by %s", MentionMarkup(by))
}

// ApprovalNote is the thread note for by's approval of the action labelled
// label: have of the need approvals it takes now count.
func ApprovalNote(label string, by alertgroup.User, have, need int) string {
	return Mrkdwnf("%s: approved by %s (%d of %d)", label, MentionMarkup(by), have, need)
}

// UnknownActionReply tells the clicker that amslack has no action with the
// id action.
func UnknownActionReply(action string) string {
	return Mrkdwnf("amslack does not know the action %q; the message may come from an older configuration. Nothing was done.", action)
}

// ResolvedReply refuses a click on a group that resolved at resolvedAt,
// which may be zero when the time is not known.
func ResolvedReply(resolvedAt time.Time) string {
	if resolvedAt.IsZero() {
		return "This alert group has resolved; nothing was done."
	}
	return Mrkdwnf("This alert group resolved at %s; nothing was done.", Until(resolvedAt))
}

// ErrorReply shows err, escaped, as the whole reply: for errors written to
// be read by the clicker, such as an invalid duration.
func ErrorReply(err error) string { return Mrkdwnf("%v", err) }

// SilencedReply tells the clicker that silence id now silences the group
// for d, until until.
func SilencedReply(d time.Duration, until time.Time, id string) string {
	return Mrkdwnf("Silenced for %s, until %s (silence %s).", model.Duration(d), Until(until), id)
}

// SilenceRefusedReply says why amslack will not silence the group: err,
// such as a group without labels to match.
func SilenceRefusedReply(err error) string {
	return Mrkdwnf("amslack will not create this silence: %v.", err)
}

// SilenceCreateFailedReply says that Alertmanager answered err to the
// creation of a silence.
func SilenceCreateFailedReply(err error) string {
	return Mrkdwnf("Alertmanager did not create the silence: %v. Nothing was changed.", err)
}

// SilenceRecordFailedReply says that amslack could not record a silence it
// created (err), and so expired it again.
func SilenceRecordFailedReply(err error) string {
	return Mrkdwnf("amslack could not record the silence (%v), so it expired it again. Try again in a moment.", err)
}

// SilenceExpireFailedReply says that Alertmanager answered err to the
// expiry of silence id.
func SilenceExpireFailedReply(id string, err error) string {
	return Mrkdwnf("Alertmanager did not expire silence %s: %v. Nothing was changed.", id, err)
}

// UnsilenceRecordFailedReply says that silence id expired but that amslack
// could not record it (err).
func UnsilenceRecordFailedReply(id string, err error) string {
	return Mrkdwnf("Silence %s expired, but amslack could not update the message: %v.", id, err)
}

// UnsilencedReply tells the clicker that silence id expired.
func UnsilencedReply(id string) string {
	return Mrkdwnf("Silence %s expired.", id)
}

// AlertSilencedNote is the thread note for a silence of one alert that by
// created for d: name and labels are those of AlertNames.
func AlertSilencedNote(by alertgroup.User, d time.Duration, name, labels string) string {
	return Mrkdwnf("🔕 Silenced %s (%s) for %s by %s", name, labels, model.Duration(d), MentionMarkup(by))
}

// AlertSilencedReply tells the clicker that silence id now silences the
// alert named name for d, until until: the route's first silence duration,
// or the default one when the route sets none (byDefault).
func AlertSilencedReply(name string, d time.Duration, byDefault bool, until time.Time, id string) string {
	which := "the route's first silence duration"
	if byDefault {
		which = "the default, as the route sets no silence durations"
	}
	return Mrkdwnf("Silenced %s for %s (%s), until %s (silence %s). For another duration, use Custom silence… or Alertmanager.", name, model.Duration(d), which, Until(until), id)
}

// AlertGoneReply says that the chosen alert is no longer among the
// group's alerts.
const AlertGoneReply = "That alert is no longer in this group's latest notification, so amslack will not silence it. Nothing was done."

// AlreadyAckedReply tells the clicker that by acknowledged the group
// first. It names by rather than mentioning them: a reply to one person
// need not notify another.
func AlreadyAckedReply(by alertgroup.User) string {
	return Mrkdwnf("Already acknowledged by %s.", by.Name)
}

// AckRefusedReply says why amslack will not acknowledge the group with a
// silence: err, such as a group without labels to match.
func AckRefusedReply(err error) string {
	return Mrkdwnf("amslack cannot acknowledge this group: %v.", err)
}

// AckCreateFailedReply says that Alertmanager answered err to the creation
// of the acknowledgement silence.
func AckCreateFailedReply(err error) string {
	return Mrkdwnf("Alertmanager did not create the acknowledgement silence: %v. Nothing was changed.", err)
}

// AckRecordFailedReply says that amslack could not record the
// acknowledgement (err).
func AckRecordFailedReply(err error) string {
	return Mrkdwnf("amslack could not record the acknowledgement: %v. Try again in a moment.", err)
}

// AckedReply tells the clicker that the group is acknowledged: with
// silence id for d, extended while the alerts fire, or, when id is "",
// without a silence.
func AckedReply(d time.Duration, id string) string {
	if id == "" {
		return "Acknowledged."
	}
	return Mrkdwnf("Acknowledged. The alerts are silenced for %s (silence %s) and amslack extends that while they fire.", model.Duration(d), id)
}

// AckResolvedMeanwhileReply tells the clicker that the group resolved, at
// resolvedAt when that is not zero, while amslack was acknowledging it, and
// that the acknowledgement was not kept.
func AckResolvedMeanwhileReply(resolvedAt time.Time) string {
	if resolvedAt.IsZero() {
		return "This alert group resolved while amslack was acknowledging it; nothing was done."
	}
	return Mrkdwnf("This alert group resolved at %s while amslack was acknowledging it; nothing was done.", Until(resolvedAt))
}

// AckResolvedExpireFailedReply tells the clicker that the group resolved
// while amslack was acknowledging it and that Alertmanager answered err to
// the expiry of the acknowledgement silence id: amslack tries again later
// when retried is set, and otherwise cannot.
func AckResolvedExpireFailedReply(resolvedAt time.Time, id string, err error, retried bool) string {
	when := "meanwhile"
	if !resolvedAt.IsZero() {
		when = "at " + Until(resolvedAt)
	}
	next := "Expire it in Alertmanager, or it mutes these alerts until it ends."
	if retried {
		next = "amslack tries again shortly."
	}
	return Mrkdwnf("This alert group resolved %s while amslack was acknowledging it, and Alertmanager did not expire the acknowledgement silence %s: %v. %s", when, id, err, next)
}

// AckExpireFailedReply says that Alertmanager answered err to the expiry of
// acknowledgement silence id.
func AckExpireFailedReply(id string, err error) string {
	return Mrkdwnf("Alertmanager did not expire the acknowledgement silence %s: %v. Nothing was changed.", id, err)
}

// UnackRecordFailedReply says that the acknowledgement silence expired but
// that amslack could not record it (err).
func UnackRecordFailedReply(err error) string {
	return Mrkdwnf("The acknowledgement silence expired, but amslack could not update the message: %v.", err)
}

// AlreadyApprovedReply tells the clicker that they approved the action
// labelled label before: have of the need approvals it takes count.
func AlreadyApprovedReply(label string, have, need int) string {
	return Mrkdwnf("You already approved %s (%d of %d); waiting for %d more.", label, have, need, need-have)
}

// ApprovalRecordedReply tells the clicker that their approval of the action
// labelled label counts: have of the need approvals it takes now do.
func ApprovalRecordedReply(label string, have, need int) string {
	return Mrkdwnf("Approval of %s recorded (%d of %d); waiting for %d more.", label, have, need, need-have)
}

// ApprovalRecordFailedReply says that amslack could not record the
// clicker's approval (err).
func ApprovalRecordFailedReply(err error) string {
	return Mrkdwnf("amslack could not record your approval: %v. Try again in a moment.", err)
}

// RunFailedReply says that the call to the internal API of the action
// labelled label failed with err.
func RunFailedReply(label string, err error) string {
	return Mrkdwnf("%s failed: %v.", label, err)
}

// RunNotOKReply says that the internal API of the action labelled label
// answered that it did not succeed, with detail, which may be "".
func RunNotOKReply(label, detail string) string {
	if detail == "" {
		detail = "no detail given"
	}
	return Mrkdwnf("%s did not succeed: %s", label, detail)
}

// RunDoneReply tells the clicker that the internal API of the action
// labelled label succeeded, with detail, which may be "".
func RunDoneReply(label, detail string) string {
	if detail == "" {
		detail = "done"
	}
	return Mrkdwnf("%s: %s", label, detail)
}

// RuleNeedsLabelReason refuses a silence that leaves open the label name,
// which the silence rule restricts with matcher, written as Alertmanager
// writes it. It is plain text: it is also the error of a workflow step, and
// its parts come from amslack's configuration and the step's inputs.
func RuleNeedsLabelReason(name, matcher string) string {
	return fmt.Sprintf("amslack's silence rule restricts the label %s (%s), so the matchers must fix it with =, such as %s=\"…\"; "+
		"otherwise the silence would also cover alerts the rule does not allow.", name, matcher, name)
}

// RuleForbidsAlertsReason refuses a silence whose fixed labels the silence
// rule does not allow.
const RuleForbidsAlertsReason = "amslack's silence rule does not allow silences of these alerts; the matchers must fix the labels the rule requires."

// RuleForbidsAlertReason refuses a silence that would match an alert, with
// the label set alert, that the silence rule does not allow. It is plain
// text, as RuleNeedsLabelReason is.
func RuleForbidsAlertReason(alert string) string {
	return fmt.Sprintf("amslack's silence rule does not allow silencing the alert %s, which these matchers match.", alert)
}

// The errors of a workflow step go to functions.completeError as plain
// text; Slack shows them in the workflow's activity, not as mrkdwn.

// UnknownStepError fails a step whose function id amslack does not
// provide; known is the one it does.
func UnknownStepError(id, known string) string {
	return fmt.Sprintf("amslack has no workflow step %q; only %q.", id, known)
}

// StepInputsError fails a step whose inputs are invalid (err).
func StepInputsError(err error) string {
	return "amslack did not create the silence: " + err.Error()
}

// StepAuthorizeFailedError fails a step whose silence amslack could not
// check against its rule (err).
func StepAuthorizeFailedError(err error) string {
	return fmt.Sprintf("amslack could not check whether this silence is allowed: %v. Try again in a moment.", err)
}

// StepSilenceFailedError fails a step whose silence Alertmanager did not
// create (err).
func StepSilenceFailedError(err error) string {
	return fmt.Sprintf("Alertmanager did not create the silence: %v", err)
}
