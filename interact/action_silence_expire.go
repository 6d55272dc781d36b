package interact

import (
	"context"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// ActionSilenceExpire is the action_id of the button Expire now, on the
// expiry warning in a group's thread and next to each silence and
// acknowledgement on App Home; its value is the silence's id.
const ActionSilenceExpire = "silence_expire"

// silenceExpireAction expires, in Alertmanager, a silence that covers the
// group: a silence made from Slack or elsewhere that the group's thread
// follows, or the acknowledgement silence, whose expiry removes the
// acknowledgement. It stays possible once the group resolved, as
// unsilence does, and is authorized with the silence rule and counted
// with unsilence.
type silenceExpireAction struct{}

func (silenceExpireAction) ID() string   { return ActionSilenceExpire }
func (silenceExpireAction) Kind() string { return kindUnsilence }

func (silenceExpireAction) Controls(alertgroup.State, render.Options) []render.Control { return nil }

func (silenceExpireAction) Rule(h *Handler, _ string) Rule { return h.silenceRule }

func (silenceExpireAction) Refusal(_ *Handler, c click, g alertgroup.Group) string {
	if !followsSilence(g.State, c.value) && !ackSilence(g.State, c.value) {
		return render.SilenceNotHereReply
	}
	return ""
}

func (silenceExpireAction) Silences(*Handler) bool { return false }

func (silenceExpireAction) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	return h.expireFollowed(ctx, c, g)
}

func (silenceExpireAction) Undoes() []string { return []string{ActionSilence} }

// ackSilence reports whether id is the silence of st's acknowledgement.
func ackSilence(st alertgroup.State, id string) bool {
	return id != "" && st.Acked != nil && st.Acked.SilenceID == id
}

func (h *Handler) expireFollowed(ctx context.Context, c click, g alertgroup.Group) outcome {
	id := c.value
	if h.silences == nil {
		return failed(errNoAlertmanager, "No Alertmanager is configured, so amslack cannot expire the silence.")
	}
	if err := h.expireSilence(ctx, id); err != nil {
		return outcome{err: err, result: err.Error(), silenceID: id, text: render.SilenceExpireFailedReply(id, err)}
	}
	now := h.now()
	var acked bool
	_, err := h.groups.Update(ctx, g.Key, func(sg *alertgroup.Group, found bool) error {
		if !found {
			return errNotTracked
		}
		acked = ackSilence(sg.State, id)
		if acked {
			sg.State.Acked = nil
		}
		recordExpiry(&sg.State, id, now)
		return nil
	})
	if err != nil {
		return outcome{err: err, result: err.Error(), silenceID: id, text: render.UnsilenceRecordFailedReply(id, err)}
	}
	note := render.SilenceExpiredByNote(c.user)
	if acked {
		note = render.UnackedNote(c.user)
	}
	h.refresh(ctx, g.Key, g.Route, note)
	return outcome{text: render.UnsilencedReply(id), result: "silence expired", silenceID: id}
}

// recordExpiry records in st that the silence id was expired at now from
// Slack, which said so in the thread: its marks go, and the thread's
// record of it ends without a note of its own.
func recordExpiry(st *alertgroup.State, id string, now time.Time) {
	unmark(st, id)
	if st.FollowedSilences == nil {
		st.FollowedSilences = map[string]alertgroup.FollowedSilence{}
	}
	rec, ok := st.FollowedSilences[id]
	if !ok {
		rec = alertgroup.FollowedSilence{SeenAt: now, FromSlack: true}
	}
	if rec.EndedAt.IsZero() {
		rec.EndedAt = now
	}
	st.FollowedSilences[id] = rec
}
