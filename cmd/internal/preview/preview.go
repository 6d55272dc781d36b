// Package preview owns amslack's local preview page: a web page, served
// next to amslack in slack.mode preview, that shows what the in-process fake
// Slack (package slackfake) received, rendered the way Slack renders Block
// Kit, and lets a person click the buttons and selects as one of a few fake
// users. Clicks, actions inside modals and modal submissions become
// correctly signed interaction payloads handed to amslack's interaction
// handler in process, and opening App Home an app_home_opened event handed
// to its Events API handler. Example
// notifications go as alerts to Alertmanager when one answers, which then
// notifies amslack as in production, and otherwise to amslack's webhook
// handler in process. No Slack workspace is involved and the page loads
// nothing from the network.
//
// The handler serves these routes, mounted at /preview:
//
//	GET  /preview                   the page
//	GET  /preview/static/…          its CSS and JavaScript
//	GET  /preview/api/state?user=U  channels, messages, replies, and the
//	                                user's ephemerals, open modals and
//	                                App Home view (JSON)
//	GET  /preview/api/events        Server-Sent Events: a "tick" per change
//	POST /preview/api/click         {channel, ts, block_id, action_id, value
//	                                | selected_option, user, ephemeral}
//	POST /preview/api/view-action   {view_id, user, block_id, action_id,
//	                                value, values, checked}: an action
//	                                inside a modal or the user's App Home
//	POST /preview/api/view-submit   {view_id, user, values{block{action: v}},
//	                                checked{block{action: [v]}}}
//	POST /preview/api/view-close    {view_id, user}
//	POST /preview/api/home-open     {user}: sends app_home_opened
//	POST /preview/api/send-example  {name}
//
// The POST endpoints answer with the status of the amslack handler they
// called and a JSON body {"status": N, "body": "…"}; view-submit adds
// "errors" when amslack kept the modal open with field errors, and
// send-example a "note" saying whether the example went to Alertmanager or
// directly to amslack. They take
// only application/json (415 otherwise), and refuse with 403 what a page
// of another origin sends.
//
// Stable selectors of the page, for browser tests:
//
//	select[data-role=user-switcher]            the user to click as (value: user id)
//	[data-example=NAME] [data-role=send-example]  sends an example payload
//	section[data-channel=C]                    a channel
//	.message[data-channel=C][data-ts=TS]       a message; replies also carry data-thread-ts
//	[data-block-id=B][data-block-type=T]       a block of a message or modal
//	[data-action-id=A][data-block-id=B]        a button or select
//	[data-role=edited]                         the "(edited)" mark
//	[data-role=thread-toggle]                  opens or closes a thread's replies
//	[data-role=replies]                        the replies of a thread
//	.ephemeral[data-ephemeral][data-ts=TS]     an "Only visible to you" message
//	dialog[data-role=confirm][open]            a button's confirm dialog, with
//	  [data-role=confirm-title], [data-role=confirm-yes], [data-role=confirm-no]
//	.modal[data-view-id=V][data-callback-id=C] an open modal, with its inputs
//	  ([data-block-id][data-action-id]), [data-role=view-submit],
//	  [data-role=view-close] and [data-role=field-error]; data-hash is
//	  the view's hash, which changes with every views.update
//	[data-role=home-open]                      opens the user's App Home
//	section[data-role=home][data-view-id=V]    the App Home published for
//	                                           the user, with its buttons
//	[data-role=home-empty]                     shown until one is published
//	[data-role=status]                         the outcome of the last request
//	body[data-rendered=N]                      N counts the page's renders
//
// A select acts on its change event, as when a person picks an option: a
// test sets the select's value and dispatches "change" (chromedp.SetValue
// alone fires no event). Enter in a modal's input whose block has
// dispatch_action sends block_actions, as in Slack. The page reads the
// state again on every event from
// /preview/api/events, so a test waits for what it expects to appear rather
// than for a fixed time.
package preview

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

//go:embed assets
var assets embed.FS

// Options configure a Handler.
type Options struct {
	// Fake is the fake Slack whose messages the page shows.
	Fake *slackfake.Server
	// BaseURL is where amslack reaches Fake (app.PreviewBaseURL); response
	// URLs in payloads are built on it.
	BaseURL string
	// SigningSecret signs interaction payloads as Slack does (v0 HMAC).
	SigningSecret string
	// Interactions is amslack's POST /slack/interactions handler.
	Interactions http.Handler
	// Events is amslack's POST /slack/events handler; without it the page
	// cannot open App Home.
	Events http.Handler
	// Webhook is amslack's POST /webhook handler.
	Webhook http.Handler
	// Examples maps a name to an Alertmanager webhook payload that the page
	// offers to send.
	Examples map[string][]byte
	// Users are the fake users to click as; nil means DefaultUsers. They
	// are made known to Fake (users.info).
	Users []slackfake.User
	// Logger logs each request the page makes amslack handle.
	Logger *slog.Logger
	// Now is the clock for request timestamps and example payloads; nil
	// means time.Now. amslack checks signatures against the real clock.
	Now func() time.Time
	// Alertmanager, when set, receives the examples' alerts as Prometheus
	// sends them, and notifies amslack through its webhook receiver: the
	// silences and acknowledgements made on the page then apply to alerts
	// Alertmanager knows, and the reconciler finds them there. When it
	// does not answer, or is nil, the examples go to Webhook directly.
	Alertmanager AlertPoster
	// AlertmanagerURL names Alertmanager in the page's notes.
	AlertmanagerURL string
	// Registerer takes the preview's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// AlertPoster posts alerts to Alertmanager's API v2 (POST /api/v2/alerts);
// *amclient.Client is one. An error other than *amclient.StatusError means
// that no Alertmanager answered.
type AlertPoster interface {
	PostAlerts(ctx context.Context, alerts []amclient.PostableAlert) error
}

// DefaultUsers returns the users of a Handler whose Options name none.
func DefaultUsers() []slackfake.User {
	return []slackfake.User{
		{ID: "U0PREVIEWA", Name: "alice", RealName: "Alice Example"},
		{ID: "U0PREVIEWB", Name: "bob", RealName: "Bob Example"},
		{ID: "U0PREVIEWC", Name: "carol", RealName: "Carol Example"},
	}
}

// maxRequestBody caps the page's API requests; a click or a modal
// submission is a few hundred bytes.
const maxRequestBody = 1 << 20

// Handler serves the preview page and its API. Its methods are safe for
// concurrent use.
type Handler struct {
	fake         *slackfake.Server
	baseURL      string
	secret       string
	interactions http.Handler
	events       http.Handler
	webhook      http.Handler
	examples     map[string][]byte
	exampleNames []string
	users        []slackfake.User
	logger       *slog.Logger
	now          func() time.Time
	alertmanager AlertPoster
	// alertmanagerURL names alertmanager in notes and logs.
	alertmanagerURL string
	// sends counts example sends by result.
	sends *prometheus.CounterVec
	// handler is the routes behind the same-origin and content type checks.
	handler http.Handler

	// quit is closed by Close to end the event streams.
	quit      chan struct{}
	closeOnce sync.Once

	// mu guards openers, closed and eventSeq.
	mu sync.Mutex
	// openers maps each trigger_id the preview issued to the user whose
	// click carried it, so that the modal it opens shows to that user.
	openers map[string]string
	// closed holds the ids of modals that were submitted or cancelled;
	// the fake keeps every view it opened.
	closed map[string]bool
	// eventSeq numbers the events the preview sent.
	eventSeq int64
}

// New returns a Handler configured by o.
func New(o Options) *Handler {
	h := &Handler{
		fake:         o.Fake,
		baseURL:      o.BaseURL,
		secret:       o.SigningSecret,
		interactions: o.Interactions,
		events:       o.Events,
		webhook:      o.Webhook,
		examples:     make(map[string][]byte, len(o.Examples)),
		users:        slices.Clone(o.Users),
		logger:       o.Logger,
		now:          o.Now,
		alertmanager: o.Alertmanager,
		quit:         make(chan struct{}),
		openers:      map[string]string{},
		closed:       map[string]bool{},
	}
	h.alertmanagerURL = o.AlertmanagerURL
	h.sends = promauto.With(o.Registerer).NewCounterVec(prometheus.CounterOpts{
		Namespace: "amslack", Name: "preview_example_sends_total",
		Help: "Example notifications sent from the local preview, by result: alertmanager (Alertmanager took the alerts), direct (no Alertmanager configured or answering: sent to amslack's webhook handler) or refused (Alertmanager answered with an error).",
	}, []string{"result"})
	for _, r := range []string{sentToAlertmanager, sentDirect, sentRefused} {
		h.sends.WithLabelValues(r)
	}
	for name, b := range o.Examples {
		h.examples[name] = slices.Clone(b)
		h.exampleNames = append(h.exampleNames, name)
	}
	slices.Sort(h.exampleNames)
	if len(h.users) == 0 {
		h.users = DefaultUsers()
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.fake != nil {
		for _, u := range h.users {
			h.fake.SetUser(u)
		}
	}

	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /preview", h.servePage)
	mux.HandleFunc("GET /preview/{$}", h.servePage)
	mux.Handle("GET /preview/static/", http.StripPrefix("/preview/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /preview/api/state", h.serveState)
	mux.HandleFunc("GET /preview/api/events", h.serveEvents)
	mux.Handle("POST /preview/api/click", serveAPI(h.click))
	mux.Handle("POST /preview/api/view-action", serveAPI(h.viewAction))
	mux.Handle("POST /preview/api/view-submit", serveAPI(h.submitView))
	mux.Handle("POST /preview/api/view-close", serveAPI(h.closeView))
	mux.Handle("POST /preview/api/home-open", serveAPI(h.openHome))
	mux.HandleFunc("POST /preview/api/send-example", h.serveSendExample)
	h.handler = sameOriginJSON(mux)
	return h
}

// sameOriginJSON refuses requests that a page on another origin could make
// a browser send, before they reach next. The POST endpoints sign clicks
// with the real signing secret and can silence alerts in a real
// Alertmanager, and a browser sends a cross-origin POST whose content type
// is text/plain, a form's or multipart without asking first (a "simple
// request", https://fetch.spec.whatwg.org/#cors-safelisted-request-header).
// So a POST must say application/json, which no page can send to another
// origin without a CORS preflight that the preview never grants, and must
// come from the preview's own origin as the browser reports it: Sec-Fetch-Site
// same-origin, or else an Origin whose host is the request's Host
// (http.CrossOriginProtection). Requests without either header come from
// tools such as curl, not from a page.
func sameOriginJSON(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%w: cross-origin request (Origin %.100q, Sec-Fetch-Site %.20q): the preview API answers only its own page", errForbidden, r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site")))
	}))
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			ct := r.Header.Get("Content-Type")
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
				writeError(w, fmt.Errorf("%w: content type %.100q: the preview API takes application/json", errMediaType, ct))
				return
			}
		}
		next.ServeHTTP(w, r)
	}))
}

// ServeHTTP serves the routes listed in the package documentation; r's path
// must still start with /preview.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.handler.ServeHTTP(w, r)
}

// Close ends the open event streams, which otherwise last as long as the
// browser keeps the page open and would hold up http.Server.Shutdown; pass
// it to http.Server.RegisterOnShutdown. The page reconnects by itself.
func (h *Handler) Close() {
	h.closeOnce.Do(func() { close(h.quit) })
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, "page missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The page runs only its own script and style; it fetches nothing
	// from elsewhere.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: http: https:; style-src 'self'; script-src 'self'")
	_, _ = w.Write(page)
}

// serveEvents streams a "tick" event for every change in the fake Slack,
// and one at the start so that a reconnecting page catches up.
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	if h.fake == nil {
		http.Error(w, "no fake Slack", http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
	events, cancel := h.fake.Subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(kind string) bool {
		if _, err := io.WriteString(w, "event: tick\ndata: "+kind+"\n\n"); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("hello") {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.quit:
			return
		case ev, ok := <-events:
			if !ok || !send(string(ev.Kind)) {
				return
			}
		}
	}
}

// apiResult is the answer of the POST endpoints.
type apiResult struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
	// Errors are the field errors of a view_submission answer.
	Errors map[string]string `json:"errors,omitempty"`
	// Note says where an example went: to Alertmanager, or directly to
	// amslack and why.
	Note string `json:"note,omitempty"`
}

// apiError is the answer to a request the preview cannot carry out.
type apiError struct {
	Error string `json:"error"`
}

// errRequest marks what is wrong with a request from the page; it maps to
// 400. errNotFound maps to 404, errForbidden to 403, errMediaType to 415
// and errUpstream, an error answer from Alertmanager, to 502.
var (
	errRequest   = errors.New("bad request")
	errNotFound  = errors.New("not found")
	errForbidden = errors.New("forbidden")
	errMediaType = errors.New("unsupported media type")
	errUpstream  = errors.New("bad gateway")
)

// serveAPI serves a POST endpoint: its JSON request in, fn's result out
// with the status of the amslack handler fn called.
func serveAPI[Req any](fn func(context.Context, Req) (apiResult, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := readJSON(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		res, err := fn(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, res.Status, res)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cannot encode answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError maps err to a status in one place.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, errRequest):
		status = http.StatusBadRequest
	case errors.Is(err, errNotFound):
		status = http.StatusNotFound
	case errors.Is(err, errForbidden):
		status = http.StatusForbidden
	case errors.Is(err, errMediaType):
		status = http.StatusUnsupportedMediaType
	case errors.Is(err, errUpstream):
		status = http.StatusBadGateway
	}
	writeJSON(w, status, apiError{Error: err.Error()})
}

// readJSON decodes the request body into v.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		return errors.Join(errRequest, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.Join(errRequest, err)
	}
	return nil
}

// user returns the preview user with id, or the first one when id is "".
func (h *Handler) user(id string) (slackfake.User, bool) {
	if id == "" {
		return h.users[0], true
	}
	i := slices.IndexFunc(h.users, func(u slackfake.User) bool { return u.ID == id })
	if i < 0 {
		return slackfake.User{}, false
	}
	return h.users[i], true
}

// callHandler hands req to next in process and returns its status and body.
func callHandler(next http.Handler, req *http.Request) (int, string) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}
