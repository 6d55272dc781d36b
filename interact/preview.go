package interact

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/interact/businesshours"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// The silence preview is one modal (callback_id silence_preview) that the
// Custom silence… button, the "more" option of the silence_alert select and
// /amslack silence open. It shows the matchers, the duration or end and the
// comment, all editable; the end on the clicker's clock (users.info's tz,
// cached); and the alerts that the matchers match now, from Alertmanager's
// GET /api/v2/alerts with the same filter. Enter in an input, or the
// Refresh preview button, sends block_actions from inside the view, and
// amslack answers with views.update on the view's id and hash. When the
// matchers match alerts outside the group (or, from the command, outside the
// channel's groups), the modal warns and a checkbox must be ticked before
// the submission is taken. Submitted, the silence rule is checked again,
// the silence created, and the group's message and thread show it.
//
// Slack calls per flow, each through the one slackapi.Client and its
// limiter: opening costs views.open and users.info (once per user per
// zoneTTL); each refresh costs views.update; the submission costs none
// itself, the message's update going out through the sender's outbox.

// previewViewID is the preview modal's callback_id.
const previewViewID = render.PreviewViewID

// Where a preview was opened from, in its metadata.
const (
	previewFromGroup   = "group"   // the Custom silence… button
	previewFromAlert   = "alert"   // the silence_alert select's "more" option
	previewFromCommand = "command" // /amslack silence
)

// Timings of the preview.
const (
	// previewBudget bounds the Alertmanager and Slack reads behind a
	// preview that is about to be opened: Slack accepts a trigger_id for 3
	// seconds after the click.
	previewBudget = 1500 * time.Millisecond
	// zoneTTL is how long a user's time zone is cached; people seldom
	// change it.
	zoneTTL = time.Hour
	// defaultPreviewEnd is the end input's value when nothing else gives
	// one.
	defaultPreviewEnd = "2h"
)

// errNoBusinessHours refuses a silence until the next business day on a
// route that no longer has business hours.
var errNoBusinessHours = errors.New("the route has no business hours")

// viewUpdater and userReader are the parts of Slack's Web API that only
// the preview needs; *slackapi.Client implements both. Without them the
// preview shows times in UTC and cannot refresh.
type (
	viewUpdater interface {
		UpdateViewContext(ctx context.Context, view slack.ModalViewRequest, externalID, hash, viewID string) (*slack.ViewResponse, error)
	}
	userReader interface {
		GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	}
)

// previewMetadata travels in the modal's private_metadata (at most 3000
// characters; the matchers input is bounded to leave room) from the click
// or command that opened it to every refresh and the submission.
type previewMetadata struct {
	Source     string `json:"src"`
	Team       string `json:"team,omitempty"`
	TeamDomain string `json:"domain,omitempty"`
	Channel    string `json:"channel"`
	// TS is the group's message; "" for the command.
	TS          string `json:"ts,omitempty"`
	Route       string `json:"route,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
	// Zone is the opener's time zone, in which typed end times are read.
	Zone string `json:"tz,omitempty"`
	// Matchers are the matchers the preview shows the alerts of, as
	// matchersString writes them; Outside is how many of those alerts lie
	// outside the group.
	Matchers string `json:"matchers,omitempty"`
	Outside  int    `json:"outside,omitempty"`
}

func (m previewMetadata) encode() (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	if len(b) > maxPrivateMetadata {
		return "", fmt.Errorf("preview metadata is %d bytes, Slack allows %d", len(b), maxPrivateMetadata)
	}
	return string(b), nil
}

// maxPrivateMetadata is Slack's limit on a view's private_metadata.
const maxPrivateMetadata = 3000

func decodePreviewMetadata(s string) (previewMetadata, error) {
	var m previewMetadata
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return previewMetadata{}, err
	}
	if m.Channel == "" || (m.Source != previewFromCommand && m.TS == "") {
		return previewMetadata{}, errors.New("preview metadata names no channel or message")
	}
	return m, nil
}

// previewInput is what the modal's inputs hold.
type previewInput struct {
	matchers, end, comment string
	confirmed              bool
}

// previewInputFrom reads the modal's inputs from a payload's view state.
func previewInputFrom(v slack.View) previewInput {
	if v.State == nil {
		return previewInput{}
	}
	vals := v.State.Values
	in := previewInput{
		matchers: strings.TrimSpace(vals[render.PreviewMatchersID][render.PreviewMatchersID].Value),
		end:      strings.TrimSpace(vals[render.PreviewEndID][render.PreviewEndID].Value),
		comment:  strings.TrimSpace(vals[render.PreviewCommentID][render.PreviewCommentID].Value),
	}
	for _, o := range vals[render.PreviewConfirmID][render.PreviewConfirmID].SelectedOptions {
		in.confirmed = in.confirmed || o.Value == render.PreviewConfirmValue
	}
	if r := []rune(in.comment); len(r) > maxComment {
		in.comment = string(r[:maxComment])
	}
	return in
}

// routeHours returns the business hours of the route named route, or nil.
func (h *Handler) routeHours(route string) *businesshours.Hours {
	if h.businessHours == nil || route == "" {
		return nil
	}
	return h.businessHours(route)
}

// userZone returns user's time zone from users.info, cached for zoneTTL;
// nil when Slack does not say (times then show in UTC).
func (h *Handler) userZone(ctx context.Context, user string) *time.Location {
	if loc, ok := h.zones.Get(user); ok {
		return loc
	}
	r, ok := h.slack.(userReader)
	if !ok || user == "" {
		return nil
	}
	u, err := r.GetUserInfoContext(ctx, user)
	if err != nil {
		h.logger.Debug("cannot read the user's time zone", "err", err)
		return nil
	}
	loc := loadZone(u.TZ)
	h.zones.Add(user, loc)
	return loc
}

// loadZone loads an IANA zone name; nil for none or an unknown one.
func loadZone(name string) *time.Location {
	if name == "" || name == "Local" {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}

func zoneName(loc *time.Location) string {
	if loc == nil {
		return ""
	}
	return loc.String()
}

// groupTitle names a group in the preview.
func groupTitle(g *alertgroup.Group) string {
	if g == nil || g.Message == nil || g.Message.Data == nil {
		return "this alert group"
	}
	return cmp.Or(g.Message.GroupLabels["alertname"], g.Message.CommonLabels["alertname"], "this alert group")
}

// firingAlerts returns the fingerprints of g's firing alerts.
func firingAlerts(g alertgroup.Group) map[string]bool {
	out := map[string]bool{}
	if g.Message != nil && g.Message.Data != nil {
		for _, a := range g.Message.Alerts {
			if a.Status == alertgroup.StatusFiring {
				out[a.Fingerprint] = true
			}
		}
		return out
	}
	for fp, st := range g.Alerts {
		if st == alertgroup.StatusFiring {
			out[fp] = true
		}
	}
	return out
}

// ownAlerts are the alerts a silence from the preview is meant for: the
// group's firing alerts, or, for the command, those of the firing groups
// amslack posted in its channel.
func (h *Handler) ownAlerts(ctx context.Context, meta previewMetadata, g *alertgroup.Group) (map[string]bool, error) {
	if meta.Source != previewFromCommand {
		if g == nil {
			return map[string]bool{}, nil
		}
		return firingAlerts(*g), nil
	}
	groups, err := h.groups.List(ctx)
	if err != nil {
		return nil, err
	}
	own := map[string]bool{}
	for _, gg := range groups {
		if gg.Key.Channel == meta.Channel && gg.Status == alertgroup.StatusFiring {
			for fp := range firingAlerts(gg) {
				own[fp] = true
			}
		}
	}
	return own, nil
}

// matched is what Alertmanager says matchers match now.
type matched struct {
	alerts []amclient.Alert
	// outside marks the fingerprints of alerts outside the own ones.
	outside map[string]bool
}

// match lists the alerts that ms match and tells those outside own.
func (h *Handler) match(ctx context.Context, ms labels.Matchers, own map[string]bool) (matched, error) {
	if h.silences == nil {
		return matched{}, errNoAlertmanager
	}
	alerts, err := h.silences.ListAlerts(ctx, ms)
	if err != nil {
		return matched{}, err
	}
	m := matched{alerts: alerts, outside: map[string]bool{}}
	for _, a := range alerts {
		if !own[a.Fingerprint] {
			m.outside[a.Fingerprint] = true
		}
	}
	return m, nil
}

// preview computes what the modal shows for the inputs in, opened as meta
// says by user, for the group g (nil from the command), and returns it
// with the metadata that goes with it.
func (h *Handler) preview(ctx context.Context, meta previewMetadata, in previewInput, user string, g *alertgroup.Group) render.Preview {
	now := h.now()
	zone := loadZone(meta.Zone)
	hours := h.routeHours(meta.Route)
	p := render.Preview{Matchers: in.matchers, End: in.end, Comment: in.comment, Now: now, Zone: zone}
	if meta.Source != previewFromCommand {
		p.Group = groupTitle(g)
	}
	p.PickAlert = meta.Source == previewFromAlert
	if hours != nil {
		p.Business = hours.Label(now, zone)
	}
	if end, err := parseSilenceEnd(in.end, now, zone, hours); err != nil {
		p.EndError = err.Error()
	} else {
		p.EndsAt = end
	}
	meta.Matchers, meta.Outside = "", 0
	ms, err := parseMatcherList(in.matchers)
	if err != nil {
		p.MatchersError = err.Error()
	} else {
		meta.Matchers = matchersString(ms)
		p.Count, p.Outside, p.Alerts, p.ListError = h.previewAlerts(ctx, meta, ms, g)
		meta.Outside = p.Outside
		if reason, err := h.silenceAllowed(ctx, h.silenceRule, user, ms); err == nil {
			p.Refusal = reason
		}
	}
	p.Metadata, err = meta.encode()
	if err != nil {
		// Only the matchers can make it long; the input is bounded well
		// below, so this does not happen. Refuse the submission rather
		// than lose the metadata.
		h.logger.Error("cannot encode the preview's metadata", "err", err)
		p.MatchersError = "These matchers are too long for Slack's modal; shorten them."
		meta.Matchers = ""
		p.Metadata, _ = meta.encode()
	}
	return p
}

// previewAlerts lists the alerts that ms match for the preview: their
// count, how many lie outside the own alerts, the first of them (those
// outside first), and why they could not be listed.
func (h *Handler) previewAlerts(ctx context.Context, meta previewMetadata, ms labels.Matchers, g *alertgroup.Group) (count, outside int, first []render.PreviewAlert, listErr string) {
	own, err := h.ownAlerts(ctx, meta, g)
	if err != nil {
		return 0, 0, nil, "amslack could not read its alert groups"
	}
	m, err := h.match(ctx, ms, own)
	if err != nil {
		return 0, 0, nil, err.Error()
	}
	type keyed struct {
		alert render.PreviewAlert
		key   string
	}
	all := make([]keyed, len(m.alerts))
	for i, a := range m.alerts {
		all[i] = keyed{
			alert: render.PreviewAlert{Labels: a.Labels, State: a.Status.State, Outside: m.outside[a.Fingerprint]},
			key:   labelSet(a.Labels).String(),
		}
	}
	// Those outside first: they are what the clicker must look at.
	slices.SortFunc(all, func(a, b keyed) int {
		if a.alert.Outside != b.alert.Outside {
			if a.alert.Outside {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	for _, k := range all[:min(len(all), render.MaxPreviewAlerts)] {
		first = append(first, k.alert)
	}
	return len(all), len(m.outside), first, ""
}

// openPreview opens the preview for the click c on the group g: its
// matchers are the group's, as a silence of the group would have them.
func (h *Handler) openPreview(ctx context.Context, c click, g alertgroup.Group, source string) outcome {
	if h.slack == nil {
		err := errors.New("no Slack API client for modals")
		return failed(err, "The silence preview needs amslack's Slack bot token; pick a listed duration instead.")
	}
	if c.triggerID == "" {
		err := errors.New("no trigger_id in the payload")
		return failed(err, "Slack sent no way to open the silence preview; pick a listed duration instead.")
	}
	in := previewInput{end: defaultPreviewEnd}
	if ms, err := h.silenceMatchersFor(g); err == nil {
		if lms, err := silenceLabelMatchers(ms); err == nil {
			in.matchers = matchersString(lms)
		}
	}
	if len([]rune(in.matchers)) > render.MaxPreviewMatchers {
		in.matchers = ""
	}
	meta := previewMetadata{
		Source: source, Team: c.team, TeamDomain: c.teamDomain, Channel: c.channel, TS: c.ts,
		Route: g.Route, ResponseURL: c.responseURL,
	}
	return h.openPreviewView(ctx, c.triggerID, c.user.ID, meta, in, &g)
}

// openPreviewView computes the preview and opens it with triggerID.
func (h *Handler) openPreviewView(ctx context.Context, triggerID, user string, meta previewMetadata, in previewInput, g *alertgroup.Group) outcome {
	pctx, cancel := context.WithTimeout(ctx, previewBudget)
	meta.Zone = zoneName(h.userZone(pctx, user))
	p := h.preview(pctx, meta, in, user, g)
	cancel()
	if _, err := h.slack.OpenViewContext(ctx, triggerID, render.SilencePreviewModal(p)); err != nil {
		// Slack: a trigger_id is valid for 3 seconds and once
		// (expired_trigger_id, exchanged_trigger_id).
		return failed(fmt.Errorf("views.open: %w", err), "Slack did not open the silence preview, perhaps because amslack was slow to answer. Try again.")
	}
	return outcome{result: "preview opened"}
}

// dispatchPreviewAction takes block_actions from inside a preview: Enter
// in an input or the Refresh preview button. A refresh changes nothing but
// the view, so it is not de-duplicated; it is dropped when the queue is
// full, and the next one brings the view up to date.
func (h *Handler) dispatchPreviewAction(cb slack.InteractionCallback) {
	select {
	case h.queue <- func(ctx context.Context) { h.refreshPreview(ctx, cb) }:
	default:
		h.logger.Warn("preview refresh dropped, queue full")
	}
}

// refreshPreview computes the preview again from the view's inputs and
// replaces the view with views.update, on the hash the payload carried:
// Slack refuses the update with hash_conflict when a newer one got there
// first, which then stands.
func (h *Handler) refreshPreview(ctx context.Context, cb slack.InteractionCallback) {
	meta, err := decodePreviewMetadata(cb.View.PrivateMetadata)
	if err != nil {
		h.logger.Warn("preview with unreadable metadata", "err", err)
		return
	}
	up, ok := h.slack.(viewUpdater)
	if !ok {
		h.logger.Warn("no Slack client to update the preview with")
		return
	}
	var g *alertgroup.Group
	if meta.TS != "" {
		if gg, found, err := h.groups.ByMessage(ctx, meta.Channel, meta.TS); err == nil && found {
			g = &gg
		}
	}
	p := h.preview(ctx, meta, previewInputFrom(cb.View), cb.User.ID, g)
	_, err = up.UpdateViewContext(ctx, render.SilencePreviewModal(p), "", cb.View.Hash, cb.View.ID)
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &se) && se.Err == "hash_conflict":
		h.logger.Debug("preview changed meanwhile, update dropped", "view_id", cb.View.ID)
	case err != nil:
		h.logger.Warn("cannot update the preview", "view_id", cb.View.ID, "err", err)
	}
}
