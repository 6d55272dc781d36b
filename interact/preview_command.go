package interact

import (
	"context"
	"errors"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// silenceReader is the part of Alertmanager's API that /amslack unsilence
// reads silences with; *amclient.Client implements it.
type silenceReader interface {
	ListSilences(ctx context.Context) ([]amclient.ListedSilence, error)
}

// unsilenceByID expires the Alertmanager silence id for the person behind
// c, who must be allowed to create it under the silence rule, as the
// Unsilence button requires for a group's silence; the messages of the
// groups whose silence it was show it gone. It returns what to tell them.
func (h *Handler) unsilenceByID(ctx context.Context, c click, id string) string {
	logger := h.logger.With("action", c.action, "channel", c.channel, "silence_id", id)
	fail := func(result, text string) string {
		h.record(c, DecisionFailed, result, id, "")
		return text
	}
	reader, ok := h.silences.(silenceReader)
	if !ok {
		return fail(errNoAlertmanager.Error(), "No Alertmanager is configured, so amslack cannot expire silences.")
	}
	all, err := reader.ListSilences(ctx)
	if err != nil {
		logger.Warn("cannot list silences", "err", err)
		return fail("alertmanager unavailable", render.Mrkdwnf("Alertmanager did not list its silences: %v. Nothing was done; try again in a moment.", err))
	}
	var s *amclient.ListedSilence
	for i := range all {
		if all[i].ID == id {
			s = &all[i]
		}
	}
	switch {
	case s == nil:
		return fail("unknown silence", render.UnknownSilenceReply(id))
	case s.State == amclient.SilenceExpired:
		return fail("already expired", render.SilenceAlreadyExpiredReply(id))
	}
	ms, err := silenceLabelMatchers(s.Matchers)
	if err != nil {
		return fail("unreadable matchers", render.Mrkdwnf("amslack cannot read the matchers of silence %s: %v. Nothing was done.", id, err))
	}
	reason, err := h.silenceAllowed(ctx, h.silenceRule, c.user.ID, ms)
	if err != nil {
		logger.Error("cannot check the silence against its rule", "err", err)
		return fail("authorization check failed", "amslack could not check whether you may do this (Alertmanager or Slack user groups are unavailable). Nothing was done; try again in a moment.")
	}
	if reason != "" {
		h.record(c, DecisionDenied, reason, id, "")
		return render.EscapeMrkdwn(reason)
	}
	h.record(c, DecisionAllowed, "", id, "")
	if err := h.expireSilence(ctx, id); err != nil {
		return fail(err.Error(), render.SilenceExpireFailedReply(id, err))
	}
	if err := h.unmarkSilence(ctx, c, id); err != nil {
		logger.Warn("cannot update the messages of the silenced groups", "err", err)
		h.record(c, DecisionSucceeded, "silence expired; messages not updated", id, "")
		return render.UnsilenceRecordFailedReply(id, err)
	}
	h.record(c, DecisionSucceeded, "silence expired", id, "")
	return render.UnsilencedReply(id)
}

// unmarkSilence removes the silence id from the groups that show it, as
// theirs or as one of their alerts', and refreshes their messages.
func (h *Handler) unmarkSilence(ctx context.Context, c click, id string) error {
	groups, err := h.groups.List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, g := range groups {
		if !markedSilence(g.State, id) {
			continue
		}
		changed := false
		_, err := h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
			if !found {
				return errNotTracked
			}
			changed = unmark(&sg.State, id)
			return nil
		})
		switch {
		case errors.Is(err, errNotTracked):
		case err != nil:
			errs = append(errs, err)
		case changed:
			h.refresh(ctx, g.Key, g.Route, render.UnsilencedNote(c.user))
		}
	}
	return errors.Join(errs...)
}
