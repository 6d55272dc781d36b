package interact

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// errNotTracked aborts a store update of a group that has been deleted
// since the click looked it up.
var errNotTracked = errors.New("the message is no longer tracked by amslack")

// errNoAlertmanager is the failure of silences and acks without an
// Alertmanager client.
var errNoAlertmanager = errors.New("no Alertmanager is configured, so amslack cannot create or expire silences")

// outcome is what came of an allowed click.
type outcome struct {
	// text is shown to the clicker; empty shows nothing.
	text string
	// result is the audit log's summary.
	result    string
	silenceID string
	idemKey   string
	// err marks a failure; text then says what happened.
	err error
	// denied marks a click refused once the action began, such as an
	// acknowledgement of a group that resolved meanwhile; text says why.
	denied bool
}

func failed(err error, text string) outcome {
	return outcome{err: err, text: text, result: err.Error()}
}

// lookupGrace is how long a click on an unknown message waits for it to
// become known: the sender records a message's ts just after Slack returns
// it, so a click can arrive a moment before the record.
const lookupGrace = 2 * time.Second

// lookup finds the group of a message, waiting out lookupGrace for one that
// was just posted.
func (h *Handler) lookup(ctx context.Context, channel, ts string) (alertgroup.Group, bool, error) {
	deadline := time.Now().Add(lookupGrace)
	for wait := 50 * time.Millisecond; ; wait *= 2 {
		g, found, err := h.groups.ByMessage(ctx, channel, ts)
		if found || err != nil || time.Now().Add(wait).After(deadline) {
			return g, found, err
		}
		select {
		case <-ctx.Done():
			return g, found, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// process performs one click, settles its de-duplication and then tells
// the clicker, so that a click tried again after the reply is never taken
// for a duplicate of one that failed.
func (h *Handler) process(ctx context.Context, c click) {
	text, ok := h.perform(ctx, c)
	h.settle(c, ok)
	h.respond(ctx, c.responseURL, text)
}

// perform looks up the click's group, checks that the action applies and
// that the clicker may take it, acts and records. It returns what to tell
// the clicker and whether the action succeeded.
func (h *Handler) perform(ctx context.Context, c click) (string, bool) {
	b := h.builtinFor(c.action)
	logger := h.logger.With("action", c.action, "channel", c.channel, "message_ts", c.ts)
	if b == nil {
		h.record(c, DecisionFailed, "unknown action", "", "")
		return render.UnknownActionReply(c.action), false
	}
	g, found, err := h.lookup(ctx, c.channel, c.ts)
	if err != nil {
		logger.Error("cannot read alert group", "err", err)
		h.record(c, DecisionFailed, "store unavailable", "", "")
		return "amslack could not read the state of this alert group. Nothing was done; try again in a moment.", false
	}
	if !found {
		h.record(c, DecisionFailed, "message not tracked", "", "")
		return "amslack no longer tracks this message (it may be old or resolved long ago). Nothing was done.", false
	}
	if reason := b.Refusal(h, c, g); reason != "" {
		h.record(c, DecisionDenied, reason, "", "")
		return reason, false
	}
	rule := b.Rule(h, c.action)
	reason, err := h.authorize(ctx, rule, c.user.ID, commonLabels(g))
	if err != nil {
		logger.Error("cannot check authorization", "err", err)
		h.record(c, DecisionFailed, "authorization check failed", "", "")
		return "amslack could not check whether you may do this (Slack user groups are unavailable). Nothing was done; try again in a moment.", false
	}
	if reason == "" && b.Silences(h) {
		// The group's labels passed; the silence must also cover only
		// alerts the rule allows, now and later.
		reason, err = h.buttonSilenceAllowed(ctx, rule, c.user.ID, h.clickMatchers(b, c, g))
		if err != nil {
			logger.Error("cannot check the silence against its rule", "err", err)
			h.record(c, DecisionFailed, "authorization check failed", "", "")
			return "amslack could not check which alerts the silence would cover (Alertmanager is unavailable). Nothing was done; try again in a moment.", false
		}
	}
	if reason != "" {
		h.record(c, DecisionDenied, reason, "", "")
		return reason, false
	}
	h.record(c, DecisionAllowed, "", "", "")

	o := b.Perform(ctx, h, c, g)
	switch {
	case o.err != nil:
		logger.Warn("interaction failed", "err", o.err)
		h.record(c, DecisionFailed, o.result, o.silenceID, o.idemKey)
	case o.denied:
		logger.Info("interaction refused", "reason", o.result)
		h.record(c, DecisionDenied, o.result, o.silenceID, o.idemKey)
	default:
		h.record(c, DecisionSucceeded, o.result, o.silenceID, o.idemKey)
	}
	return o.text, o.err == nil && !o.denied
}

// matchersSilencer is a built-in action whose silence is not the group's:
// silenceMatchers returns the matchers of the silence that click c creates
// on g.
type matchersSilencer interface {
	silenceMatchers(h *Handler, c click, g alertgroup.Group) ([]amclient.Matcher, error)
}

// clickMatchers returns how to get the matchers of the silence that click c
// on g creates through b: b's own, or the group's.
func (h *Handler) clickMatchers(b builtin, c click, g alertgroup.Group) func() ([]amclient.Matcher, error) {
	if ms, ok := b.(matchersSilencer); ok {
		return func() ([]amclient.Matcher, error) { return ms.silenceMatchers(h, c, g) }
	}
	return func() ([]amclient.Matcher, error) { return h.silenceMatchersFor(g) }
}

// buttonSilenceAllowed applies silenceAllowed to the silence that a button
// creates, whose matchers matchers returns.
func (h *Handler) buttonSilenceAllowed(ctx context.Context, r Rule, user string, matchers func() ([]amclient.Matcher, error)) (string, error) {
	if len(r.ParsedMatchers) == 0 {
		// Nothing to restrict: skip the query to Alertmanager.
		return "", nil
	}
	ms, err := matchers()
	if err != nil {
		// Creating the silence fails the same way and says why.
		return "", nil
	}
	lms, err := labelMatchers(ms)
	if err != nil {
		return "", err
	}
	// silenceAllowed's reasons are plain text, for Workflow steps; they
	// quote matchers and alert labels, which come from outside, and the
	// clicker reads the reason as mrkdwn.
	reason, err := h.silenceAllowed(ctx, r, user, lms)
	return render.EscapeMrkdwn(reason), err
}

// labelMatchers converts equality matchers for Alertmanager's filters.
func labelMatchers(ms []amclient.Matcher) (labels.Matchers, error) {
	out := make(labels.Matchers, 0, len(ms))
	for _, m := range ms {
		lm, err := labels.NewMatcher(labels.MatchEqual, m.Name, m.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, lm)
	}
	return out, nil
}

func commonLabels(g alertgroup.Group) map[string]string {
	if g.Message == nil || g.Message.Data == nil {
		return nil
	}
	return g.Message.CommonLabels
}

// silenceMatchers returns the equality matchers of a silence covering the
// group: its common labels, or its group labels when so configured.
func (h *Handler) silenceMatchersFor(g alertgroup.Group) ([]amclient.Matcher, error) {
	if g.Message == nil || g.Message.Data == nil {
		return nil, errors.New("amslack has no alert data for this group")
	}
	ls := g.Message.CommonLabels
	if h.silenceMatchers == SilenceMatchersGroup {
		ls = g.Message.GroupLabels
	}
	if len(ls) == 0 {
		// Alertmanager would reject an empty matcher list; refuse before
		// that, and never silence every alert.
		return nil, fmt.Errorf("the group has no %s labels to match", h.silenceMatchers)
	}
	return amclient.EqualMatchers(ls), nil
}

// maxMatchersNote bounds, in characters, the matchers that a thread note
// lists; a group's common labels may be many and long.
const maxMatchersNote = 1000

// matchersText writes matchers as Alertmanager writes them,
// alertname="DiskFull", cluster="prod", cut to maxMatchersNote characters.
// It is not escaped.
func matchersText(ms []amclient.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = (&labels.Matcher{Type: m.Type(), Name: m.Name, Value: m.Value}).String()
	}
	s := strings.Join(parts, ", ")
	if r := []rune(s); len(r) > maxMatchersNote {
		s = string(r[:maxMatchersNote-1]) + "…"
	}
	return s
}

// createdBy is the silence author: Slack names change, ids do not, so both
// are kept.
func createdBy(u alertgroup.User) string {
	return fmt.Sprintf("slack:%s (%s)", u.Name, u.ID)
}

// createSilence creates s, or replaces s.ID. When Alertmanager no longer
// knows s.ID (deleted, or expired and collected), it creates a new one.
func (h *Handler) createSilence(ctx context.Context, s amclient.Silence) (string, error) {
	id, err := h.silences.CreateSilence(ctx, s)
	var se *amclient.StatusError
	if err != nil && s.ID != "" && errors.As(err, &se) && !se.Temporary() {
		s.ID = ""
		return h.silences.CreateSilence(ctx, s)
	}
	return id, err
}

// expireSilence expires id; one Alertmanager no longer knows is as good as
// expired.
func (h *Handler) expireSilence(ctx context.Context, id string) error {
	if err := h.silences.ExpireSilence(ctx, id); err != nil && !errors.Is(err, amclient.ErrNotFound) {
		return err
	}
	return nil
}

// recordSilence creates the silence s, or replaces s.ID, and records it in
// the state of the group key with put, which stores the silence's mark
// where it belongs and returns the id of the silence it found there. It
// expires the new silence again when it cannot record it. When put finds
// another silence, which someone made for the same alerts at the same
// time, it expires that one: one silence is enough. The outcome names the
// silence; the caller adds what to tell the clicker.
func (h *Handler) recordSilence(ctx context.Context, c click, key alertgroup.Key, s amclient.Silence, put func(st *alertgroup.State, m alertgroup.Mark) (old string)) outcome {
	id, err := h.createSilence(ctx, s)
	if err != nil {
		return failed(err, render.SilenceCreateFailedReply(err))
	}
	var replaced string
	_, err = h.groups.Update(ctx, key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		replaced = ""
		if old := put(&sg.State, alertgroup.Mark{By: c.user, At: s.StartsAt, Until: s.EndsAt, SilenceID: id}); old != id {
			replaced = old
		}
		return nil
	})
	if err != nil {
		// Do not leave a silence behind that the message does not show.
		if id != s.ID {
			if xerr := h.expireSilence(ctx, id); xerr != nil {
				h.logger.Error("cannot roll back silence", "silence_id", id, "err", xerr)
			}
		}
		return outcome{err: err, result: err.Error(), silenceID: id, text: render.SilenceRecordFailedReply(err)}
	}
	if replaced != "" {
		if err := h.expireSilence(ctx, replaced); err != nil {
			h.logger.Warn("cannot expire replaced silence", "silence_id", replaced, "err", err)
		}
	}
	return outcome{silenceID: id}
}

func (h *Handler) refresh(ctx context.Context, key alertgroup.Key, route string, notes ...string) {
	if h.refresher == nil {
		return
	}
	if err := h.refresher.Refresh(ctx, key, route, notes...); err != nil {
		h.logger.Warn("cannot refresh message", "group_key", key.GroupKey, "channel", key.Channel, "err", err)
	}
}

func (h *Handler) silence(ctx context.Context, c click, g alertgroup.Group) outcome {
	if c.opensDialog() {
		return h.openSilenceDialog(ctx, c)
	}
	if h.silences == nil {
		return failed(errNoAlertmanager, "No Alertmanager is configured, so amslack cannot create silences.")
	}
	d, err := parseSilenceDuration(c.value)
	if err != nil {
		return failed(err, render.ErrorReply(err))
	}
	ms, err := h.silenceMatchersFor(g)
	if err != nil {
		return failed(err, render.SilenceRefusedReply(err))
	}
	comment := "Silenced from Slack: " + h.link(c)
	if c.comment != "" {
		comment += "\n" + c.comment
	}
	now := h.now()
	until := now.Add(d)
	o := h.silenceGroupUntil(ctx, c, g, ms, now, until, comment)
	if o.err != nil {
		return o
	}
	// The note says what was silenced: the matchers come from the group's
	// labels, which may be narrower or wider than what people expect.
	h.refresh(ctx, g.Key, g.Route, render.SilencedNote(c.user, d, until, matchersText(ms)))
	o.text = render.SilencedReply(d, until, o.silenceID)
	return o
}

func (h *Handler) openSilenceDialog(ctx context.Context, c click) outcome {
	if h.slack == nil {
		err := errors.New("no Slack API client for dialogs")
		return failed(err, "Custom durations need amslack's Slack bot token; pick a listed duration instead.")
	}
	if c.triggerID == "" {
		err := errors.New("no trigger_id in the payload")
		return failed(err, "Slack sent no way to open the dialog; pick a listed duration instead.")
	}
	view, err := silenceView(c)
	if err != nil {
		return failed(err, "amslack could not build the dialog; pick a listed duration instead.")
	}
	if _, err := h.slack.OpenViewContext(ctx, c.triggerID, view); err != nil {
		// Slack: a trigger_id is valid for 3 seconds and once
		// (expired_trigger_id, exchanged_trigger_id).
		return failed(fmt.Errorf("views.open: %w", err), "Slack did not open the dialog, perhaps because amslack was slow to answer. Pick Custom again.")
	}
	return outcome{result: "dialog opened"}
}

func (h *Handler) unsilence(ctx context.Context, c click, g alertgroup.Group) outcome {
	mark := g.State.Silenced
	if mark == nil {
		return outcome{text: "This alert group is not silenced by amslack.", result: "not silenced"}
	}
	if mark.SilenceID != "" {
		if h.silences == nil {
			return failed(errNoAlertmanager, "No Alertmanager is configured, so amslack cannot expire the silence.")
		}
		if err := h.expireSilence(ctx, mark.SilenceID); err != nil {
			return outcome{err: err, result: err.Error(), silenceID: mark.SilenceID,
				text: render.SilenceExpireFailedReply(mark.SilenceID, err)}
		}
	}
	_, err := h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		if s := sg.State.Silenced; s != nil && s.SilenceID == mark.SilenceID {
			sg.State.Silenced = nil
		}
		return nil
	})
	if err != nil {
		return outcome{err: err, result: err.Error(), silenceID: mark.SilenceID,
			text: render.UnsilenceRecordFailedReply(mark.SilenceID, err)}
	}
	h.refresh(ctx, g.Key, g.Route, render.UnsilencedNote(c.user))
	return outcome{text: render.UnsilencedReply(mark.SilenceID), result: "silence expired", silenceID: mark.SilenceID}
}

// ackComment starts with "ACK!", which karma and kthxbye read as an
// acknowledgement.
func (h *Handler) ackComment(c click) string {
	return fmt.Sprintf("ACK! Acknowledged in Slack by %s: %s", c.user.Name, h.link(c))
}

func (h *Handler) ack(ctx context.Context, c click, g alertgroup.Group) outcome {
	if m := g.State.Acked; m != nil {
		return outcome{text: render.AlreadyAckedReply(m.By), result: "already acknowledged", silenceID: m.SilenceID}
	}
	now := h.now()
	mark := &alertgroup.Mark{By: c.user, At: now}
	if h.ackMode == AckModeSilence {
		if h.silences == nil {
			return failed(errNoAlertmanager, "No Alertmanager is configured, so amslack cannot acknowledge with a silence.")
		}
		ms, err := h.silenceMatchersFor(g)
		if err != nil {
			return failed(err, render.AckRefusedReply(err))
		}
		mark.Until = now.Add(h.ackDuration)
		id, err := h.silences.CreateSilence(ctx, amclient.Silence{
			Matchers: ms, StartsAt: now, EndsAt: mark.Until, CreatedBy: createdBy(c.user), Comment: h.ackComment(c),
		})
		if err != nil {
			return failed(err, render.AckCreateFailedReply(err))
		}
		mark.SilenceID = id
	}
	var (
		first *alertgroup.Mark
		ended bool
		cur   alertgroup.Group
	)
	_, err := h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		first, ended, cur = sg.State.Acked, endedSince(g, *sg), *sg
		if first == nil && !ended {
			sg.State.Acked = mark
		}
		return nil
	})
	if err == nil && ended {
		return h.ackEnded(ctx, g, cur, mark)
	}
	if err != nil || first != nil {
		// Lost the race to another acknowledgement, or could not record
		// it: take the silence back.
		if mark.SilenceID != "" {
			if xerr := h.expireSilence(ctx, mark.SilenceID); xerr != nil {
				h.logger.Error("cannot roll back acknowledgement silence", "silence_id", mark.SilenceID, "err", xerr)
			}
		}
		if err != nil {
			return outcome{err: err, result: err.Error(), text: render.AckRecordFailedReply(err)}
		}
		return outcome{text: render.AlreadyAckedReply(first.By), result: "already acknowledged", silenceID: first.SilenceID}
	}
	h.refresh(ctx, g.Key, g.Route, render.AckedNote(c.user))
	return outcome{
		text:      render.AckedReply(h.ackDuration, mark.SilenceID),
		result:    "acknowledged",
		silenceID: mark.SilenceID,
	}
}

func (h *Handler) unack(ctx context.Context, c click, g alertgroup.Group) outcome {
	mark := g.State.Acked
	if mark == nil {
		return outcome{text: "This alert group is not acknowledged.", result: "not acknowledged"}
	}
	if mark.SilenceID != "" {
		if h.silences == nil {
			return failed(errNoAlertmanager, "No Alertmanager is configured, so amslack cannot expire the acknowledgement silence.")
		}
		if err := h.expireSilence(ctx, mark.SilenceID); err != nil {
			return outcome{err: err, result: err.Error(), silenceID: mark.SilenceID,
				text: render.AckExpireFailedReply(mark.SilenceID, err)}
		}
	}
	var current string
	_, err := h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		// The reconciler may have replaced the silence meanwhile; the
		// acknowledgement is the same as long as its author and time are.
		current = ""
		if a := sg.State.Acked; a != nil && a.By.ID == mark.By.ID && a.At.Equal(mark.At) {
			current = a.SilenceID
			sg.State.Acked = nil
		}
		return nil
	})
	if err != nil {
		return outcome{err: err, result: err.Error(), silenceID: mark.SilenceID,
			text: render.UnackRecordFailedReply(err)}
	}
	if current != "" && current != mark.SilenceID {
		if err := h.expireSilence(ctx, current); err != nil {
			h.logger.Warn("cannot expire extended acknowledgement silence", "silence_id", current, "err", err)
		}
	}
	h.refresh(ctx, g.Key, g.Route, render.UnackedNote(c.user))
	return outcome{text: "Acknowledgement removed.", result: "acknowledgement removed", silenceID: mark.SilenceID}
}
