package interact

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// DefaultAckReminderInterval is how often the handler looks for
// acknowledgements whose reminder is due.
const DefaultAckReminderInterval = 15 * time.Second

// MinAckReminder is the shortest acknowledgement reminder: a shorter one
// would nag rather than remind.
const MinAckReminder = time.Minute

// reminderPostTimeout bounds the post of one reminder, the wait for
// Slack's rate limits included.
const reminderPostTimeout = time.Minute

// Results of amslack_ack_reminders_total.
const (
	reminderPosted = "posted"
	reminderFailed = "failed"
)

type reminderMetrics struct {
	reminders *prometheus.CounterVec
}

func newReminderMetrics(reg prometheus.Registerer) *reminderMetrics {
	m := &reminderMetrics{
		reminders: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "ack_reminders_total",
			Help:      "Acknowledgement reminders by result: posted counts the reminders posted in their group's thread, failed the groups (or whole passes, when the store cannot list them) whose reminder the store or Slack refused; a reminder that Slack surely did not post is tried again on the next pass.",
		}, []string{"result"}),
	}
	for _, r := range []string{reminderPosted, reminderFailed} {
		m.reminders.WithLabelValues(r)
	}
	return m
}

// RemindAcks makes one pass over the groups and reminds whoever
// acknowledged a group that still fires one reminder period after the
// acknowledgement (or its last renewal, Still on it), in the group's
// thread, with the buttons Still on it and Unacknowledge. The reminder is
// recorded in the group's state (AckReminded) by the store update that
// finds it due, which is atomic, so that it is posted once per period
// even when several replicas share the store and across restarts; only
// the pass whose update recorded it posts it. When Slack surely did not
// post it (it answered an error), the record is taken back and the next
// pass tries again; when the outcome is unknown (a timeout), it is kept,
// so that a reminder is never posted twice. Run calls it every reminder
// interval.
func (h *Handler) RemindAcks(ctx context.Context) error {
	if h.ackReminder <= 0 || h.slack == nil {
		return nil
	}
	groups, err := h.groups.List(ctx)
	if err != nil {
		h.rmetrics.reminders.WithLabelValues(reminderFailed).Inc()
		return fmt.Errorf("list groups: %w", err)
	}
	var errs []error
	for _, g := range groups {
		if !reminderDue(g, h.ackReminder, h.now()) {
			continue
		}
		if err := h.remindAck(ctx, g.Key); err != nil {
			h.rmetrics.reminders.WithLabelValues(reminderFailed).Inc()
			errs = append(errs, fmt.Errorf("group %q in %s: %w", g.Key.GroupKey, g.Key.Channel, err))
		}
	}
	return errors.Join(errs...)
}

// errNoReminderDue aborts a store update that found no reminder due.
var errNoReminderDue = errors.New("no acknowledgement reminder due")

// remindAck records the reminder of the group at key and posts it.
func (h *Handler) remindAck(ctx context.Context, key alertgroup.Key) error {
	now := h.now()
	g, err := h.groups.Update(ctx, key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		// Decided on the stored group: another replica, an unack, a
		// renewal or a resolve may have come first.
		if !reminderDue(*sg, h.ackReminder, now) {
			return errNoReminderDue
		}
		sg.State.AckReminded = now
		return nil
	})
	if errors.Is(err, errNotTracked) || errors.Is(err, errNoReminderDue) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record acknowledgement reminder: %w", err)
	}
	st := g.State
	m := render.AckReminderMessage(render.AckReminder{
		Acker: st.Acked.By, Group: g.Message.Data, GroupKey: g.Message.GroupKey,
		For: now.Sub(st.AckPeriodStart()), Renewed: st.AckRenewed.After(st.Acked.At),
		Controls: reminderControls(now),
	})
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reminderPostTimeout)
	defer cancel()
	_, _, err = h.slack.PostMessageContext(pctx, key.Channel,
		slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks.BlockSet...), slack.MsgOptionTS(g.TS))
	if err != nil {
		if !unposted(err) {
			h.logger.Warn("acknowledgement reminder may not have been posted; it is not tried again, so that it is never posted twice",
				"group_key", key.GroupKey, "channel", key.Channel, "err", err)
			return fmt.Errorf("post acknowledgement reminder: %w", err)
		}
		h.unremind(ctx, key, now)
		return fmt.Errorf("post acknowledgement reminder: %w", err)
	}
	h.rmetrics.reminders.WithLabelValues(reminderPosted).Inc()
	h.logger.Info("acknowledgement reminder posted", "group_key", key.GroupKey, "channel", key.Channel,
		"route", g.Route, "acked_by", st.Acked.By.ID, "period_start", st.AckPeriodStart())
	return nil
}

// unremind takes back the reminder recorded at at for the group at key,
// whose post failed, so that the next pass posts it.
func (h *Handler) unremind(ctx context.Context, key alertgroup.Key, at time.Time) {
	_, err := h.groups.Update(ctx, key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		if sg.State.AckReminded.Equal(at) {
			sg.State.AckReminded = time.Time{}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errNotTracked) {
		h.logger.Error("cannot take back an acknowledgement reminder that was not posted; it is not posted in this period",
			"group_key", key.GroupKey, "channel", key.Channel, "err", err)
	}
}

// reminderControls are the reminder's buttons. Still on it carries the
// reminder's time, so that de-duplication tells the clicks on successive
// reminders apart.
func reminderControls(at time.Time) []render.Control {
	return []render.Control{
		{ActionID: ActionAckRenew, Text: "Still on it", Value: strconv.FormatInt(at.Unix(), 10), Style: "primary"},
		{ActionID: ActionUnack, Text: "Unacknowledge"},
	}
}

// reminderDue reports whether the acknowledgement reminder of g is due at
// now for a reminder period of every: g fires in a Slack message, someone
// acknowledged it and nobody silenced it, a period has passed since the
// acknowledgement or its last renewal, and no reminder was posted since.
func reminderDue(g alertgroup.Group, every time.Duration, now time.Time) bool {
	if g.Status != alertgroup.StatusFiring || g.Key.IsWebhook() || g.TS == "" ||
		g.Message == nil || g.Message.Data == nil ||
		g.State.Acked == nil || g.State.Silenced != nil {
		return false
	}
	start := g.State.AckPeriodStart()
	return now.Sub(start) >= every && g.State.AckReminded.Before(start)
}

// unposted reports whether err, from chat.postMessage, says for sure that
// Slack did not post the message: Slack answered, with an error (ok:
// false), 429 or another error status. After any other error (a timeout, a
// broken connection) the message may have been posted.
func unposted(err error) bool {
	var (
		resp   slack.SlackErrorResponse
		limit  *slack.RateLimitedError
		status slack.StatusCodeError
	)
	return errors.As(err, &resp) || errors.As(err, &limit) || errors.As(err, &status)
}

// checkFollowUps checks the settings of the acknowledgement reminders and
// the digests, which post through Slack.
func (h *Handler) checkFollowUps() []error {
	var errs []error
	if h.ackReminder != 0 && h.ackReminder < MinAckReminder {
		errs = append(errs, fmt.Errorf("ack_reminder: must be 0 (off) or at least %s, got %s", MinAckReminder, h.ackReminder))
	}
	if h.ackReminder > 0 && h.slack == nil {
		errs = append(errs, errors.New("ack_reminder: reminders need a Slack client to post them"))
	}
	if h.digests != nil && (h.slack == nil || h.claims == nil) {
		errs = append(errs, errors.New("digests need a Slack client to post them and a store to claim each due time"))
	}
	return errs
}
