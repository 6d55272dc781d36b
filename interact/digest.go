package interact

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// DefaultDigestInterval is how often the handler looks for digests that
// are due.
const DefaultDigestInterval = 30 * time.Second

// digestPostTimeout bounds the post of one digest, the wait for Slack's
// rate limits included.
const digestPostTimeout = time.Minute

// Claims is the part of the store that makes sure a piece of work is done
// once across replicas and restarts; every alertgroup.Store implements it.
type Claims interface {
	Once(ctx context.Context, name string, keep time.Duration) (first bool, err error)
	Forget(ctx context.Context, name string) error
}

// SilenceLister is implemented by a Silencer that can list Alertmanager's
// silences; *amclient.Client does, from GET /api/v2/silences. Without it
// digests list no silences.
type SilenceLister interface {
	ListSilences(ctx context.Context) ([]amclient.ListedSilence, error)
}

// Results of amslack_digests_total.
const (
	digestPosted  = "posted"
	digestSkipped = "skipped"
	digestFailed  = "failed"
)

type digestMetrics struct {
	digests *prometheus.CounterVec
}

func newDigestMetrics(reg prometheus.Registerer) *digestMetrics {
	m := &digestMetrics{
		digests: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "digests_total",
			Help:      "Route digests by result: posted, skipped (nothing to list, so nothing posted), failed (the store or Slack refused; a digest that Slack surely did not post is tried again on the next pass).",
		}, []string{"result"}),
	}
	for _, r := range []string{digestPosted, digestSkipped, digestFailed} {
		m.digests.WithLabelValues(r)
	}
	return m
}

// digestState is what a handler remembers of the digests it finished, so
// that it asks the store about each due time once.
type digestState struct {
	// mu guards done.
	mu sync.Mutex
	// done maps a digest's route and channel to the last due time that
	// this handler posted, skipped or found claimed by another.
	done map[string]time.Time
}

func (s *digestState) finished(d Digest, due time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done[d.Route+"\x1f"+d.Channel].Equal(due)
}

func (s *digestState) finish(d Digest, due time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = map[string]time.Time{}
	}
	s.done[d.Route+"\x1f"+d.Channel] = due
}

// PostDigests makes one pass over the configured digests and posts each
// one that is due: at its latest due time, when no digest was posted for
// it yet. A due time missed while amslack was down is so posted once when
// it comes back before the next one. The store's Once claims each due time
// for one replica, across restarts too; a digest with nothing to list is
// skipped and posts nothing. When Slack surely did not post it, the claim
// is dropped and the next pass tries again; when the outcome is unknown (a
// timeout), the claim is kept, so that a digest is never posted twice. Run
// calls it every digest interval.
func (h *Handler) PostDigests(ctx context.Context) error {
	if h.digests == nil || h.claims == nil || h.slack == nil {
		return nil
	}
	now := h.now()
	var (
		groups []alertgroup.Group
		listed bool
		errs   []error
	)
	for _, d := range h.digests() {
		due := d.Last(now)
		if due.IsZero() || h.dstate.finished(d, due) {
			continue
		}
		name := digestClaim(d, due)
		// The claim must outlast the time in which due is the latest due
		// time: at most every, or an hour more across a change of
		// daylight saving time.
		first, err := h.claims.Once(ctx, name, 2*d.Every)
		if err != nil {
			h.dmetrics.digests.WithLabelValues(digestFailed).Inc()
			errs = append(errs, fmt.Errorf("digest of route %s: claim %s: %w", d.Route, due, err))
			continue
		}
		if !first {
			h.dstate.finish(d, due)
			continue
		}
		if !listed {
			if groups, err = h.groups.List(ctx); err != nil {
				h.forgetClaim(ctx, name)
				h.dmetrics.digests.WithLabelValues(digestFailed).Inc()
				errs = append(errs, fmt.Errorf("list groups: %w", err))
				break
			}
			listed = true
		}
		if err := h.postDigest(ctx, d, due, now, groups, name); err != nil {
			h.dmetrics.digests.WithLabelValues(digestFailed).Inc()
			errs = append(errs, fmt.Errorf("digest of route %s: %w", d.Route, err))
		}
	}
	return errors.Join(errs...)
}

// postDigest posts the digest d due at due, whose claim is name, or skips
// it when it lists nothing.
func (h *Handler) postDigest(ctx context.Context, d Digest, due, now time.Time, groups []alertgroup.Group, name string) error {
	content := h.digestContent(ctx, d, due, now, groups)
	if content.Empty() {
		h.dstate.finish(d, due)
		h.dmetrics.digests.WithLabelValues(digestSkipped).Inc()
		h.logger.Debug("digest skipped: nothing to list", "route", d.Route, "due", due)
		return nil
	}
	m := render.DigestMessage(content)
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), digestPostTimeout)
	defer cancel()
	// Slack unfurls links to messages as previews; a digest links many.
	_, _, err := h.slack.PostMessageContext(pctx, d.Channel,
		slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks.BlockSet...),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	if err != nil {
		if unposted(err) {
			h.forgetClaim(ctx, name)
		} else {
			h.dstate.finish(d, due)
			h.logger.Warn("digest may not have been posted; it is not tried again, so that it is never posted twice",
				"route", d.Route, "channel", d.Channel, "due", due, "err", err)
		}
		return fmt.Errorf("post: %w", err)
	}
	h.dstate.finish(d, due)
	h.dmetrics.digests.WithLabelValues(digestPosted).Inc()
	h.logger.Info("digest posted", "route", d.Route, "channel", d.Channel, "due", due,
		"firing", len(content.Firing), "resolved", len(content.Resolved), "silences", len(content.Silences))
	return nil
}

// forgetClaim drops the claim name of a digest that was not posted, so
// that the next pass, here or on another replica, posts it.
func (h *Handler) forgetClaim(ctx context.Context, name string) {
	if err := h.claims.Forget(context.WithoutCancel(ctx), name); err != nil {
		h.logger.Error("cannot drop the claim of a digest that was not posted; it is not posted for this due time",
			"claim", name, "err", err)
	}
}

// digestClaim names the claim of d's digest due at due.
func digestClaim(d Digest, due time.Time) string {
	return "digest:" + d.Route + ":" + d.Channel + ":" + due.UTC().Format(time.RFC3339)
}

// digestContent gathers what d's digest due at due lists at now: the
// route's groups that fire, those that resolved after the previous due time
// and by due, and the active silences that cover one of the route's
// groups and end before the next due time. Amslack's own acknowledgement
// silences are left out: the firing groups show their acknowledgement, and
// the reconciler extends those silences while the groups fire.
func (h *Handler) digestContent(ctx context.Context, d Digest, due, now time.Time, groups []alertgroup.Group) render.Digest {
	c := render.Digest{Since: d.Last(due.Add(-time.Nanosecond)), Next: d.Next(due), Now: now}
	var own []alertgroup.Group
	for _, g := range groups {
		if g.Route != d.Route || g.Key.IsWebhook() || g.TS == "" {
			continue
		}
		own = append(own, g)
		dg := render.DigestGroup{Group: g, Link: h.permalink(h.workspaceDomain(), g.Key.Channel, g.TS)}
		switch g.Status {
		case alertgroup.StatusFiring:
			c.Firing = append(c.Firing, dg)
		case alertgroup.StatusResolved:
			if g.ResolvedAt.After(c.Since) && !g.ResolvedAt.After(due) {
				c.Resolved = append(c.Resolved, dg)
			}
		}
	}
	lister, ok := h.silences.(SilenceLister)
	if !ok || len(own) == 0 {
		return c
	}
	// A silence names the first group it covers: a firing one if any.
	slices.SortStableFunc(own, func(a, b alertgroup.Group) int {
		return cmp.Compare(statusOrder(a.Status), statusOrder(b.Status))
	})
	silences, err := lister.ListSilences(ctx)
	if err != nil {
		h.logger.Warn("cannot read Alertmanager's silences for a digest; it lists none", "route", d.Route, "err", err)
		c.SilencesUnknown = true
		return c
	}
	for _, s := range silences {
		if s.State != amclient.SilenceActive || !s.EndsAt.After(now) || !s.EndsAt.Before(c.Next) ||
			strings.HasPrefix(s.Comment, "ACK!") {
			continue
		}
		g, ok := coveredGroup(s, own)
		if !ok {
			continue
		}
		c.Silences = append(c.Silences, render.DigestSilence{
			ID: s.ID, Matchers: matchersText(s.Matchers), CreatedBy: s.CreatedBy, EndsAt: s.EndsAt,
			Covers: g, Link: h.permalink(h.workspaceDomain(), g.Key.Channel, g.TS),
		})
	}
	return c
}

// statusOrder puts firing groups before the others.
func statusOrder(status string) int {
	if status == alertgroup.StatusFiring {
		return 0
	}
	return 1
}

// coveredGroup returns the first of groups that silence s covers: one of
// whose alerts, as last delivered, s's matchers all match. A silence whose
// matchers Alertmanager would not accept covers nothing.
func coveredGroup(s amclient.ListedSilence, groups []alertgroup.Group) (alertgroup.Group, bool) {
	ms, err := silenceLabelMatchers(s.Matchers)
	if err != nil || len(ms) == 0 {
		return alertgroup.Group{}, false
	}
	for _, g := range groups {
		if g.Message == nil || g.Message.Data == nil {
			continue
		}
		for _, a := range g.Message.Alerts {
			if ms.Matches(labelSet(a.Labels)) {
				return g, true
			}
		}
	}
	return alertgroup.Group{}, false
}

// silenceLabelMatchers converts the matchers of a silence in Alertmanager's
// API form, which may be regular expressions and negations, to parsed ones.
func silenceLabelMatchers(ms []amclient.Matcher) (labels.Matchers, error) {
	out := make(labels.Matchers, 0, len(ms))
	for _, m := range ms {
		lm, err := labels.NewMatcher(m.Type(), m.Name, m.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, lm)
	}
	return out, nil
}

// noteWorkspace remembers the workspace's domain from an interaction, for
// the links of digests, which no interaction carries.
func (h *Handler) noteWorkspace(domain string) {
	if workspaceDomain.MatchString(domain) {
		h.workspace.Store(&domain)
	}
}

// workspaceDomain is the domain noteWorkspace last remembered, or "".
func (h *Handler) workspaceDomain() string {
	if d := h.workspace.Load(); d != nil {
		return *d
	}
	return ""
}
