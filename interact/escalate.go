package interact

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// DefaultEscalationInterval is how often the handler looks for escalation
// steps that are due.
const DefaultEscalationInterval = 15 * time.Second

// Escalation is a route's escalation policy: while a group of one of
// Severities fires, unacknowledged and not silenced, each step calls its
// mention in the message's thread once its After has passed since the
// group's message was posted for the current firing episode.
type Escalation struct {
	// Severities are the group severities (as the message shows them)
	// that escalate.
	Severities []string
	// Steps in order of After, which increases strictly.
	Steps []EscalationStep
}

// EscalationStep is one step of an Escalation.
type EscalationStep struct {
	After time.Duration
	// Mention is a Slack mention: <@U…>, <!subteam^S…>, <!here> or
	// <!channel>.
	Mention string
	// Broadcast also shows the step's thread reply in the channel.
	Broadcast bool
}

// Results of amslack_escalations_total.
const (
	escalationFired  = "fired"
	escalationFailed = "failed"
)

type escalationMetrics struct {
	steps *prometheus.CounterVec
}

func newEscalationMetrics(reg prometheus.Registerer) *escalationMetrics {
	m := &escalationMetrics{
		steps: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "escalations_total",
			Help:      "Escalations by result: fired counts the steps recorded and handed to the outbox, failed the groups (or whole passes, when the store cannot list them) that the store or the outbox refused; a step that failed is tried again on the next pass.",
		}, []string{"result"}),
	}
	for _, r := range []string{escalationFired, escalationFailed} {
		m.steps.WithLabelValues(r)
	}
	return m
}

// Escalate makes one pass over the groups and fires the escalation steps
// that are due. A step is recorded in the group's state by the store
// update that finds it due, which is atomic, so that each step fires once
// per firing episode even when several replicas share the store and across
// restarts; only the pass whose update recorded it hands its thread reply
// to the Refresher, whose outbox is durable and retries it. Run calls it
// every escalation interval.
func (h *Handler) Escalate(ctx context.Context) error {
	if h.escalation == nil || h.refresher == nil {
		return nil
	}
	groups, err := h.groups.List(ctx)
	if err != nil {
		h.emetrics.steps.WithLabelValues(escalationFailed).Inc()
		return fmt.Errorf("list groups: %w", err)
	}
	var errs []error
	for _, g := range groups {
		p := h.escalation(g.Route)
		if p == nil || len(dueSteps(g, p, h.now())) == 0 {
			continue
		}
		if err := h.escalate(ctx, g.Key, g.Route, p); err != nil {
			h.emetrics.steps.WithLabelValues(escalationFailed).Inc()
			errs = append(errs, fmt.Errorf("group %q in %s: %w", g.Key.GroupKey, g.Key.Channel, err))
		}
	}
	return errors.Join(errs...)
}

// escalate records the steps of p due for the group at key and hands their
// notes to the Refresher.
func (h *Handler) escalate(ctx context.Context, key alertgroup.Key, route string, p *Escalation) error {
	now := h.now()
	var (
		fired []alertgroup.Escalation
		notes []string
	)
	stored, err := h.groups.Update(ctx, key, func(sg *alertgroup.Group, found bool) error {
		fired, notes = nil, nil
		if !found {
			return errNotTracked
		}
		// Decided on the stored group: another replica, an ack or a
		// resolve may have come first.
		for _, i := range dueSteps(*sg, p, now) {
			s := p.Steps[i]
			e := alertgroup.Escalation{Step: i, Mention: s.Mention, At: now}
			sg.State.Escalated = append(sg.State.Escalated, e)
			fired = append(fired, e)
			note := render.EscalatedNote(s.Mention, sg.Message.Data, sg.Message.GroupKey, s.After)
			notes = append(notes, render.UrgentNote(note, s.Broadcast))
		}
		if len(fired) == 0 {
			return errNothingDue
		}
		return nil
	})
	if errors.Is(err, errNotTracked) || errors.Is(err, errNothingDue) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record escalation: %w", err)
	}
	if err := h.refresher.Refresh(ctx, key, route, notes...); err != nil {
		// Nothing will post the notes: forget the steps so that the next
		// pass fires them again.
		h.unrecord(ctx, key, fired)
		return fmt.Errorf("queue escalation reply: %w", err)
	}
	for _, e := range fired {
		h.emetrics.steps.WithLabelValues(escalationFired).Inc()
		h.logger.Info("alert group escalated", "group_key", key.GroupKey, "channel", key.Channel,
			"route", route, "step", e.Step, "mention", e.Mention, "firing_since", stored.FirstAt)
	}
	return nil
}

// errNothingDue aborts a store update that found no step due.
var errNothingDue = errors.New("no escalation step due")

// unrecord removes the escalation records fired from the group at key.
func (h *Handler) unrecord(ctx context.Context, key alertgroup.Key, fired []alertgroup.Escalation) {
	_, err := h.groups.Update(ctx, key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		sg.State.Escalated = slices.DeleteFunc(sg.State.Escalated, func(e alertgroup.Escalation) bool {
			return slices.ContainsFunc(fired, func(f alertgroup.Escalation) bool { return f.Step == e.Step && f.At.Equal(e.At) })
		})
		return nil
	})
	if err != nil && !errors.Is(err, errNotTracked) {
		h.logger.Error("cannot forget escalation steps whose reply was not queued; they will not fire again in this episode",
			"group_key", key.GroupKey, "channel", key.Channel, "err", err)
	}
}

// dueSteps returns the indexes of p's steps that are due at now for g and
// have not fired in its current firing episode: g must be firing, in a
// Slack message, of one of p's severities, and neither acknowledged nor
// silenced. The episode begins when the group's message is posted
// (FirstAt); a group that fires again after it resolved gets a new message
// with a new FirstAt and a state without escalations.
func dueSteps(g alertgroup.Group, p *Escalation, now time.Time) []int {
	if g.Status != alertgroup.StatusFiring || g.Key.IsWebhook() || g.TS == "" ||
		g.Message == nil || g.Message.Data == nil || g.FirstAt.IsZero() ||
		g.State.Acked != nil || g.State.Silenced != nil ||
		!slices.Contains(p.Severities, render.Severity(g.Message.Data)) {
		return nil
	}
	var due []int
	for i, s := range p.Steps {
		if now.Sub(g.FirstAt) < s.After {
			break
		}
		if !slices.ContainsFunc(g.State.Escalated, func(e alertgroup.Escalation) bool { return e.Step == i }) {
			due = append(due, i)
		}
	}
	return due
}
