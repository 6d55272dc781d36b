// Package interact owns Slack's way in to amslack: it verifies requests
// (signature over the raw body, five-minute window) to the interaction,
// slash command and Events API endpoints, and receives the same traffic
// over Socket Mode. It parses block_actions and view_submission payloads,
// answers the /amslack command, replies to mentions, runs the
// silence_alerts Workflow Builder step, de-duplicates clicks and events,
// authorizes each click per action (users, user groups, label matchers),
// performs the action (Alertmanager silences, acknowledgements, runbook
// calls to internal APIs with approvals and idempotency keys), records the
// outcome in the store and the audit log, tells the clicker through the
// payload's response_url, and asks for the message to be re-rendered. Its
// reconciler notices groups that resolved while silenced and keeps
// acknowledgement silences alive while their groups fire; its escalation
// loop calls people in the thread of groups that fire unhandled; its
// reminder loop asks whoever acknowledged a group that still fires whether
// they are still on it; its digest loop posts each route's summary at the
// route's set times; its silence loop follows each silence in the threads
// of the groups it covers, from its first sight to its end. It publishes
// each person's App Home and keeps it current while they look.
//
// Slack wants an answer within 3 seconds and never redelivers an
// interaction, so the handler answers at once and a bounded pool of workers,
// started by Run, does the work.
package interact

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/interact/businesshours"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// Groups is the store of alert groups that clicks act on; every
// alertgroup.Store implements it.
type Groups interface {
	Update(ctx context.Context, key alertgroup.Key, fn func(g *alertgroup.Group, found bool) error) (alertgroup.Group, error)
	ByMessage(ctx context.Context, channel, ts string) (alertgroup.Group, bool, error)
	List(ctx context.Context) ([]alertgroup.Group, error)
}

// Refresher re-renders a group's message from the store and updates it in
// Slack, within Slack's rate limits. The durable sender implements it.
type Refresher interface {
	// notes say what changed, for a reply in the message's thread.
	Refresh(ctx context.Context, key alertgroup.Key, route string, notes ...string) error
}

// Silencer is the part of Alertmanager's API v2 that actions use;
// *amclient.Client implements it.
type Silencer interface {
	CreateSilence(ctx context.Context, s amclient.Silence) (string, error)
	ExpireSilence(ctx context.Context, id string) error
	ListAlerts(ctx context.Context, filter labels.Matchers) ([]amclient.Alert, error)
}

// SlackAPI is the part of Slack's Web API that interactions and events
// use. *slackapi.Client implements it within Slack's rate limits, which it
// shares with the sender.
type SlackAPI interface {
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slack.GetUserGroupMembersOption) ([]string, error)
	// PostMessageContext answers mentions in their thread, and posts
	// acknowledgement reminders, digests and silence expiry warnings.
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	// FunctionCompleteSuccessContext and FunctionCompleteErrorContext end
	// a Workflow Builder step (functions.completeSuccess and
	// functions.completeError).
	FunctionCompleteSuccessContext(ctx context.Context, functionExecutionID string, options ...slack.FunctionCompleteSuccessRequestOption) error
	FunctionCompleteErrorContext(ctx context.Context, functionExecutionID string, errorMessage string) error
}

// Defaults of Options.
const (
	DefaultMaxBodyBytes      = 1 << 20
	DefaultDedupSize         = 10000
	DefaultDedupTTL          = 10 * time.Minute
	DefaultWorkers           = 4
	DefaultQueue             = 256
	DefaultReconcileInterval = time.Minute
	// DefaultUserGroupTTL is how long user group members are cached:
	// usergroups.users.list is Tier 2 (about 20 calls a minute).
	DefaultUserGroupTTL = 5 * time.Minute
	// DefaultApprovalWindow is how long a runbook approval counts toward
	// the round that runs the action.
	DefaultApprovalWindow = 15 * time.Minute
)

// Bounds of Options.
const (
	// MinDedupTTL is the shortest de-duplication TTL. Slack's signature
	// check accepts a request for 5 minutes after its timestamp
	// (https://api.slack.com/authentication/verifying-requests-from-slack),
	// so a click forgotten sooner could be replayed and performed again;
	// 30 seconds more cover the clocks' skew.
	MinDedupTTL = 5*time.Minute + 30*time.Second
	// MinApprovalWindow and MaxApprovalWindow bound the approval window:
	// the approvers of one round must be able to click in turn, and an
	// approval must not stand for a situation long past.
	MinApprovalWindow = time.Minute
	MaxApprovalWindow = 24 * time.Hour
)

// maxSilence is the longest silence a click may create.
const maxSilence = 30 * 24 * time.Hour

// jobTimeout bounds one click's work: a runbook call takes at most three
// attempts of its timeout plus backoff, Alertmanager and Slack calls far
// less.
const jobTimeout = 2 * time.Minute

// Options configure a Handler. Only SigningSecret and Groups are required.
type Options struct {
	// SigningSecret is the Slack app's signing secret.
	SigningSecret string
	Groups        Groups
	// Refresher re-renders messages after a change; nil skips that.
	Refresher Refresher
	// Silences is the Alertmanager client; nil makes silence and ack
	// (in AckModeSilence) answer that no Alertmanager is configured.
	Silences Silencer
	// Slack opens the custom-duration dialog, reads user groups, answers
	// mentions, completes workflow steps, and posts acknowledgement
	// reminders and digests; nil leaves events unanswered.
	Slack SlackAPI
	// HTTPClient posts to response_url and calls runbook actions.
	HTTPClient *http.Client

	// Actions are the runbook actions.
	Actions []Action
	// Offers reports whether the route named route offers the runbook
	// action id on its messages (a route's actions list). It is asked on
	// every click, so it may follow configuration reloads; nil offers
	// every action on every route.
	Offers func(route, id string) bool
	// ApprovalWindow is how long a runbook approval counts toward the
	// round that runs the action (default DefaultApprovalWindow).
	ApprovalWindow time.Duration
	// Silence governs silence and unsilence, Ack governs ack and unack.
	// The zero Rule lets everyone act on every group.
	Silence, Ack Rule
	// AckMode is AckModeSilence (default) or AckModeState.
	AckMode string
	// AckDuration is the length of an acknowledgement silence (default
	// 15m); the reconciler extends it while the group fires.
	AckDuration time.Duration
	// SilenceMatchers is SilenceMatchersCommon (default) or
	// SilenceMatchersGroup.
	SilenceMatchers string
	// SilenceAlertDropLabels are the label names left out of the matchers
	// of a silence of one alert: labels whose values change between
	// evaluations.
	SilenceAlertDropLabels []string
	// SilenceDurations returns the silence durations of the route named
	// route, in order; a silence of one alert takes the first. Nil, or
	// none, gives DefaultAlertSilenceDuration.
	SilenceDurations func(route string) []time.Duration
	// BusinessHours returns the business hours of the route named route,
	// or nil for none: the silence select's UntilBusiness option and the
	// silence preview's "business" end read them at the click. Nil gives
	// no route business hours.
	BusinessHours func(route string) *businesshours.Hours

	DedupSize int
	DedupTTL  time.Duration
	// UserGroupTTL is how long user group members are cached.
	UserGroupTTL time.Duration
	// Workers and Queue size the worker pool and its queue.
	Workers, Queue int
	// ReconcileInterval is the reconciler's period; negative turns it off.
	ReconcileInterval time.Duration
	// ResolveTimeout is how long Alertmanager must have been up, or the
	// group's alerts absent from it, before the reconciler takes their
	// absence for resolution (default 5m).
	ResolveTimeout time.Duration
	// MaxBodyBytes bounds a request's body; larger ones get 413.
	MaxBodyBytes int64
	// Escalation returns the escalation policy of the route named route,
	// or nil for none. It is asked on every pass, so it may follow
	// configuration reloads; nil escalates nothing.
	Escalation func(route string) *Escalation
	// EscalationInterval is how often due escalation steps are looked for
	// (default DefaultEscalationInterval); negative turns it off.
	EscalationInterval time.Duration
	// AckReminder is how long after an acknowledgement, or its last
	// renewal, a group that still fires gets a reminder in its thread that
	// mentions whoever acknowledged it; 0 turns reminders off. They are
	// posted through Slack.
	AckReminder time.Duration
	// AckReminderInterval is how often due reminders are looked for
	// (default DefaultAckReminderInterval); negative turns it off.
	AckReminderInterval time.Duration
	// Digests returns the routes' digests. It is asked on every pass, so
	// it may follow configuration reloads; nil posts none. Digests are
	// posted through Slack, and need Claims.
	Digests func() []Digest
	// DigestInterval is how often due digests are looked for (default
	// DefaultDigestInterval); negative turns it off.
	DigestInterval time.Duration
	// Claims makes sure that each digest is posted once across replicas
	// and restarts, and that a click that reaches two replicas acts once;
	// every alertgroup.Store implements it.
	Claims Claims
	// SilenceExpiryLead is how long before a followed silence ends the
	// group's thread gets a warning with Extend 1h and Expire now, posted
	// through Slack; 0 turns warnings off.
	SilenceExpiryLead time.Duration
	// SilenceFollowInterval is how often silences are followed in the
	// threads of the groups they cover (default
	// DefaultSilenceFollowInterval); negative turns it off. It needs a
	// Silencer that is a SilenceLister, and a Refresher.
	SilenceFollowInterval time.Duration
	// HomeRefresh is the shortest time between two refreshes of one
	// user's App Home when what it shows changes (default
	// DefaultHomeRefresh); negative turns refreshes off, and Home is then
	// published only when opened. Home needs a Slack client that is a
	// HomePublisher.
	HomeRefresh time.Duration

	// Audit receives one JSON line per decision; nil discards them.
	Audit      io.Writer
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock of silences, marks, caches and the audit log (not
	// of signature verification, which slack-go does with the real clock).
	Now func() time.Time
	// MessageLink returns a link to a Slack message, for silence comments.
	// The default builds a permalink from the workspace's domain.
	MessageLink func(channel, ts string) string
}

// Handler serves POST /slack/interactions, POST /slack/commands and
// POST /slack/events, receives the same over Socket Mode, and performs the
// actions.
type Handler struct {
	secret          string
	groups          Groups
	refresher       Refresher
	silences        Silencer
	slack           SlackAPI
	hc              *http.Client
	actions         map[string]*Action
	offers          func(route, id string) bool
	approvalWindow  time.Duration
	silenceRule     Rule
	ackRule         Rule
	ackMode         string
	ackDuration     time.Duration
	silenceMatchers string
	alertDropLabels []string
	routeDurations  func(route string) []time.Duration
	dedupTTL        time.Duration
	userGroupTTL    time.Duration
	workers         int
	interval        time.Duration
	resolveTimeout  time.Duration
	maxBody         int64
	logger          *slog.Logger
	now             func() time.Time
	messageLink     func(channel, ts string) string
	audit           *auditLog
	metrics         *metrics
	smetrics        *surfaceMetrics
	caller          caller

	// escalation and escalationInterval drive the escalation loop.
	escalation         func(route string) *Escalation
	escalationInterval time.Duration
	emetrics           *escalationMetrics

	// ackReminder and ackReminderInterval drive the acknowledgement
	// reminders.
	ackReminder         time.Duration
	ackReminderInterval time.Duration
	rmetrics            *reminderMetrics

	// digests, digestInterval and claims drive the digests; dstate
	// remembers those done.
	digests        func() []Digest
	digestInterval time.Duration
	claims         Claims
	dstate         digestState
	dmetrics       *digestMetrics
	// workspace is the domain of the Slack workspace, from the latest
	// interaction, for links in digests.
	workspace atomic.Pointer[string]

	// silenceLead and silenceFollowInterval drive the notes that follow
	// silences in the threads.
	silenceLead           time.Duration
	silenceFollowInterval time.Duration
	lmetrics              *silenceNoteMetrics
	// homeRefresh and home keep the App Home of recent viewers current.
	homeRefresh time.Duration
	home        homeState
	hmetrics    *homeMetrics

	queue   chan job    // clicks and events waiting for a worker
	notices chan notice // replies owed to clicks that were not queued
	running atomic.Bool

	// dedupMu makes the look-up and insertion of a click one step, so
	// that of concurrent identical clicks exactly one gets through.
	dedupMu sync.Mutex
	seen    *expirable.LRU[string, seenClick]
	// eventsSeen holds the Events API event_ids delivered recently; it is
	// guarded by dedupMu as well.
	eventsSeen *expirable.LRU[string, time.Time]
	// members caches user group members; the LRU locks itself.
	members *expirable.LRU[string, cachedMembers]
	// responsesMu guards the use counts in responses.
	responsesMu sync.Mutex
	responses   *expirable.LRU[string, int]

	// zones caches the users' time zones from users.info, for the silence
	// preview (nil when Slack does not say); the LRU locks itself.
	zones *expirable.LRU[string, *time.Location]
	// businessHours returns a route's business hours, or nil.
	businessHours func(route string) *businesshours.Hours
}

type cachedMembers struct {
	users   map[string]bool
	expires time.Time
}

// New returns a Handler; call Run to start its workers and reconciler.
func New(o Options) (*Handler, error) {
	if o.SigningSecret == "" {
		return nil, errors.New("interact: a Slack signing secret is required")
	}
	if o.Groups == nil {
		return nil, errors.New("interact: a store is required")
	}
	h := &Handler{
		secret:          o.SigningSecret,
		groups:          o.Groups,
		refresher:       o.Refresher,
		silences:        o.Silences,
		slack:           o.Slack,
		hc:              cmp.Or(o.HTTPClient, &http.Client{}),
		actions:         map[string]*Action{},
		offers:          o.Offers,
		approvalWindow:  cmp.Or(o.ApprovalWindow, DefaultApprovalWindow),
		silenceRule:     o.Silence,
		ackRule:         o.Ack,
		ackMode:         cmp.Or(o.AckMode, AckModeSilence),
		ackDuration:     cmp.Or(o.AckDuration, DefaultAckDuration),
		silenceMatchers: cmp.Or(o.SilenceMatchers, SilenceMatchersCommon),
		alertDropLabels: o.SilenceAlertDropLabels,
		routeDurations:  o.SilenceDurations,
		dedupTTL:        cmp.Or(o.DedupTTL, DefaultDedupTTL),
		userGroupTTL:    cmp.Or(o.UserGroupTTL, DefaultUserGroupTTL),
		workers:         cmp.Or(o.Workers, DefaultWorkers),
		interval:        cmp.Or(o.ReconcileInterval, DefaultReconcileInterval),
		resolveTimeout:  cmp.Or(o.ResolveTimeout, DefaultResolveTimeout),
		maxBody:         cmp.Or(o.MaxBodyBytes, DefaultMaxBodyBytes),
		logger:          cmp.Or(o.Logger, slog.New(slog.DiscardHandler)),
		now:             o.Now,
		messageLink:     o.MessageLink,
		audit:           &auditLog{w: o.Audit},
	}
	h.escalation = o.Escalation
	h.escalationInterval = cmp.Or(o.EscalationInterval, DefaultEscalationInterval)
	h.ackReminder = o.AckReminder
	h.ackReminderInterval = cmp.Or(o.AckReminderInterval, DefaultAckReminderInterval)
	h.digests, h.claims = o.Digests, o.Claims
	h.digestInterval = cmp.Or(o.DigestInterval, DefaultDigestInterval)
	h.silenceLead = o.SilenceExpiryLead
	h.silenceFollowInterval = cmp.Or(o.SilenceFollowInterval, DefaultSilenceFollowInterval)
	h.homeRefresh = cmp.Or(o.HomeRefresh, DefaultHomeRefresh)
	h.businessHours = o.BusinessHours
	h.zones = expirable.NewLRU[string, *time.Location](10000, nil, zoneTTL)
	if h.now == nil {
		h.now = time.Now
	}
	if h.audit.w == nil {
		h.audit.w = io.Discard
	}
	h.caller = caller{hc: h.hc, now: h.now, backoff: runbookBackoff}
	if err := h.configure(o); err != nil {
		return nil, fmt.Errorf("interact: %w", err)
	}
	h.queue = make(chan job, cmp.Or(o.Queue, DefaultQueue))
	h.notices = make(chan notice, 64)
	// The LRUs' own TTLs free memory; freshness is decided with h.now so
	// that it follows the injected clock. Each LRU with a TTL runs a
	// cleanup goroutine that golang-lru v2.0.7 offers no way to stop; it
	// holds only the cache, and lives as long as the Handler.
	h.seen = expirable.NewLRU[string, seenClick](cmp.Or(o.DedupSize, DefaultDedupSize), nil, h.dedupTTL)
	h.eventsSeen = expirable.NewLRU[string, time.Time](cmp.Or(o.DedupSize, DefaultDedupSize), nil, h.dedupTTL)
	h.members = expirable.NewLRU[string, cachedMembers](1000, nil, h.userGroupTTL)
	// Slack: a response_url accepts 5 posts within 30 minutes.
	h.responses = expirable.NewLRU[string, int](10000, nil, responseURLLifetime)
	h.home.viewers = expirable.NewLRU[string, *homeViewer](maxHomeViewers, nil, homeRecent)
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	h.metrics = newMetrics(reg, func() float64 { return float64(len(h.queue)) })
	h.smetrics = newSurfaceMetrics(reg)
	h.emetrics = newEscalationMetrics(reg)
	h.rmetrics = newReminderMetrics(reg)
	h.dmetrics = newDigestMetrics(reg)
	h.lmetrics = newSilenceNoteMetrics(reg)
	h.hmetrics = newHomeMetrics(reg, h.smetrics)
	return h, nil
}

// configure registers o's actions with h and checks h's settings, returning
// every problem found.
func (h *Handler) configure(o Options) error {
	var errs []error
	switch h.ackMode {
	case AckModeSilence, AckModeState:
	default:
		errs = append(errs, fmt.Errorf("ack_mode: must be %q or %q, got %q", AckModeSilence, AckModeState, h.ackMode))
	}
	switch h.silenceMatchers {
	case SilenceMatchersCommon, SilenceMatchersGroup:
	default:
		errs = append(errs, fmt.Errorf("silence_matchers: must be %q or %q, got %q", SilenceMatchersCommon, SilenceMatchersGroup, h.silenceMatchers))
	}
	if err := h.silenceRule.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("silence: %w", err))
	}
	if err := h.ackRule.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("ack: %w", err))
	}
	actions := append([]Action(nil), o.Actions...)
	if err := ValidateActions(actions); err != nil {
		errs = append(errs, err)
	}
	needGroups := len(h.silenceRule.UserGroups)+len(h.ackRule.UserGroups) > 0
	for i := range actions {
		a := &actions[i]
		h.actions[a.ID] = a
		needGroups = needGroups || len(a.Allow.UserGroups) > 0
	}
	if needGroups && h.slack == nil {
		errs = append(errs, errors.New("usergroups in rules need a Slack client to read their members"))
	}
	if h.ackDuration < time.Minute || h.ackDuration > maxSilence {
		errs = append(errs, fmt.Errorf("ack_duration: must be between 1m and 30d, got %s", h.ackDuration))
	}
	if o.Workers < 0 || o.Queue < 0 || o.DedupSize < 0 || o.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("workers, queue, dedup size and max body bytes must not be negative"))
	}
	errs = append(errs, h.checkClickWindows()...)
	errs = append(errs, h.checkFollowUps()...)
	errs = append(errs, h.checkSilenceFollow()...)
	return errors.Join(errs...)
}

// job is one click or event for a worker to perform.
type job func(ctx context.Context)

// drainTimeout bounds the work on clicks still queued when Run stops.
const drainTimeout = 5 * time.Second

// Run runs the workers, which perform clicks and events, and the
// reconciler, until ctx ends. A job being performed when ctx ends is
// finished (each is bounded by a timeout) because stopping half-way would
// leave a silence without a record. Jobs still queued were answered 200 to
// Slack, which does not send them again: they are performed too, within
// drainTimeout, and what is left after that is logged.
func (h *Handler) Run(ctx context.Context) error {
	if !h.running.CompareAndSwap(false, true) {
		return errors.New("interact: Run called twice")
	}
	var wg sync.WaitGroup
	for range h.workers {
		wg.Go(func() { h.work(ctx) })
	}
	wg.Go(func() { h.sendNotices(ctx) })
	if h.interval > 0 && h.silences != nil {
		wg.Go(func() { h.every(ctx, h.interval, "reconcile", h.Reconcile) })
	}
	if h.escalationInterval > 0 && h.escalation != nil {
		wg.Go(func() { h.every(ctx, h.escalationInterval, "escalation", h.Escalate) })
	}
	if h.ackReminderInterval > 0 && h.ackReminder > 0 {
		wg.Go(func() { h.every(ctx, h.ackReminderInterval, "acknowledgement reminder", h.RemindAcks) })
	}
	if h.digestInterval > 0 && h.digests != nil {
		wg.Go(func() { h.every(ctx, h.digestInterval, "digest", h.PostDigests) })
	}
	if h.followsSilences() {
		wg.Go(func() { h.every(ctx, h.silenceFollowInterval, "silence lifecycle", h.FollowSilences) })
	}
	if h.refreshesHomes() {
		wg.Go(func() { h.every(ctx, h.homeRefresh, "App Home refresh", h.RefreshHomes) })
	}
	wg.Wait()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	for dctx.Err() == nil {
		select {
		case j := <-h.queue:
			j(dctx)
			continue
		default:
		}
		break
	}
	if n := len(h.queue); n > 0 {
		h.logger.Warn("dropping queued interactions at shutdown", "count", n)
	}
	return nil
}

func (h *Handler) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-h.queue:
			jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobTimeout)
			j(jctx)
			cancel()
		}
	}
}

// sendNotices tells clickers why their click was not queued: the queue was
// full, or the click repeated one already made. It runs apart from the
// workers, which may all be busy.
func (h *Handler) sendNotices(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-h.notices:
			nctx, cancel := context.WithTimeout(ctx, responseTimeout)
			h.respond(nctx, n.responseURL, n.text)
			cancel()
		}
	}
}

// ServeHTTP handles POST /slack/interactions.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readVerified(w, r, endpointInteractions, false)
	if !ok {
		return
	}
	cb, err := ParsePayload(body)
	if err != nil {
		h.countRejected(endpointInteractions, rejectMalformed)
		h.logger.Warn("malformed interaction payload", "err", err)
		http.Error(w, "malformed interaction payload", http.StatusBadRequest)
		return
	}
	reply := h.Dispatch(r.Context(), cb)
	if reply == nil {
		// Slack: an empty 200 acknowledges a block_actions payload and
		// closes a submitted modal.
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}

// ErrNoPayload is returned by ParsePayload for a form without a payload
// field.
var ErrNoPayload = errors.New("form has no payload field")

// ParsePayload decodes a verified interaction request body: a form whose
// payload field holds the JSON interaction.
func ParsePayload(body []byte) (slack.InteractionCallback, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return slack.InteractionCallback{}, fmt.Errorf("decode form: %w", err)
	}
	p := form.Get("payload")
	if p == "" {
		return slack.InteractionCallback{}, ErrNoPayload
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(p), &cb); err != nil {
		return slack.InteractionCallback{}, fmt.Errorf("decode payload: %w", err)
	}
	return cb, nil
}

// Dispatch takes one verified interaction from any transport (the HTTP
// handler, Socket Mode). It returns at once: clicks are de-duplicated and
// queued for the workers. The result is non-nil only when Slack must get a
// synchronous answer: a submitted dialog with an invalid field, which Slack
// shows next to the field. ctx bounds only Dispatch itself; the work runs
// on Run's context.
func (h *Handler) Dispatch(ctx context.Context, cb slack.InteractionCallback) *slack.ViewSubmissionResponse {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		if cb.View.CallbackID == previewViewID {
			h.dispatchPreviewAction(cb)
			return nil
		}
		h.noteWorkspace(cb.Team.Domain)
		if cb.View.Type == slack.VTHomeTab {
			h.dispatchHome(cb)
			return nil
		}
		for _, c := range clicksFrom(cb) {
			h.enqueue(onThreadParent(c, cb), h.process)
		}
	case slack.InteractionTypeViewSubmission:
		if cb.View.CallbackID == previewViewID {
			return h.dispatchPreviewSubmission(cb)
		}
		if cb.View.CallbackID != silenceViewID {
			return nil
		}
		c, fieldErrs := submissionClick(cb)
		if len(fieldErrs) > 0 {
			// Slack: answer within 3 s with response_action "errors" to
			// keep the dialog open with the messages shown.
			return slack.NewErrorsViewSubmissionResponse(fieldErrs)
		}
		h.enqueue(c, h.process)
	default:
		h.logger.Debug("ignoring interaction", "type", string(cb.Type))
	}
	return nil
}

// enqueue queues perform for click c on the worker queue. A duplicate of
// a click seen before is recorded and answered instead, and a click that
// finds the queue full is refused with a reply to the clicker.
func (h *Handler) enqueue(c click, perform func(context.Context, click)) {
	if first, dup := h.duplicate(c); dup {
		h.record(c, DecisionDuplicate, "", "", "")
		// The same payload delivered twice shares its response_url with
		// the click being performed, which answers there.
		if c.responseURL != first.responseURL {
			h.notify(c.responseURL, render.DuplicateClick(first.at, first.done))
		}
		return
	}
	select {
	case h.queue <- func(ctx context.Context) { perform(ctx, c) }:
	default:
		h.record(c, DecisionOverloaded, "queue full", "", "")
		// Let the same click through when the user tries again.
		h.forget(c)
		h.notify(c.responseURL, "amslack is overloaded, try again in a moment.")
	}
}

// notice is a reply owed to a click that was not queued.
type notice struct {
	responseURL string
	text        string
}

// notify hands a reply to sendNotices without waiting; when too many are
// waiting already, the reply is dropped, logged and counted.
func (h *Handler) notify(responseURL, text string) {
	if responseURL == "" {
		return
	}
	select {
	case h.notices <- notice{responseURL: responseURL, text: text}:
	default:
		h.metrics.responses.WithLabelValues(responseDropped).Inc()
		h.logger.Warn("too many replies waiting, reply dropped", "waiting", cap(h.notices))
	}
}

// seenClick is what de-duplication remembers of a click.
type seenClick struct {
	at          time.Time
	responseURL string
	// done is set once the click's action succeeded; until then it is
	// being performed.
	done bool
}

// duplicate reports whether the same person made the same click on the
// same message within the de-duplication TTL, and what is remembered of
// that first click; when it is not a duplicate, it remembers this one.
func (h *Handler) duplicate(c click) (seenClick, bool) {
	k := c.dedupKey()
	now := h.now()
	h.dedupMu.Lock()
	if first, ok := h.seen.Get(k); ok && now.Sub(first.at) < h.dedupTTL {
		h.dedupMu.Unlock()
		return first, true
	}
	h.seen.Add(k, seenClick{at: now, responseURL: c.responseURL})
	h.dedupMu.Unlock()
	// The store is asked without the lock, so that one slow answer holds
	// up no other click; the click is this replica's meanwhile, so that an
	// identical one arriving here is a duplicate already.
	if h.claimedElsewhere(k) {
		h.dedupMu.Lock()
		h.seen.Remove(k)
		h.dedupMu.Unlock()
		// Its time and outcome are the other replica's; this one knows
		// only that it is taken.
		return seenClick{at: now}, true
	}
	return seenClick{}, false
}

func (h *Handler) forget(c click) {
	h.dedupMu.Lock()
	h.seen.Remove(c.dedupKey())
	h.dedupMu.Unlock()
	// The store is told without the lock, as duplicate asks it.
	h.unclaim(c.dedupKey())
}

// settle ends a click's de-duplication once it was processed. De-duplication
// stops a second performance of one intent and nothing more: a click whose
// action did not succeed is forgotten, so that the same click may be tried
// again; one that succeeded is remembered as done, and it opens again the
// clicks of the same message that it undoes (unsilence undoes silence, and
// the other way round; unack and ack likewise).
func (h *Handler) settle(c click, succeeded bool) {
	if !succeeded || c.opensDialog() {
		// Opening the silence dialog commits to nothing: the dialog's
		// submission is the click that silences.
		h.forget(c)
		return
	}
	var undone []string
	if b := h.builtinFor(c.action); b != nil {
		undone = b.Undoes()
	}
	h.dedupMu.Lock()
	k := c.dedupKey()
	if s, ok := h.seen.Peek(k); ok {
		s.done = true
		h.seen.Add(k, s)
	}
	var reopened []string
	for _, action := range undone {
		prefix := c.messageKey(action)
		for _, k := range h.seen.Keys() {
			if strings.HasPrefix(k, prefix) {
				h.seen.Remove(k)
				reopened = append(reopened, k)
			}
		}
	}
	h.dedupMu.Unlock()
	h.unclaim(reopened...)
}

// checkClickWindows checks the de-duplication TTL and the approval window.
func (h *Handler) checkClickWindows() []error {
	var errs []error
	if h.dedupTTL < MinDedupTTL {
		errs = append(errs, fmt.Errorf("dedup_ttl: must be at least %s, longer than the 5 minutes in which Slack's signature check accepts a replayed request, got %s", MinDedupTTL, h.dedupTTL))
	}
	if h.approvalWindow < MinApprovalWindow || h.approvalWindow > MaxApprovalWindow {
		errs = append(errs, fmt.Errorf("approval_window: must be between %s and %s, got %s", MinApprovalWindow, MaxApprovalWindow, h.approvalWindow))
	}
	return errs
}

// record writes an audit line and counts the decision.
func (h *Handler) record(c click, decision, result, silenceID, idemKey string) {
	h.metrics.interactions.WithLabelValues(h.kind(c.action), decision).Inc()
	err := h.audit.write(AuditEntry{
		Time:           h.now().UTC(),
		Team:           c.team,
		Channel:        c.channel,
		MessageTS:      c.ts,
		UserID:         c.user.ID,
		UserName:       c.user.Name,
		Action:         c.action,
		Value:          c.value,
		Decision:       decision,
		Result:         result,
		SilenceID:      silenceID,
		IdempotencyKey: idemKey,
	})
	if err != nil {
		h.logger.Error("cannot write audit log", "err", err)
	}
}

// kind is the metric and audit kind of an action_id: its built-in action's,
// or kindUnknown.
func (h *Handler) kind(action string) string {
	if b := h.builtinFor(action); b != nil {
		return b.Kind()
	}
	return kindUnknown
}

// link returns a link to the click's message, or a plain description when
// none can be built.
func (h *Handler) link(c click) string {
	if l := h.permalink(c.teamDomain, c.channel, c.ts); l != "" {
		return l
	}
	return fmt.Sprintf("channel %s, message %s", c.channel, c.ts)
}

// permalink returns a link to the message ts in channel of the workspace
// with the given domain, or "" when none can be built.
func (h *Handler) permalink(teamDomain, channel, ts string) string {
	if h.messageLink != nil {
		return h.messageLink(channel, ts)
	}
	// The parts come from Slack's payloads; a link is built only from
	// parts of the shapes Slack gives them, so that none can end the link
	// early or add markup to the text it goes into.
	if workspaceDomain.MatchString(teamDomain) && conversationID.MatchString(channel) && messageTS.MatchString(ts) {
		// Slack permalinks: https://<domain>.slack.com/archives/<channel>/p<ts without the dot>.
		return fmt.Sprintf("https://%s.slack.com/archives/%s/p%s", teamDomain, channel, strings.ReplaceAll(ts, ".", ""))
	}
	return ""
}

// Shapes of the parts of a permalink: a workspace's domain is lower-case
// letters, digits and hyphens; conversation IDs are upper-case letters and
// digits; a message ts is seconds and a fraction.
var (
	workspaceDomain = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	conversationID  = regexp.MustCompile(`^[A-Z0-9]{2,32}$`)
	messageTS       = regexp.MustCompile(`^[0-9]{1,20}\.[0-9]{1,12}$`)
)
