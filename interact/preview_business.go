package interact

import (
	"context"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// UntilBusiness is the silence select's option value that silences the
// group until its route's next business day starts (render.BusinessDayOption,
// offered on routes with business hours); the select's other values are Go
// durations.
const UntilBusiness = render.UntilBusinessValue

// silenceUntilBusiness silences the group g until its route's next
// business day starts, computed at the click with the route's business
// hours (businesshours.Hours.NextStart, in the route's zone), and tells the
// clicker when that is on their own clock.
func (h *Handler) silenceUntilBusiness(ctx context.Context, c click, g alertgroup.Group) outcome {
	hours := h.routeHours(g.Route)
	if hours == nil {
		return failed(errNoBusinessHours, "This alert group's route has no business hours (any more); pick a duration instead.")
	}
	if h.silences == nil {
		return failed(errNoAlertmanager, "No Alertmanager is configured, so amslack cannot create silences.")
	}
	ms, err := h.silenceMatchersFor(g)
	if err != nil {
		return failed(err, render.SilenceRefusedReply(err))
	}
	now := h.now()
	until, err := parseSilenceEnd(UntilBusiness, now, nil, hours)
	if err != nil {
		return failed(err, render.ErrorReply(err))
	}
	o := h.silenceGroupUntil(ctx, c, g, ms, now, until, "Silenced from Slack until the next business day: "+h.link(c))
	if o.err != nil {
		return o
	}
	h.refresh(ctx, g.Key, g.Route, render.SilencedNote(c.user, noteDuration(until.Sub(now)), until, matchersText(ms)))
	o.text = render.BusinessSilencedReply(hours.Label(now, h.userZone(ctx, c.user.ID)), o.silenceID)
	return o
}
