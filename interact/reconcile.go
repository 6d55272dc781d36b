package interact

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// every runs pass each interval until ctx ends, each pass bounded by the
// interval so that a slow peer cannot stack passes up; a failed pass is
// logged and the next one tries again.
func (h *Handler) every(ctx context.Context, interval time.Duration, what string, pass func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, interval)
			if err := pass(pctx); err != nil {
				h.logger.Warn(what+" failed", "err", err)
			}
			cancel()
		}
	}
}

// StartTimeReader is implemented by a Silencer that can tell when its
// Alertmanager process started; *amclient.Client does, from GET
// /api/v2/status. The reconciler uses it to tell an Alertmanager that lost
// its alerts in a restart from one whose alerts resolved.
type StartTimeReader interface {
	StartedAt(ctx context.Context) (time.Time, error)
}

// amStart is Alertmanager's start time, read at most once per pass.
type amStart struct {
	read bool
	at   time.Time // zero when the Silencer cannot tell
	err  error
}

func (s *amStart) get(ctx context.Context, silences Silencer) (time.Time, error) {
	if !s.read {
		s.read = true
		if r, ok := silences.(StartTimeReader); ok {
			s.at, s.err = r.StartedAt(ctx)
		}
	}
	return s.at, s.err
}

// Reconcile makes one pass over the groups that amslack silenced or that
// someone acknowledged, and compares them with Alertmanager:
//
//   - A group none of whose alerts Alertmanager still lists is marked
//     resolved, its acknowledgement silence expired and its message
//     refreshed, once that absence proves resolution (see absent).
//     Alertmanager sends no resolved notification for alerts it silenced,
//     so without this the message would show them firing forever.
//   - A group that still fires, or whose absence proves nothing yet, and is
//     acknowledged with a silence ending within two reconcile intervals
//     gets that silence extended by the ack duration, as kthxbye does, so
//     an acknowledgement lasts as long as the problem.
//
// Run calls it every reconcile interval.
func (h *Handler) Reconcile(ctx context.Context) error {
	if h.silences == nil {
		return nil
	}
	groups, err := h.groups.List(ctx)
	if err != nil {
		h.metrics.reconcileErr.Inc()
		return fmt.Errorf("list groups: %w", err)
	}
	var (
		errs  []error
		start amStart
	)
	for _, g := range groups {
		if g.Status == alertgroup.StatusResolved {
			// Resolved through a notification while acknowledged: the ACK!
			// silence would mute the group if it fires again.
			if a := g.State.Acked; a != nil && a.SilenceID != "" {
				if err := h.endAck(ctx, g, a.SilenceID); err != nil {
					h.metrics.reconcileErr.Inc()
					errs = append(errs, fmt.Errorf("group %q in %s: %w", g.Key.GroupKey, g.Key.Channel, err))
				}
			}
			continue
		}
		if g.Message == nil || g.Message.Data == nil {
			continue
		}
		if g.State.Silenced == nil && g.State.Acked == nil {
			continue
		}
		if err := h.reconcileGroup(ctx, g, &start); err != nil {
			h.metrics.reconcileErr.Inc()
			errs = append(errs, fmt.Errorf("group %q in %s: %w", g.Key.GroupKey, g.Key.Channel, err))
		}
	}
	if start.err != nil {
		// Once per pass, not once per group that needed it.
		h.metrics.reconcileErr.Inc()
		errs = append(errs, fmt.Errorf("read when Alertmanager started: %w", start.err))
	}
	return errors.Join(errs...)
}

// endAck expires the acknowledgement silence of a resolved group and
// forgets the acknowledgement.
func (h *Handler) endAck(ctx context.Context, g alertgroup.Group, id string) error {
	if err := h.expireSilence(ctx, id); err != nil {
		return err
	}
	_, err := h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		if a := sg.State.Acked; a != nil && a.SilenceID == id {
			// The mark stays for the record; the silence is gone.
			kept := *a
			kept.SilenceID = ""
			sg.State.Acked = &kept
		}
		return nil
	})
	if errors.Is(err, errNotTracked) {
		return nil
	}
	if err != nil {
		return err
	}
	h.metrics.reconciled.WithLabelValues("ack_expired").Inc()
	h.refresh(ctx, g.Key, g.Route)
	return nil
}

func (h *Handler) reconcileGroup(ctx context.Context, g alertgroup.Group, start *amStart) error {
	// The group labels select the group's alerts as Alertmanager's route
	// does; without any (group_by: []), the common labels are the best
	// available.
	ls := g.Message.GroupLabels
	if len(ls) == 0 {
		ls = g.Message.CommonLabels
	}
	if len(ls) == 0 {
		return nil
	}
	filter, err := labelMatchers(amclient.EqualMatchers(ls))
	if err != nil {
		return err
	}
	alerts, err := h.silences.ListAlerts(ctx, filter)
	if err != nil {
		return err
	}
	if len(alerts) == 0 {
		return h.absent(ctx, g, start)
	}
	if !g.AbsentSince.IsZero() {
		if _, err := h.markAbsent(ctx, g.Key, time.Time{}); err != nil {
			if errors.Is(err, errNotTracked) {
				return nil
			}
			return err
		}
		h.logger.Info("Alertmanager lists the alert group's alerts again", "group_key", g.Key.GroupKey, "channel", g.Key.Channel, "absent_since", g.AbsentSince)
	}
	return h.keepAck(ctx, g)
}

// keepAck extends the acknowledgement silence of a group that may still
// fire when it ends within two reconcile intervals, so that it cannot lapse
// before the next pass.
func (h *Handler) keepAck(ctx context.Context, g alertgroup.Group) error {
	a := g.State.Acked
	if h.ackMode == AckModeSilence && a != nil && a.SilenceID != "" && a.Until.Sub(h.now()) < 2*h.interval {
		return h.extendAck(ctx, g)
	}
	return nil
}

// absent handles a group none of whose alerts Alertmanager lists. That
// alone proves nothing: Alertmanager keeps silences on disk but alerts only
// in memory, so after a restart it lists no alerts until Prometheus sends
// them again (on its next rule evaluation, at most every
// --rules.alert.resend-delay). Absence proves resolution only when
// Alertmanager has been running for the resolve timeout, long enough to
// have heard from Prometheus since it started; when the Silencer cannot
// tell when Alertmanager started, only once the alerts have been absent
// for the resolve timeout, counted from the first pass that found them
// gone (kept in the store, so that restarts of amslack do not reset it)
// or from a later notification, which showed them firing. Until then the
// group stays firing and its acknowledgement silence is kept alive.
func (h *Handler) absent(ctx context.Context, g alertgroup.Group, start *amStart) error {
	now := h.now()
	since := g.AbsentSince
	if since.IsZero() {
		stored, err := h.markAbsent(ctx, g.Key, now)
		if errors.Is(err, errNotTracked) {
			return nil
		}
		if err != nil {
			return err
		}
		since = stored.AbsentSince
		h.metrics.reconciled.WithLabelValues("absent").Inc()
		h.logger.Info("Alertmanager lists none of the alert group's alerts; waiting for proof that they resolved",
			"group_key", g.Key.GroupKey, "channel", g.Key.Channel, "resolve_timeout", h.resolveTimeout)
	}
	from := since
	if g.NotifiedAt.After(from) {
		from = g.NotifiedAt
	}
	// A failure to read the start time is reported once by Reconcile; the
	// absence's own length decides meanwhile.
	if started, err := start.get(ctx, h.silences); err == nil && !started.IsZero() {
		from = started
	}
	if now.Sub(from) >= h.resolveTimeout {
		return h.resolve(ctx, g)
	}
	return h.keepAck(ctx, g)
}

// markAbsent records when the reconciler first found the group's alerts
// absent, keeping an earlier record (another replica's); a zero at clears
// it. It returns the group as stored.
func (h *Handler) markAbsent(ctx context.Context, key alertgroup.Key, at time.Time) (alertgroup.Group, error) {
	return h.groups.Update(ctx, key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		if at.IsZero() || sg.AbsentSince.IsZero() {
			sg.AbsentSince = at
		}
		return nil
	})
}

func (h *Handler) resolve(ctx context.Context, g alertgroup.Group) error {
	now := h.now()
	var (
		changed bool
		ackID   string
	)
	_, err := h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		changed, ackID = false, ""
		// A notification that arrived since the pass began knows better
		// than an alert list read before it; the next pass looks again.
		if sg.Status == alertgroup.StatusResolved || !sg.UpdatedAt.Equal(g.UpdatedAt) {
			return nil
		}
		changed = true
		sg.Status = alertgroup.StatusResolved
		sg.ResolvedAt = now
		sg.AbsentSince = time.Time{}
		for fp := range sg.Alerts {
			sg.Alerts[fp] = alertgroup.StatusResolved
		}
		if m := sg.Message; m != nil && m.Data != nil {
			m.Status = alertgroup.StatusResolved
			for i := range m.Alerts {
				m.Alerts[i].Status = alertgroup.StatusResolved
				if m.Alerts[i].EndsAt.IsZero() || m.Alerts[i].EndsAt.After(now) {
					m.Alerts[i].EndsAt = now
				}
			}
		}
		if a := sg.State.Acked; a != nil && a.SilenceID != "" {
			// The mark stays for the record; the silence is expired below.
			ackID = a.SilenceID
			kept := *a
			kept.SilenceID = ""
			sg.State.Acked = &kept
		}
		return nil
	})
	if errors.Is(err, errNotTracked) {
		return nil
	}
	if err != nil || !changed {
		return err
	}
	h.metrics.reconciled.WithLabelValues("resolved").Inc()
	h.logger.Info("alert group resolved while silenced", "group_key", g.Key.GroupKey, "channel", g.Key.Channel)
	if ackID != "" {
		if err := h.expireSilence(ctx, ackID); err != nil {
			h.logger.Warn("cannot expire acknowledgement silence", "silence_id", ackID, "err", err)
		}
	}
	h.refresh(ctx, g.Key, g.Route, render.ResolvedWhileSilencedNote)
	return nil
}

func (h *Handler) extendAck(ctx context.Context, g alertgroup.Group) error {
	a := g.State.Acked
	ms, err := h.silenceMatchersFor(g)
	if err != nil {
		return err
	}
	now := h.now()
	until := now.Add(h.ackDuration)
	c := click{channel: g.Key.Channel, ts: g.TS, user: a.By}
	// Alertmanager updates a silence in place when the id and matchers are
	// unchanged and otherwise replaces it with a new id, expiring the old
	// one; either way the answer's id is the one to keep.
	id, err := h.createSilence(ctx, amclient.Silence{
		ID: a.SilenceID, Matchers: ms, StartsAt: now, EndsAt: until,
		CreatedBy: createdBy(a.By), Comment: h.ackComment(c),
	})
	if err != nil {
		return fmt.Errorf("extend acknowledgement silence: %w", err)
	}
	var kept bool
	_, err = h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		kept = false
		if m := sg.State.Acked; m != nil && m.SilenceID == a.SilenceID {
			m.SilenceID, m.Until, kept = id, until, true
		}
		return nil
	})
	if err != nil || !kept {
		// Unacknowledged meanwhile: the extension must not outlive it.
		if xerr := h.expireSilence(ctx, id); xerr != nil {
			h.logger.Warn("cannot expire stray acknowledgement silence", "silence_id", id, "err", xerr)
		}
		if errors.Is(err, errNotTracked) {
			return nil
		}
		return err
	}
	h.metrics.reconciled.WithLabelValues("extended").Inc()
	h.refresh(ctx, g.Key, g.Route)
	return nil
}
