package interact

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// previewSubmission is a submitted preview whose fields passed the checks
// that need nothing but the payload.
type previewSubmission struct {
	meta     previewMetadata
	in       previewInput
	matchers labels.Matchers
}

// dispatchPreviewSubmission checks a submitted preview at once, answering
// field errors that Slack shows under the inputs at fault: matchers that do
// not parse or that changed since the preview, an end that does not parse,
// and a silence wider than the group that is not confirmed. A submission
// that passes is queued; the workers check the silence rule and create
// the silence.
func (h *Handler) dispatchPreviewSubmission(cb slack.InteractionCallback) *slack.ViewSubmissionResponse {
	fieldError := func(block, msg string) *slack.ViewSubmissionResponse {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{block: msg})
	}
	meta, err := decodePreviewMetadata(cb.View.PrivateMetadata)
	if err != nil {
		return fieldError(render.PreviewMatchersID, render.PreviewExpired)
	}
	in := previewInputFrom(cb.View)
	ms, err := parseMatcherList(in.matchers)
	if err != nil {
		return fieldError(render.PreviewMatchersID, err.Error())
	}
	if matchersString(ms) != meta.Matchers {
		return fieldError(render.PreviewMatchersID, render.PreviewMatchersChanged)
	}
	if _, err := parseSilenceEnd(in.end, h.now(), loadZone(meta.Zone), h.routeHours(meta.Route)); err != nil {
		return fieldError(render.PreviewEndID, err.Error())
	}
	if meta.Outside > 0 && !in.confirmed {
		return fieldError(render.PreviewConfirmID, render.PreviewConfirmNeeded(meta.Outside, meta.Source != previewFromCommand))
	}
	sub := previewSubmission{meta: meta, in: in, matchers: ms}
	c := click{
		team:        cmpOr(meta.Team, cmpOr(cb.Team.ID, cb.User.TeamID)),
		teamDomain:  meta.TeamDomain,
		channel:     meta.Channel,
		ts:          meta.TS,
		user:        alertgroup.User{ID: cb.User.ID, Name: cmpOr(cb.User.Name, cb.User.Username)},
		action:      ActionSilence,
		value:       render.Clip(meta.Matchers+" for "+in.end, maxAuditValue),
		comment:     in.comment,
		responseURL: meta.ResponseURL,
		viewID:      cb.View.ID,
	}
	h.enqueue(c, func(ctx context.Context, c click) {
		text, ok := h.submitPreview(ctx, c, sub)
		h.settle(c, ok)
		h.respond(ctx, c.responseURL, text)
	})
	return nil
}

// submitPreview checks the submitted silence against the silence rule and
// against what it matches now, creates it, and shows it on the group's
// message: as the group's silence when it covers all the group's firing
// alerts, as silences of those alerts when it covers some. It returns
// what to tell the clicker and whether the silence was created.
func (h *Handler) submitPreview(ctx context.Context, c click, sub previewSubmission) (string, bool) {
	logger := h.logger.With("action", previewViewID, "channel", c.channel, "message_ts", c.ts)
	deny := func(reason string) (string, bool) {
		h.record(c, DecisionDenied, reason, "", "")
		return reason, false
	}
	fail := func(result, text string) (string, bool) {
		h.record(c, DecisionFailed, result, "", "")
		return text, false
	}
	rule := h.silenceRule
	var g *alertgroup.Group
	if sub.meta.Source != previewFromCommand {
		gg, found, err := h.lookup(ctx, c.channel, c.ts)
		switch {
		case err != nil:
			logger.Error("cannot read alert group", "err", err)
			return fail("store unavailable", "amslack could not read the state of this alert group. Nothing was done; try again in a moment.")
		case !found:
			return fail("message not tracked", "amslack no longer tracks this message (it may be old or resolved long ago). Nothing was done.")
		}
		if reason := resolvedRefusal(gg); reason != "" {
			return deny(reason)
		}
		reason, err := h.authorize(ctx, rule, c.user.ID, commonLabels(gg))
		if err != nil {
			logger.Error("cannot check authorization", "err", err)
			return fail("authorization check failed", "amslack could not check whether you may do this (Slack user groups are unavailable). Nothing was done; try again in a moment.")
		}
		if reason != "" {
			return deny(reason)
		}
		g = &gg
	}
	reason, err := h.silenceAllowed(ctx, rule, c.user.ID, sub.matchers)
	if err != nil {
		logger.Error("cannot check the silence against its rule", "err", err)
		return fail("authorization check failed", "amslack could not check which alerts the silence would cover (Alertmanager is unavailable). Nothing was done; try again in a moment.")
	}
	if reason != "" {
		// The reason quotes matchers and labels from outside.
		return deny(render.EscapeMrkdwn(reason))
	}
	if h.silences == nil {
		return fail(errNoAlertmanager.Error(), "No Alertmanager is configured, so amslack cannot create silences.")
	}
	own, err := h.ownAlerts(ctx, sub.meta, g)
	if err != nil {
		logger.Error("cannot list alert groups", "err", err)
		return fail("store unavailable", "amslack could not read its alert groups. Nothing was done; try again in a moment.")
	}
	m, err := h.match(ctx, sub.matchers, own)
	if err != nil {
		logger.Warn("cannot list the alerts the silence matches", "err", err)
		return fail("alertmanager unavailable", render.Mrkdwnf("Alertmanager did not list the alerts the silence matches: %v. Nothing was done; try again in a moment.", err))
	}
	if len(m.outside) > 0 && !sub.in.confirmed {
		// The alerts changed since the preview.
		return deny(render.PreviewConfirmNeeded(len(m.outside), g != nil) + " Open the preview again; nothing was done.")
	}
	h.record(c, DecisionAllowed, "", "", "")

	now := h.now()
	zone := loadZone(sub.meta.Zone)
	until, err := parseSilenceEnd(sub.in.end, now, zone, h.routeHours(sub.meta.Route))
	if err != nil {
		return fail(err.Error(), render.ErrorReply(err))
	}
	ms := silenceMatchers(sub.matchers)
	comment := h.previewComment(c, sub)
	var o outcome
	switch covered := coveredAlerts(g, m); {
	case g != nil && len(covered) > 0 && len(covered) == len(firingAlerts(*g)):
		o = h.silenceGroupUntil(ctx, c, *g, ms, now, until, comment)
		if o.err == nil {
			h.refresh(ctx, g.Key, g.Route, render.SilencedNote(c.user, noteDuration(until.Sub(now)), until, matchersText(ms)))
		}
	case g != nil && len(covered) > 0:
		o = h.silenceAlertsUntil(ctx, c, *g, covered, ms, now, until, comment)
		if o.err == nil {
			h.refresh(ctx, g.Key, g.Route, render.PreviewAlertsSilencedNote(c.user, len(covered), len(firingAlerts(*g)), noteDuration(until.Sub(now)), matchersText(ms)))
		}
	default:
		id, err := h.silences.CreateSilence(ctx, amclient.Silence{
			Matchers: ms, StartsAt: now, EndsAt: until, CreatedBy: createdBy(c.user), Comment: comment,
		})
		if err != nil {
			o = failed(err, render.SilenceCreateFailedReply(err))
		} else {
			o = outcome{silenceID: id}
		}
	}
	if o.err != nil {
		logger.Warn("interaction failed", "err", o.err)
		h.record(c, DecisionFailed, o.result, o.silenceID, "")
		return o.text, false
	}
	h.record(c, DecisionSucceeded, fmt.Sprintf("%d alerts silenced until %s", len(m.alerts), until.UTC().Format(time.RFC3339)), o.silenceID, "")
	return render.PreviewSilencedReply(len(m.alerts), until, zone, o.silenceID), true
}

// previewComment is the comment of a silence from the preview: where it
// came from, then what the clicker wrote.
func (h *Handler) previewComment(c click, sub previewSubmission) string {
	s := "Silenced from Slack: " + h.link(c)
	if sub.meta.Source == previewFromCommand {
		s = fmt.Sprintf("Silenced from Slack with /amslack silence in channel %s", c.channel)
	}
	if sub.in.comment != "" {
		s += "\n" + sub.in.comment
	}
	return s
}

// coveredAlerts returns the fingerprints of g's firing alerts among the
// matched ones, sorted; none for a nil g.
func coveredAlerts(g *alertgroup.Group, m matched) []string {
	if g == nil {
		return nil
	}
	firing := firingAlerts(*g)
	var out []string
	for _, a := range m.alerts {
		if firing[a.Fingerprint] && !slices.Contains(out, a.Fingerprint) {
			out = append(out, a.Fingerprint)
		}
	}
	slices.Sort(out)
	return out
}

// noteDuration rounds how long a silence lasts for a note: an end given as
// a time lies a fraction of a minute from a whole duration.
func noteDuration(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

// silenceGroupUntil silences the whole group g with the matchers ms from
// now until until, replacing the silence amslack made for it before, and
// records it as the group's silence. The caller refreshes the message.
func (h *Handler) silenceGroupUntil(ctx context.Context, c click, g alertgroup.Group, ms []amclient.Matcher, now, until time.Time, comment string) outcome {
	var prev string
	if m := g.State.Silenced; m != nil {
		prev = m.SilenceID
	}
	o := h.recordSilence(ctx, c, g.Key, amclient.Silence{
		ID: prev, Matchers: ms, StartsAt: now, EndsAt: until, CreatedBy: createdBy(c.user), Comment: comment,
	}, func(st *alertgroup.State, m alertgroup.Mark) string {
		var old string
		if st.Silenced != nil {
			old = st.Silenced.SilenceID
		}
		st.Silenced = &m
		return old
	})
	if o.err == nil {
		o.result = "silenced until " + until.UTC().Format(time.RFC3339)
	}
	return o
}

// silenceAlertsUntil silences some of g's alerts, those of the
// fingerprints fps, with one new silence of the matchers ms, and records it
// as the silence of each of them; the silences they had before stay. The
// caller refreshes the message.
func (h *Handler) silenceAlertsUntil(ctx context.Context, c click, g alertgroup.Group, fps []string, ms []amclient.Matcher, now, until time.Time, comment string) outcome {
	o := h.recordSilence(ctx, c, g.Key, amclient.Silence{
		Matchers: ms, StartsAt: now, EndsAt: until, CreatedBy: createdBy(c.user), Comment: comment,
	}, func(st *alertgroup.State, m alertgroup.Mark) string {
		marks := maps.Clone(st.SilencedAlerts)
		if marks == nil {
			marks = map[string]alertgroup.Mark{}
		}
		for _, fp := range fps {
			marks[fp] = m
		}
		st.SilencedAlerts = marks
		return ""
	})
	if o.err == nil {
		o.result = fmt.Sprintf("%d alerts silenced until %s", len(fps), until.UTC().Format(time.RFC3339))
	}
	return o
}
