package interact

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/store"
)

func (h *Handler) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, h.interval)
			if err := h.Reconcile(rctx); err != nil {
				h.logger.Warn("reconcile failed", "err", err)
			}
			cancel()
		}
	}
}

// Reconcile makes one pass over the groups that amslack silenced or that
// someone acknowledged, and compares them with Alertmanager:
//
//   - A group none of whose alerts Alertmanager still lists is marked
//     resolved, its acknowledgement silence expired and its message
//     refreshed. Alertmanager sends no resolved notification for alerts it
//     silenced, so without this the message would show them firing forever.
//   - A group that still fires and is acknowledged with a silence ending
//     within two reconcile intervals gets that silence extended by the ack
//     duration, as kthxbye does, so an acknowledgement lasts as long as the
//     problem.
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
	var errs []error
	for _, g := range groups {
		if g.Status == store.StatusResolved {
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
		if err := h.reconcileGroup(ctx, g); err != nil {
			h.metrics.reconcileErr.Inc()
			errs = append(errs, fmt.Errorf("group %q in %s: %w", g.Key.GroupKey, g.Key.Channel, err))
		}
	}
	return errors.Join(errs...)
}

// endAck expires the acknowledgement silence of a resolved group and
// forgets the acknowledgement.
func (h *Handler) endAck(ctx context.Context, g store.Group, id string) error {
	if err := h.expireSilence(ctx, id); err != nil {
		return err
	}
	_, err := h.groups.Update(ctx, g.Key, func(sg *store.Group, found bool) error {
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

func (h *Handler) reconcileGroup(ctx context.Context, g store.Group) error {
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
	filter := make(labels.Matchers, 0, len(ls))
	for _, m := range amclient.EqualMatchers(ls) {
		lm, err := labels.NewMatcher(labels.MatchEqual, m.Name, m.Value)
		if err != nil {
			return err
		}
		filter = append(filter, lm)
	}
	alerts, err := h.silences.ListAlerts(ctx, filter)
	if err != nil {
		return err
	}
	if len(alerts) == 0 {
		return h.resolve(ctx, g)
	}
	a := g.State.Acked
	if h.ackMode == AckModeSilence && a != nil && a.SilenceID != "" && a.Until.Sub(h.now()) < 2*h.interval {
		return h.extendAck(ctx, g)
	}
	return nil
}

func (h *Handler) resolve(ctx context.Context, g store.Group) error {
	now := h.now()
	var (
		changed bool
		ackID   string
	)
	_, err := h.groups.Update(ctx, g.Key, func(sg *store.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		changed, ackID = false, ""
		// A notification that arrived since the pass began knows better
		// than an alert list read before it; the next pass looks again.
		if sg.Status == store.StatusResolved || !sg.UpdatedAt.Equal(g.UpdatedAt) {
			return nil
		}
		changed = true
		sg.Status = store.StatusResolved
		sg.ResolvedAt = now
		for fp := range sg.Alerts {
			sg.Alerts[fp] = store.StatusResolved
		}
		if m := sg.Message; m != nil && m.Data != nil {
			m.Status = store.StatusResolved
			for i := range m.Alerts {
				m.Alerts[i].Status = store.StatusResolved
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
	h.refresh(ctx, g.Key, g.Route, "✅ Resolved while silenced: Alertmanager no longer has these alerts")
	return nil
}

func (h *Handler) extendAck(ctx context.Context, g store.Group) error {
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
	_, err = h.groups.Update(ctx, g.Key, func(sg *store.Group, found bool) error {
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
