package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// The silence preview modal. Its block and action ids are what Slack
// returns in the state.values of block_actions and view_submission
// payloads; the input blocks keep their ids across views.update, which is
// how Slack keeps what was typed in them.
const (
	PreviewViewID = "silence_preview"
	// PreviewMatchersID is the block_id and action_id of the matchers
	// input, PreviewEndID of the duration or end, PreviewCommentID of the
	// comment and PreviewConfirmID of the checkbox that confirms a silence
	// wider than the group.
	PreviewMatchersID = "preview_matchers"
	PreviewEndID      = "preview_end"
	PreviewCommentID  = "preview_comment"
	PreviewConfirmID  = "preview_confirm"
	// PreviewRefreshID is the action_id of the Refresh preview button.
	PreviewRefreshID = "preview_refresh"
	// PreviewConfirmValue is the value of the confirming checkbox.
	PreviewConfirmValue = "confirm"
	// MaxPreviewAlerts is how many matched alerts the preview lists.
	MaxPreviewAlerts = 10
	// MaxPreviewMatchers bounds the matchers input, in characters, so that
	// the matchers fit the modal's private_metadata (3000 characters)
	// with room to spare.
	MaxPreviewMatchers = 1000
	// maxPreviewAlertLine bounds one listed alert's labels.
	maxPreviewAlertLine = 250
)

// UntilBusinessValue is the value of the silence select's option that
// silences until the start of the route's next business day; the select's
// other values are Go durations.
const UntilBusinessValue = "until:business"

// BusinessDayOption is the silence select's option that silences until the
// next business day, which starts at day (such as "09:00 Europe/Berlin").
func BusinessDayOption(day string) Option {
	return Option{Text: clip("Until next business day "+oneLine(day), maxOptionText), Value: UntilBusinessValue}
}

// PreviewAlert is an alert that the silence would match.
type PreviewAlert struct {
	Labels map[string]string
	// State is Alertmanager's: active, suppressed or unprocessed.
	State string
	// Outside is set for an alert outside the group (or, for a silence
	// from the slash command, outside the channel's groups).
	Outside bool
}

// Preview is what the silence preview modal shows.
type Preview struct {
	// Metadata is the modal's private_metadata, which Slack returns with
	// every interaction in it (at most 3000 characters).
	Metadata string
	// Group names the alert group the preview was opened from; "" for a
	// preview opened with the slash command.
	Group string
	// PickAlert is set for a preview opened to silence one alert that the
	// alert select could not list: it asks for matchers that pick it.
	PickAlert bool
	// Matchers, End and Comment are the values of the inputs.
	Matchers, End, Comment string
	// MatchersError and EndError say why the matchers or the end do not
	// parse; EndsAt is the end when it does.
	MatchersError, EndError string
	EndsAt                  time.Time
	// Now is when the preview was computed.
	Now time.Time
	// Zone is the viewer's time zone; nil shows times in UTC.
	Zone *time.Location
	// Business is when the route's next business day starts, as
	// businesshours.Hours.Label writes it, for a hint; "" when the route
	// has no business hours.
	Business string
	// Count is how many alerts the matchers match now, Alerts the first of
	// them (at most MaxPreviewAlerts), and Outside how many of them lie
	// outside the group; ListError says why Alertmanager could not list
	// them.
	Count     int
	Alerts    []PreviewAlert
	Outside   int
	ListError string
	// Refusal is why amslack's silence rule refuses the silence, or "".
	Refusal string
}

// SilencePreviewModal is the silence preview: the matchers, the duration or
// end and the comment, editable; the end in the viewer's time zone; the
// alerts the matchers match now; and, when they match alerts outside the
// group, a warning and a checkbox to confirm it.
func SilencePreviewModal(p Preview) slack.ModalViewRequest {
	matchers := slack.NewPlainTextInputBlockElement(modalText(`alertname="DiskFull", instance=~"db-.*"`), PreviewMatchersID).WithInitialValue(p.Matchers)
	matchers.MaxLength = MaxPreviewMatchers
	// Enter in the field asks amslack for a new preview (block_actions).
	matchers.DispatchActionConfig = &slack.DispatchActionConfig{TriggerActionsOn: []string{"on_enter_pressed"}}
	matchersInput := slack.NewInputBlock(PreviewMatchersID, modalText("Matchers"),
		modalText("Alertmanager matchers, separated by commas. Press Enter to refresh the preview."), matchers)
	matchersInput.DispatchAction = true

	endHint := "A duration (45m, 4h, 2d) or an end in your time zone (18:00, 2025-12-24 18:00)"
	if p.Business != "" {
		endHint += `, or "business" for the next business day: ` + strings.TrimPrefix(p.Business, "Until ")
	}
	end := slack.NewPlainTextInputBlockElement(modalText("2h"), PreviewEndID).WithInitialValue(p.End)
	end.DispatchActionConfig = &slack.DispatchActionConfig{TriggerActionsOn: []string{"on_enter_pressed"}}
	endInput := slack.NewInputBlock(PreviewEndID, modalText("Duration or end"), modalText(clip(endHint, maxModalHint)), end)
	endInput.DispatchAction = true

	comment := slack.NewPlainTextInputBlockElement(modalText("Why?"), PreviewCommentID).WithInitialValue(p.Comment)
	comment.Multiline = true
	comment.MaxLength = MaxSilenceComment
	commentInput := slack.NewInputBlock(PreviewCommentID, modalText("Comment"), nil, comment).WithOptional(true)

	blocks := []slack.Block{
		slack.NewContextBlock("preview_scope", mrkdwn(previewScope(p))),
		matchersInput,
	}
	if p.MatchersError != "" {
		blocks = append(blocks, slack.NewContextBlock("preview_matchers_error", mrkdwn("⚠️ "+clipEscaped(p.MatchersError, 500))))
	}
	blocks = append(blocks,
		endInput,
		slack.NewSectionBlock(mrkdwn(previewEnd(p)), nil, nil, slack.SectionBlockOptionBlockID("preview_ends")),
		commentInput,
		slack.NewActionBlock("preview_actions", slack.NewButtonBlockElement(PreviewRefreshID, "refresh", plainText("Refresh preview"))),
		slack.NewDividerBlock(),
		slack.NewSectionBlock(mrkdwn(previewCount(p)), nil, nil, slack.SectionBlockOptionBlockID("preview_count")),
	)
	if list := previewAlerts(p); list != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(list), nil, nil, slack.SectionBlockOptionBlockID("preview_alerts")))
	}
	if p.Refusal != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("⛔ "+clipEscaped(p.Refusal, 1000)), nil, nil, slack.SectionBlockOptionBlockID("preview_refusal")))
	}
	if p.Outside > 0 {
		blocks = append(blocks,
			slack.NewSectionBlock(mrkdwn(previewWarning(p)), nil, nil, slack.SectionBlockOptionBlockID("preview_warning")),
			slack.NewInputBlock(PreviewConfirmID, modalText("Confirm"), nil,
				slack.NewCheckboxGroupsBlockElement(PreviewConfirmID,
					slack.NewOptionBlockObject(PreviewConfirmValue, modalText(previewConfirmText(p)), nil)),
			).WithOptional(true),
		)
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      PreviewViewID,
		Title:           modalText("Silence preview"),
		Submit:          modalText("Silence"),
		Close:           modalText("Cancel"),
		PrivateMetadata: p.Metadata,
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// maxModalHint bounds an input block's hint (Slack: 2000 characters).
const maxModalHint = 2000

// previewScope says what the silence is for.
func previewScope(p Preview) string {
	if p.Group == "" {
		return "A silence from `/amslack silence`. Nothing is silenced until you press Silence."
	}
	s := "A silence for the alert group *" + clipEscaped(oneLine(p.Group), 150) + "*. "
	if p.PickAlert {
		s += "To silence one of its alerts, add a matcher that picks it, such as `instance=\"…\"`. "
	}
	return s + "Nothing is silenced until you press Silence."
}

// previewEnd shows when the silence would end, in the viewer's zone.
func previewEnd(p Preview) string {
	if p.EndError != "" {
		return "⚠️ " + clipEscaped(p.EndError, 500)
	}
	if p.EndsAt.IsZero() {
		return "*Ends* when you give a duration or an end."
	}
	return "*Ends* " + escapeMrkdwn(ZoneTime(p.EndsAt, p.Zone)) + ", " + humanDuration(p.EndsAt.Sub(p.Now)) + " from now"
}

// ZoneTime shows t on the clock of zone, with the zone's name: "Mon 1 Dec
// 16:00 Europe/Berlin (your time)"; a nil zone shows UTC.
func ZoneTime(t time.Time, zone *time.Location) string {
	if zone == nil {
		return t.UTC().Format("Mon 2 Jan 2006 15:04") + " UTC"
	}
	return t.In(zone).Format("Mon 2 Jan 2006 15:04") + " " + zone.String() + " (your time)"
}

func previewCount(p Preview) string {
	switch {
	case p.MatchersError != "":
		return "*Matches:* fix the matchers to see the alerts they match."
	case p.ListError != "":
		return "⚠️ Alertmanager did not list the alerts these matchers match: " + clipEscaped(p.ListError, 500) + ". Refresh to try again."
	case p.Count == 0:
		return "*Matches no alert now.* The silence would still mute matching alerts that fire before it ends."
	}
	return fmt.Sprintf("*Matches %s now*", plural(p.Count, "alert", "alerts"))
}

// previewAlerts lists the first matched alerts, one line each.
func previewAlerts(p Preview) string {
	if p.MatchersError != "" || p.ListError != "" || len(p.Alerts) == 0 {
		return ""
	}
	var b strings.Builder
	for i, a := range p.Alerts {
		if i == MaxPreviewAlerts {
			break
		}
		line := "• " + clipEscaped(oneLine(labelSet(a.Labels).String()), maxPreviewAlertLine)
		var notes []string
		if a.State != "" && a.State != "active" {
			notes = append(notes, clipEscaped(a.State, 20))
		}
		if a.Outside {
			notes = append(notes, "*outside "+previewOwn(p)+"*")
		}
		if len(notes) > 0 {
			line += " — " + strings.Join(notes, ", ")
		}
		b.WriteString(line + "\n")
	}
	if shown := min(len(p.Alerts), MaxPreviewAlerts); p.Count > shown {
		b.WriteString(more(p.Count - shown))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// previewOwn names the alerts the silence is meant for.
func previewOwn(p Preview) string {
	if p.Group == "" {
		return "this channel's alert groups"
	}
	return "this alert group"
}

func previewWarning(p Preview) string {
	var which string
	switch {
	case p.Outside == 1 && p.Count == 1:
		which = "The alert matched lies"
	case p.Outside == p.Count:
		which = fmt.Sprintf("All %d alerts matched lie", p.Count)
	case p.Outside == 1:
		which = fmt.Sprintf("1 of the %d alerts matched lies", p.Count)
	default:
		which = fmt.Sprintf("%d of the %d alerts matched lie", p.Outside, p.Count)
	}
	return "⚠️ *" + which + " outside " + previewOwn(p) + ".* The silence mutes them too; tick the box below to confirm."
}

func previewConfirmText(p Preview) string {
	return "Also silence the alerts outside " + previewOwn(p)
}

// PreviewSilencedReply tells the clicker that silence id now mutes the
// alerts the preview matched (count of them when submitted) until until,
// shown in the clicker's zone.
func PreviewSilencedReply(count int, until time.Time, zone *time.Location, id string) string {
	return Mrkdwnf("Silenced %s until %s (silence %s).", plural(count, "alert", "alerts"), ZoneTime(until, zone), id)
}

// PreviewAlertsSilencedNote is the thread note for a silence from the
// preview that mutes silenced of the group's total firing alerts, but not
// all of them, for d; matchers are written as Alertmanager writes them.
func PreviewAlertsSilencedNote(by alertgroup.User, silenced, total int, d time.Duration, matchers string) string {
	return Mrkdwnf("🔕 Silenced %d of %d alerts by %s for %s: %s", silenced, total, MentionMarkup(by), model.Duration(d), matchers)
}

// BusinessSilencedReply tells the clicker that silence id mutes the group
// until the next business day starts; label is that start as
// businesshours.Hours.Label writes it in the clicker's zone.
func BusinessSilencedReply(label string, id string) string {
	return Mrkdwnf("Silenced until %s (silence %s).", strings.TrimPrefix(label, "Until "), id)
}

// Field errors of the silence preview's submission, shown under the input
// at fault.
const (
	PreviewExpired         = "This preview has expired; open it again from the message or the command."
	PreviewMatchersChanged = "The matchers changed since the preview. Press Enter in this field, or Refresh preview, to see the alerts they match, then press Silence."
)

// PreviewConfirmNeeded asks for the confirming checkbox: the silence mutes
// outside alerts outside the group (or the channel's groups, when group is
// false).
func PreviewConfirmNeeded(outside int, group bool) string {
	own := "this alert group"
	if !group {
		own = "this channel's alert groups"
	}
	return fmt.Sprintf("Tick this box to confirm: the silence also mutes %s outside %s.", plural(outside, "alert", "alerts"), own)
}
