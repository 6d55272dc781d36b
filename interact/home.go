package interact

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// DefaultHomeRefresh is the shortest time between two refreshes of one
// user's App Home when what it shows changes.
const DefaultHomeRefresh = 30 * time.Second

// homeRecent is how long after a user last opened App Home amslack keeps
// it current: Slack tells when Home is opened (app_home_opened), never
// when it is left.
const homeRecent = 15 * time.Minute

// maxHomeViewers bounds the users whose Home is kept current; the ones who
// opened it longest ago are dropped first.
const maxHomeViewers = 1000

// homeEndingWindow is how far ahead App Home lists the silences that end.
const homeEndingWindow = time.Hour

// homePublishTimeout bounds one views.publish, the wait for Slack's rate
// limits included.
const homePublishTimeout = 30 * time.Second

// eventAppHomeOpened is the type label of amslack_slack_events_total for
// app_home_opened.
const eventAppHomeOpened = "app_home_opened"

// HomePublisher is implemented by a SlackAPI that can publish App Home
// views (views.publish); slack-go's *slack.Client does. Without it
// app_home_opened is ignored.
type HomePublisher interface {
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
}

// Results of amslack_home_publishes_total.
const (
	homePublished = "published"
	homeUnchanged = "unchanged"
	homeFailed    = "failed"
)

type homeMetrics struct {
	publishes *prometheus.CounterVec
}

// newHomeMetrics registers amslack_home_publishes_total and creates the
// series of app_home_opened in sm's event counts.
func newHomeMetrics(reg prometheus.Registerer, sm *surfaceMetrics) *homeMetrics {
	m := &homeMetrics{
		publishes: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "home_publishes_total",
			Help:      "App Home views by result: published (views.publish succeeded), unchanged (the view the user has is current, so nothing was sent), failed (Slack or the store refused).",
		}, []string{"result"}),
	}
	for _, r := range []string{homePublished, homeUnchanged, homeFailed} {
		m.publishes.WithLabelValues(r)
	}
	for _, r := range []string{eventHandled, eventFailed, eventDuplicate, eventIgnored, eventOverloaded} {
		sm.events.WithLabelValues(eventAppHomeOpened, r)
	}
	return m
}

// homeState holds the users who opened App Home recently.
type homeState struct {
	// mu makes the look-up and insertion of a viewer one step.
	mu sync.Mutex
	// viewers maps a user id to their Home; its TTL, homeRecent, restarts
	// each time the user opens Home. The LRU locks itself.
	viewers *expirable.LRU[string, *homeViewer]
}

// homeViewer is what amslack remembers of one user's Home.
type homeViewer struct {
	// mu serializes the renderings and publishes of the user's Home, and
	// guards the fields below.
	mu        sync.Mutex
	opened    time.Time
	published time.Time
	// hash identifies the view published last.
	hash string
	// notice is the answer to the user's last click on Home, shown at its
	// top until Home is opened again.
	notice string
}

// open returns the viewer of user, who opened Home or clicked in it at
// now, and keeps it for homeRecent from now.
func (s *homeState) open(user string, now time.Time) *homeViewer {
	s.mu.Lock()
	v, ok := s.viewers.Peek(user)
	if !ok {
		v = &homeViewer{}
	}
	s.viewers.Add(user, v)
	s.mu.Unlock()
	v.mu.Lock()
	v.opened = now
	v.mu.Unlock()
	return v
}

// publisher is the Slack client's HomePublisher, or nil.
func (h *Handler) publisher() HomePublisher {
	p, _ := h.slack.(HomePublisher)
	return p
}

// refreshesHomes reports whether Run runs RefreshHomes.
func (h *Handler) refreshesHomes() bool {
	return h.homeRefresh > 0 && h.publisher() != nil
}

// homeOpenedWork is the work of an app_home_opened event: publishing the
// user's Home. It is nil for the Messages tab and without a publisher.
func (h *Handler) homeOpenedWork(ev *slackevents.AppHomeOpenedEvent) job {
	if ev.Tab != "home" || ev.User == "" || h.publisher() == nil {
		return nil
	}
	user := ev.User
	return func(ctx context.Context) { h.openHome(ctx, user) }
}

// openHome publishes the Home of user, who just opened it, unless the view
// they have is current. The notice of an earlier click goes.
func (h *Handler) openHome(ctx context.Context, user string) {
	v := h.home.open(user, h.now())
	v.mu.Lock()
	v.notice = ""
	v.mu.Unlock()
	if err := h.publishHome(ctx, user, v, nil, false); err != nil {
		h.smetrics.events.WithLabelValues(eventAppHomeOpened, eventFailed).Inc()
		h.logger.Warn("cannot publish App Home", "user", user, "err", err)
		return
	}
	h.smetrics.events.WithLabelValues(eventAppHomeOpened, eventHandled).Inc()
}

// RefreshHomes makes one pass over the users who opened App Home within
// homeRecent and republishes the Home of each whose content changed, at
// most once per home refresh period per user. Run calls it every home
// refresh period.
func (h *Handler) RefreshHomes(ctx context.Context) error {
	if h.publisher() == nil {
		return nil
	}
	now := h.now()
	type due struct {
		user string
		v    *homeViewer
	}
	var dues []due
	for _, user := range h.home.viewers.Keys() {
		v, ok := h.home.viewers.Peek(user)
		if !ok {
			continue
		}
		v.mu.Lock()
		ok = now.Sub(v.opened) < homeRecent && now.Sub(v.published) >= h.homeRefresh
		v.mu.Unlock()
		if ok {
			dues = append(dues, due{user, v})
		}
	}
	if len(dues) == 0 {
		return nil
	}
	d, err := h.readHome(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, x := range dues {
		if err := h.publishHome(ctx, x.user, x.v, &d, true); err != nil {
			errs = append(errs, fmt.Errorf("home of %s: %w", x.user, err))
		}
	}
	return errors.Join(errs...)
}

// publishHome renders the Home of user from d (read now when nil) and
// publishes it unless it is the view published last; a refresh
// (refreshing) publishes only when the home refresh period has passed
// since the last publish.
func (h *Handler) publishHome(ctx context.Context, user string, v *homeViewer, d *homeData, refreshing bool) error {
	p := h.publisher()
	if p == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if refreshing && h.now().Sub(v.published) < h.homeRefresh {
		return nil
	}
	if d == nil {
		read, err := h.readHome(ctx)
		if err != nil {
			h.hmetrics.publishes.WithLabelValues(homeFailed).Inc()
			return err
		}
		d = &read
	}
	now := h.now()
	view := render.HomeView(h.homeFor(*d, user, v.notice, now))
	b, err := json.Marshal(view)
	if err != nil {
		h.hmetrics.publishes.WithLabelValues(homeFailed).Inc()
		return fmt.Errorf("encode App Home: %w", err)
	}
	sum := sha256.Sum256(b)
	hash := hex.EncodeToString(sum[:])
	if hash == v.hash {
		h.hmetrics.publishes.WithLabelValues(homeUnchanged).Inc()
		return nil
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), homePublishTimeout)
	defer cancel()
	if _, err := p.PublishViewContext(pctx, slack.PublishViewContextRequest{UserID: user, View: view}); err != nil {
		h.hmetrics.publishes.WithLabelValues(homeFailed).Inc()
		return fmt.Errorf("views.publish: %w", err)
	}
	v.published, v.hash = now, hash
	h.hmetrics.publishes.WithLabelValues(homePublished).Inc()
	return nil
}

// homeData is what every user's Home is rendered from.
type homeData struct {
	groups   []alertgroup.Group
	silences []amclient.ListedSilence
	// silencesUnknown is set when Alertmanager's silences could not be
	// read.
	silencesUnknown bool
}

// readHome reads the groups and Alertmanager's silences.
func (h *Handler) readHome(ctx context.Context) (homeData, error) {
	groups, err := h.groups.List(ctx)
	if err != nil {
		return homeData{}, fmt.Errorf("list groups: %w", err)
	}
	d := homeData{groups: groups, silencesUnknown: true}
	if lister, ok := h.silences.(SilenceLister); ok {
		if d.silences, err = lister.ListSilences(ctx); err != nil {
			h.logger.Warn("cannot read Alertmanager's silences for App Home; it lists none", "err", err)
		} else {
			d.silencesUnknown = false
		}
	}
	return d, nil
}

// homeFor gathers the Home of user at now from d: the firing groups, the
// user's current silences and acknowledgements, and the silences that end
// within homeEndingWindow, except acknowledgement silences, which the
// reconciler extends while their groups fire.
func (h *Handler) homeFor(d homeData, user, notice string, now time.Time) render.Home {
	home := render.Home{Notice: notice, Now: now, EndingUnknown: d.silencesUnknown}
	domain := h.workspaceDomain()
	var shown []alertgroup.Group
	for _, g := range d.groups {
		if g.Key.IsWebhook() || g.TS == "" || g.Message == nil || g.Message.Data == nil {
			continue
		}
		shown = append(shown, g)
		dg := render.DigestGroup{Group: g, Link: h.permalink(domain, g.Key.Channel, g.TS)}
		if g.Status == alertgroup.StatusFiring {
			home.Firing = append(home.Firing, dg)
		}
		home.Marks = append(home.Marks, userMarks(dg, user, now)...)
	}
	// A silence names the first group it covers: a firing one if any.
	slices.SortStableFunc(shown, func(a, b alertgroup.Group) int { return cmp.Compare(statusOrder(a.Status), statusOrder(b.Status)) })
	for _, s := range d.silences {
		if s.State != amclient.SilenceActive || !s.EndsAt.After(now) || s.EndsAt.Sub(now) > homeEndingWindow ||
			strings.HasPrefix(s.Comment, "ACK!") {
			continue
		}
		ds := render.DigestSilence{ID: s.ID, Matchers: matchersText(s.Matchers), CreatedBy: s.CreatedBy, EndsAt: s.EndsAt}
		if g, ok := coveredGroup(s, shown); ok {
			ds.Covers, ds.Link = g, h.permalink(domain, g.Key.Channel, g.TS)
		}
		home.Ending = append(home.Ending, ds)
	}
	return home
}

// userMarks are the marks that user made on the group of dg and that hold
// at now: the group's silence and the silences of its alerts, whatever the
// group's status, and the acknowledgement of a firing group. Each with a
// silence gets an Expire button.
func userMarks(dg render.DigestGroup, user string, now time.Time) []render.HomeMark {
	st := dg.Group.State
	current := func(m alertgroup.Mark) bool { return m.By.ID == user && (m.Until.IsZero() || m.Until.After(now)) }
	var marks []render.HomeMark
	if m := st.Silenced; m != nil && current(*m) {
		marks = append(marks, render.HomeMark{Kind: render.HomeSilence, Group: dg, Mark: *m, Control: expireControl(m.SilenceID)})
	}
	for _, fp := range slices.Sorted(maps.Keys(st.SilencedAlerts)) {
		m := st.SilencedAlerts[fp]
		if !current(m) {
			continue
		}
		_, labels, _ := render.AlertNames(dg.Group.Message.Data, fp)
		marks = append(marks, render.HomeMark{Kind: render.HomeAlertSilence, Group: dg, Mark: m, Alert: labels, Control: expireControl(m.SilenceID)})
	}
	if a := st.Acked; a != nil && a.By.ID == user && dg.Group.Status == alertgroup.StatusFiring {
		marks = append(marks, render.HomeMark{Kind: render.HomeAck, Group: dg, Mark: *a, Control: expireControl(a.SilenceID)})
	}
	return marks
}

// expireControl is the Expire button of the silence id, or nil for none.
func expireControl(id string) *render.Control {
	if id == "" {
		return nil
	}
	return &render.Control{
		ActionID: ActionSilenceExpire, Text: "Expire", Value: id, Style: "danger",
		Confirm: &render.Confirm{Title: "Expire the silence?", Text: "Its alerts notify again while they fire.", Confirm: "Expire", Deny: "Keep it"},
	}
}

// dispatchHome takes the clicks of a block_actions payload from App Home,
// which carries no message and no response_url: each is de-duplicated
// and queued like a click on a message, and answered in the user's Home.
func (h *Handler) dispatchHome(cb slack.InteractionCallback) {
	for _, c := range clicksFrom(cb) {
		if c.action != ActionSilenceExpire {
			h.logger.Debug("ignoring App Home action", "action", c.action)
			continue
		}
		if _, dup := h.duplicate(c); dup {
			h.record(c, DecisionDuplicate, "", "", "")
			continue
		}
		select {
		case h.queue <- func(ctx context.Context) { h.homeClick(ctx, c) }:
		default:
			h.record(c, DecisionOverloaded, "queue full", "", "")
			h.forget(c)
		}
	}
}

// homeClick performs an App Home click on the group whose silence it
// names, and shows the outcome at the top of the user's Home.
func (h *Handler) homeClick(ctx context.Context, c click) {
	g, found, err := h.groupOfSilence(ctx, c.value)
	var (
		text string
		ok   bool
	)
	switch {
	case err != nil:
		h.logger.Error("cannot read alert groups", "err", err)
		h.record(c, DecisionFailed, "store unavailable", "", "")
		text = "amslack could not read its alert groups. Nothing was done; try again in a moment."
	case !found:
		h.record(c, DecisionFailed, "silence not followed", c.value, "")
		text = render.SilenceNotFollowedReply
	default:
		on := c
		on.channel, on.ts = g.Key.Channel, g.TS
		text, ok = h.perform(ctx, on)
	}
	h.settle(c, ok)
	v := h.home.open(c.user.ID, h.now())
	v.mu.Lock()
	v.notice = text
	v.mu.Unlock()
	if err := h.publishHome(ctx, c.user.ID, v, nil, false); err != nil {
		h.logger.Warn("cannot publish App Home", "user", c.user.ID, "err", err)
	}
}

// groupOfSilence returns a group in a Slack message that follows the
// silence id or holds it as its acknowledgement silence, a firing one if
// any.
func (h *Handler) groupOfSilence(ctx context.Context, id string) (alertgroup.Group, bool, error) {
	groups, err := h.groups.List(ctx)
	if err != nil {
		return alertgroup.Group{}, false, err
	}
	slices.SortStableFunc(groups, func(a, b alertgroup.Group) int { return cmp.Compare(statusOrder(a.Status), statusOrder(b.Status)) })
	for _, g := range groups {
		if g.TS != "" && (followsSilence(g.State, id) || ackSilence(g.State, id)) {
			return g, true, nil
		}
	}
	return alertgroup.Group{}, false, nil
}

// checkSilenceFollow checks the expiry warning's lead.
func (h *Handler) checkSilenceFollow() []error {
	if h.silenceLead != 0 && h.silenceLead < MinSilenceExpiryLead {
		return []error{fmt.Errorf("silence_expiry_lead: must be 0 (off) or at least %s, got %s", MinSilenceExpiryLead, h.silenceLead)}
	}
	return nil
}
