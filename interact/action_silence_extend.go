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

// ActionSilenceExtend is the action_id of the expiry warning's button
// Extend 1h; its value is the silence's id.
const ActionSilenceExtend = "silence_extend"

// silenceExtension is how much longer Extend makes a silence last.
const silenceExtension = time.Hour

// silenceExtendAction makes a silence that covers the group end an hour
// later, in Alertmanager. Its button is on the expiry warning in the
// group's thread, never on the message. It is authorized with the silence
// rule, on the group's labels and, when the rule has matchers, on every
// alert that the silence covers, and counted with silence.
type silenceExtendAction struct{}

func (silenceExtendAction) ID() string   { return ActionSilenceExtend }
func (silenceExtendAction) Kind() string { return kindSilence }

func (silenceExtendAction) Controls(alertgroup.State, render.Options) []render.Control { return nil }

func (silenceExtendAction) Rule(h *Handler, _ string) Rule { return h.silenceRule }

func (silenceExtendAction) Refusal(_ *Handler, c click, g alertgroup.Group) string {
	if r := resolvedRefusal(g); r != "" {
		return r
	}
	if a := g.State.Acked; a != nil && a.SilenceID == c.value {
		return render.AckSilenceExtendReply
	}
	if !followsSilence(g.State, c.value) {
		return render.SilenceNotHereReply
	}
	return ""
}

// Silences is false: the silence keeps its matchers, which need not be
// equality matchers, and Perform checks them against the rule itself.
func (silenceExtendAction) Silences(*Handler) bool { return false }

func (silenceExtendAction) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	return h.extendSilence(ctx, c, g)
}

func (silenceExtendAction) Undoes() []string { return nil }

// followsSilence reports whether the silence id is one that st's group
// follows: a mark of amslack's, or one that the thread follows and that has
// not ended.
func followsSilence(st alertgroup.State, id string) bool {
	if id == "" {
		return false
	}
	if markedSilence(st, id) {
		return true
	}
	rec, ok := st.FollowedSilences[id]
	return ok && rec.EndedAt.IsZero()
}

// errNoSilenceList is the failure of an extension without a client that
// lists silences.
var errNoSilenceList = errors.New("the Alertmanager client cannot read silences")

// findSilence returns the silence id as Alertmanager lists it.
func (h *Handler) findSilence(ctx context.Context, id string) (amclient.ListedSilence, bool, error) {
	lister, ok := h.silences.(SilenceLister)
	if !ok {
		return amclient.ListedSilence{}, false, errNoSilenceList
	}
	all, err := lister.ListSilences(ctx)
	if err != nil {
		return amclient.ListedSilence{}, false, err
	}
	s, found := newSilenceListing(all).get(id)
	return s, found, nil
}

func (h *Handler) extendSilence(ctx context.Context, c click, g alertgroup.Group) outcome {
	if h.silences == nil {
		return failed(errNoAlertmanager, "No Alertmanager is configured, so amslack cannot extend silences.")
	}
	s, found, err := h.findSilence(ctx, c.value)
	if err != nil {
		return failed(err, render.SilenceReadFailedReply(err))
	}
	now := h.now()
	if !found || s.State == amclient.SilenceExpired || !s.EndsAt.After(now) {
		return outcome{denied: true, text: render.SilenceEndedReply, result: "not extended: the silence has ended", silenceID: c.value}
	}
	if reason, err := h.silenceRuleAllows(ctx, c, s); err != nil {
		return failed(err, "amslack could not check which alerts the silence covers (Alertmanager is unavailable). Nothing was done; try again in a moment.")
	} else if reason != "" {
		return outcome{denied: true, text: reason, result: "not extended: " + reason, silenceID: s.ID}
	}
	until := s.EndsAt.Add(silenceExtension)
	if until.Sub(now) > maxSilence {
		reply := render.SilenceExtendTooLongReply(maxSilence)
		return outcome{denied: true, text: reply, result: "not extended: too long", silenceID: s.ID}
	}
	// Alertmanager updates an active silence in place when its matchers
	// and start are unchanged, and otherwise replaces it with a new id,
	// expiring the old one; either way the answer's id is the one to keep.
	id, err := h.createSilence(ctx, amclient.Silence{
		ID: s.ID, Matchers: s.Matchers, StartsAt: s.StartsAt, EndsAt: until,
		CreatedBy: createdBy(c.user), Comment: s.Comment,
	})
	if err != nil {
		return outcome{err: err, result: err.Error(), silenceID: s.ID, text: render.SilenceExtendFailedReply(s.ID, err)}
	}
	extended := s
	extended.ID, extended.EndsAt, extended.CreatedBy = id, until, createdBy(c.user)
	_, err = h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		recordExtension(&sg.State, s.ID, extended, now)
		return nil
	})
	if err != nil {
		return outcome{err: err, result: err.Error(), silenceID: id, text: render.SilenceExtendRecordFailedReply(id, until, err)}
	}
	h.refresh(ctx, g.Key, g.Route, render.SilenceExtendedNote(c.user, silenceExtension, until))
	return outcome{
		text:      render.SilenceExtendedReply(id, silenceExtension, until),
		result:    "silence extended until " + until.UTC().Format(time.RFC3339),
		silenceID: id,
	}
}

// recordExtension records in st that the silence old is now s (the same
// silence, or its replacement), so that the thread neither takes the
// extension for a change made in Alertmanager nor the replacement for a
// new silence.
func recordExtension(st *alertgroup.State, old string, s amclient.ListedSilence, now time.Time) {
	if st.FollowedSilences == nil {
		st.FollowedSilences = map[string]alertgroup.FollowedSilence{}
	}
	rec, ok := st.FollowedSilences[old]
	if !ok {
		rec = alertgroup.FollowedSilence{SeenAt: now, FromSlack: markedSilence(*st, old)}
	}
	if s.ID != old {
		ended := rec
		ended.EndedAt = now
		st.FollowedSilences[old] = ended
	}
	rec.CreatedBy, rec.EndsAt, rec.Digest = s.CreatedBy, s.EndsAt, silenceDigest(s)
	st.FollowedSilences[s.ID] = rec
	moveMarks(st, old, s.ID, s.EndsAt)
}

// silenceRuleAllows applies the silence rule's matchers to the alerts that
// s covers, as for a silence created from Slack: the reason it refuses the
// clicker, or "".
func (h *Handler) silenceRuleAllows(ctx context.Context, c click, s amclient.ListedSilence) (string, error) {
	if len(h.silenceRule.ParsedMatchers) == 0 {
		return "", nil
	}
	ms, err := silenceLabelMatchers(s.Matchers)
	if err != nil {
		return "", fmt.Errorf("silence %s: %w", s.ID, err)
	}
	reason, err := h.silenceAllowed(ctx, h.silenceRule, c.user.ID, ms)
	return render.EscapeMrkdwn(reason), err
}
