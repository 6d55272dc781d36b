// Package slackfake owns a fake Slack: a Web API, incoming webhooks and
// response URLs served from one http.Handler, faithful to the parts of
// Slack's contract that amslack relies on. It checks every message against
// Block Kit's limits with its own reading of the raw JSON, enforces Slack's
// rate limits with 429 and Retry-After, records what clients sent and
// whether they honoured Retry-After, and can inject failures and outages.
// Tests, the storm load tool and the local preview run it in-process.
package slackfake

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/amslack/amslack/receiver/slackapi"
)

// Identifiers of the fake workspace and of the bot that posts through it.
const (
	TeamID    = "T0SLACKFAKE"
	BotID     = "B0SLACKFAKE"
	BotUserID = "U0SLACKFAKE"
)

// Method names under which incoming webhooks and response URLs appear in
// Request, Violation and FailNext, next to Web API method names such as
// "chat.postMessage".
const (
	MethodWebhook     = "webhook"
	MethodResponseURL = "response_url"
)

// Options configure a Server. The zero value accepts any token and has no
// rate limits; SlackRateLimits returns Slack's documented limits. A call
// counts toward its limits once it is authenticated, whether or not it then
// succeeds; a refused (429) call does not count.
type Options struct {
	// Token is the bot token that Web API calls must carry, as the form
	// field "token" or as "Authorization: Bearer". Empty accepts any
	// non-empty token.
	Token string
	// AppToken is the app-level token (xapp-…) that apps.connections.open
	// must carry to open a Socket Mode connection. Empty accepts any
	// xapp- token.
	AppToken string
	// MethodPerMinute caps calls per method in any 60-second window, such
	// as "chat.update": 50 (Slack's Tier 3). Methods not listed are not
	// limited.
	MethodPerMinute map[string]int
	// ChannelPerSecond and ChannelBurst limit chat.postMessage per channel
	// (Slack: about one per second with short bursts). 0 is unlimited; a
	// burst below 1 counts as 1.
	ChannelPerSecond float64
	ChannelBurst     int
	// WebhookPerSecond and WebhookBurst limit each incoming webhook
	// (Slack: one per second, short bursts). 0 is unlimited.
	WebhookPerSecond float64
	WebhookBurst     int
	// WorkspacePerMinute caps the messages the workspace accepts
	// (chat.postMessage and incoming webhooks together) in any 60-second
	// window. 0 is unlimited.
	WorkspacePerMinute int
	// RetryAfter is the least that a 429 tells the client to wait; a 429
	// says the longer of this and the time until the scope admits again,
	// rounded up to whole seconds, and never less than one second.
	RetryAfter time.Duration
	// Now is the clock; nil means time.Now, which testing/synctest fakes.
	Now func() time.Time
	// Logger, if set, logs each accepted message post and update.
	Logger *slog.Logger
}

// SlackRateLimits returns Options with the rate limits Slack documents for
// the methods amslack calls (https://docs.slack.dev/apis/web-api/rate-limits
// and each method's tier on its reference page); "several hundred
// messages per minute" for the workspace is taken as 300.
func SlackRateLimits() Options {
	return Options{
		MethodPerMinute: map[string]int{
			"chat.update":           50,  // Tier 3
			"chat.postEphemeral":    100, // Tier 4
			"views.open":            100, // Tier 4
			"usergroups.users.list": 20,  // Tier 2
			"users.info":            100, // Tier 4
			"views.update":          100, // Tier 4
			"views.publish":         100, // Tier 4
		},
		ChannelPerSecond:   1,
		ChannelBurst:       3,
		WebhookPerSecond:   1,
		WebhookBurst:       3,
		WorkspacePerMinute: 300,
		RetryAfter:         time.Second,
	}
}

// Server is the fake Slack. It is an http.Handler; all its methods are safe
// for concurrent use. It keeps every request and message until Reset, so a
// long load test should Reset between rounds.
type Server struct {
	opts   Options
	now    func() time.Time
	logger *slog.Logger

	// mu guards every field below. Handlers hold it while they decide and
	// record, never while they read a body, sleep or log.
	mu sync.Mutex
	// channels are the known channel IDs; nil accepts any channel.
	channels map[string]bool
	// archived are the channels that refuse messages with is_archived.
	archived map[string]bool
	users    map[string]User
	groups   map[string][]string
	// webhooks maps a webhook ID to its channel; webhookIDs is the reverse.
	webhooks   map[string]string
	webhookIDs map[string]string
	// subs are the Subscribe channels.
	subs map[chan Event]struct{}
	// lastTS (microseconds) and seq survive Reset so that timestamps and
	// IDs are never reused.
	lastTS int64
	seq    int
	// apps is the Socket Mode side and workflow step completions
	// (socket.go); Reset leaves it alone.
	apps appState
	// st is everything that Reset clears.
	st state
}

// state is what the server recorded and what it was told to do; Reset
// starts it afresh.
type state struct {
	channelOrder  []string
	messages      map[string][]*message
	byKey         map[string]*message
	ephemerals    []Ephemeral
	views         []View
	responsePosts []ResponsePost
	requests      []Request
	violations    []Violation
	responses     map[string]*responseURL
	triggers      map[string]*trigger
	limiters      map[slackapi.Scope]limiter
	// blocked holds, per rate-limit scope, the time until which a client
	// was told to wait.
	blocked map[slackapi.Scope]time.Time
	faults  map[string][]fault
	outage  bool
	latency time.Duration
}

func newState() state {
	return state{
		messages:  map[string][]*message{},
		byKey:     map[string]*message{},
		responses: map[string]*responseURL{},
		triggers:  map[string]*trigger{},
		limiters:  map[slackapi.Scope]limiter{},
		blocked:   map[slackapi.Scope]time.Time{},
		faults:    map[string][]fault{},
	}
}

// fault is one injected failure.
type fault struct {
	status   int
	slackErr string
}

// trigger is a trigger_id the fake issued or saw.
type trigger struct {
	issued time.Time // zero for trigger IDs the fake did not issue
	used   bool
}

// User is a Slack user as users.info returns it.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	RealName string `json:"real_name"`
	// TZ is the user's IANA time zone, such as Europe/Berlin; users.info
	// answers it as tz.
	TZ string `json:"tz,omitempty"`
}

// New returns a fake Slack configured by opts.
func New(opts Options) *Server {
	opts.MethodPerMinute = maps.Clone(opts.MethodPerMinute)
	opts.RetryAfter = max(opts.RetryAfter, time.Second)
	s := &Server{
		opts:       opts,
		now:        opts.Now,
		logger:     opts.Logger,
		archived:   map[string]bool{},
		users:      map[string]User{},
		groups:     map[string][]string{},
		webhooks:   map[string]string{},
		webhookIDs: map[string]string{},
		subs:       map[chan Event]struct{}{},
		st:         newState(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// APIURL returns the Web API base URL of a Server mounted at base, for
// slack.OptionAPIURL and amslack's slack.api_url.
func (s *Server) APIURL(base string) string {
	return strings.TrimSuffix(base, "/") + "/api/"
}

// WebhookURL returns the incoming webhook URL that posts into channel, for a
// Server mounted at base. A channel has one webhook; asking again returns
// the same URL.
func (s *Server) WebhookURL(base, channel string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.webhookIDs[channel]
	if !ok {
		s.seq++
		id = fmt.Sprintf("%s/B%09d/%012x", TeamID, s.seq, s.seq*0x9e3779b1)
		s.webhooks[id] = channel
		s.webhookIDs[channel] = id
	}
	return strings.TrimSuffix(base, "/") + "/webhook/" + id
}

// NewResponseURL returns a fresh response_url, as Slack puts in an
// interaction or slash command from user in channel, for a Server mounted at
// base. messageTS is the ts of the message the interaction came from, which
// replace_original and delete_original act on; "" stands for a source
// without one (a slash command or an ephemeral message).
func (s *Server) NewResponseURL(base, channel, user, messageTS string) string {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("%s/%010d/%016x", TeamID, s.seq, uint64(s.seq)*0x9e3779b97f4a7c15)
	s.st.responses[id] = &responseURL{channel: channel, user: user, messageTS: messageTS, created: now}
	return strings.TrimSuffix(base, "/") + "/response/" + id
}

// NewTriggerID returns a trigger_id that views.open accepts once within 3
// seconds, as Slack's do. views.open also accepts, once, trigger IDs that
// the fake did not issue, without the time limit.
func (s *Server) NewTriggerID() string {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("%d.%d.%032x", now.Unix(), s.seq, uint64(s.seq)*0x9e3779b97f4a7c15)
	s.st.triggers[id] = &trigger{issued: now}
	return id
}

// SetChannels makes ids the only channels that exist: calls naming another
// channel get channel_not_found. Until it is called any channel exists.
func (s *Server) SetChannels(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels = make(map[string]bool, len(ids))
	for _, id := range ids {
		s.channels[id] = true
	}
}

// Archive archives channel: as in Slack, chat.postMessage and chat.update
// naming it then answer is_archived, and its messages stay. Like
// SetChannels it is configuration, which Reset keeps.
func (s *Server) Archive(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.archived[channel] = true
}

// SetUser adds or replaces a user that users.info knows.
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// SetUserGroup sets the members of a user group for usergroups.users.list.
func (s *Server) SetUserGroup(id string, users []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = slices.Clone(users)
}

// FailNext makes the next n requests to method fail; method is a Web API
// method name, MethodWebhook or MethodResponseURL. A status of 500 or more
// answers with that HTTP status; 429 answers as a rate limit with
// Retry-After; otherwise the answer is HTTP status (200 if 0) with the Slack
// error slackErr ("internal_error" if empty). Faults queue up in call order.
func (s *Server) FailNext(method string, n, status int, slackErr string) {
	if status == 0 {
		status = http.StatusOK
	}
	if slackErr == "" {
		slackErr = "internal_error"
		if status == http.StatusTooManyRequests {
			slackErr = "ratelimited"
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.st.faults[method] = append(s.st.faults[method], fault{status: status, slackErr: slackErr})
	}
}

// SetOutage starts or ends an outage: while it lasts every request, Web API,
// webhook or response URL, answers 503.
func (s *Server) SetOutage(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.outage = on
}

// SetLatency delays every later request by d before it is handled. The
// delay runs on the runtime's timers (fake under testing/synctest), not on
// Options.Now.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.latency = d
}

// Reset forgets all messages, ephemerals, views, response URLs, requests,
// violations and rate-limit state, and clears faults, outage and latency.
// Configuration (channels, archived channels, users, user groups,
// webhooks) and subscribers stay; timestamps and IDs keep increasing.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = newState()
	s.emit(Event{Kind: EventReset})
}

// ServeHTTP serves the fake's routes relative to where it is mounted:
// /api/<method>, /webhook/<id>, /response/<id> and the Socket Mode
// WebSocket /socket/<id>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if method, ok := strings.CutPrefix(path, "/api/"); ok && method != "" && !strings.Contains(method, "/") {
		if r.Method != http.MethodPost && r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if method == methodConnectionsOpen {
			s.serveConnectionsOpen(w, r)
			return
		}
		s.serveAPI(w, r, method)
		return
	}
	if id, ok := strings.CutPrefix(path, "/socket/"); ok {
		s.serveSocket(w, r, id)
		return
	}
	var serve func(http.ResponseWriter, *http.Request, string)
	var id string
	if rest, ok := strings.CutPrefix(path, "/webhook/"); ok {
		serve, id = s.serveWebhook, rest
	} else if rest, ok := strings.CutPrefix(path, "/response/"); ok {
		serve, id = s.serveResponse, rest
	} else {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	serve(w, r, id)
}

// delay waits out the configured latency; it reports false when the client
// went away meanwhile.
func (s *Server) delay(ctx context.Context) bool {
	s.mu.Lock()
	d := s.st.latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// reply is an answer before it is written.
type reply struct {
	status int
	// body is written as JSON unless plain is set.
	body  any
	plain string
	// slackErr is the Slack error the answer carries, for Request.
	slackErr string
	// retryAfter, in seconds, sets Retry-After when positive.
	retryAfter int
}

// errorBody is Slack's shape of a failed call.
type errorBody struct {
	OK               bool      `json:"ok"`
	Error            string    `json:"error"`
	Errors           []string  `json:"errors,omitempty"`
	RetryAfter       int       `json:"retry_after,omitempty"`
	ResponseMetadata *metadata `json:"response_metadata,omitempty"`
}

type metadata struct {
	Messages []string `json:"messages"`
}

// slackError answers HTTP status with {"ok":false,"error":code}.
func slackError(status int, code string) reply {
	return reply{status: status, body: errorBody{Error: code}, slackErr: code}
}

// rejection is why a message was refused.
type rejection struct {
	code     string
	problems []string
}

func (rj *rejection) reply(status int) reply {
	rep := slackError(status, rj.code)
	if len(rj.problems) > 0 {
		// Slack lists the problems twice: under errors, and prefixed
		// with [ERROR] under response_metadata (observed replies).
		msgs := make([]string, len(rj.problems))
		for i, p := range rj.problems {
			msgs[i] = "[ERROR] " + p
		}
		rep.body = errorBody{Error: rj.code, Errors: rj.problems, ResponseMetadata: &metadata{Messages: msgs}}
	}
	return rep
}

func writeReply(w http.ResponseWriter, rep reply) {
	if rep.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(rep.retryAfter))
	}
	if rep.body == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(rep.status)
		_, _ = w.Write([]byte(rep.plain))
		return
	}
	b, err := json.Marshal(rep.body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(rep.status)
	_, _ = w.Write(b)
}

// checkMessage checks a message's text and blocks as chat.postMessage,
// chat.update, chat.postEphemeral, webhooks and response URLs do. It returns
// the blocks to store (nil when there are none).
func checkMessage(text string, blocks []byte) (json.RawMessage, *rejection) {
	// Slack rejects top-level text past 40,000 characters (chat.postMessage
	// reference, msg_too_long).
	if runeCount(text) > maxMessageText {
		return nil, &rejection{code: "msg_too_long"}
	}
	if len(strings.TrimSpace(string(blocks))) > 0 {
		rep, err := checkBlocks(blocks, "/blocks", maxMessageBlocks)
		switch {
		case err != nil:
			return nil, &rejection{code: "invalid_blocks_format"}
		case len(rep.problems) > 0:
			return nil, &rejection{code: "invalid_blocks", problems: rep.problems}
		case rep.textRunes > maxBlockTextRunes:
			return nil, &rejection{code: "msg_blocks_too_long"}
		case rep.count == 0:
			blocks = nil
		}
	} else {
		blocks = nil
	}
	if text == "" && blocks == nil {
		return nil, &rejection{code: "no_text"}
	}
	return json.RawMessage(blocks), nil
}

// nextTS returns a message timestamp in Slack's "seconds.micros" form,
// strictly increasing across the workspace as Slack's are.
func (s *Server) nextTS(now time.Time) string {
	us := max(now.UnixMicro(), s.lastTS+1)
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// knownChannel reports whether channel exists.
func (s *Server) knownChannel(channel string) bool {
	return channel != "" && (s.channels == nil || s.channels[channel])
}

// takeFault pops the next injected failure for method.
func (s *Server) takeFault(method string) (fault, bool) {
	q := s.st.faults[method]
	if len(q) == 0 {
		return fault{}, false
	}
	s.st.faults[method] = q[1:]
	return q[0], true
}

// limit is a rate-limit scope a request falls in, and how the fake counts
// the requests in it.
type limit struct {
	scope slackapi.Scope
	// newLimiter builds the scope's limiter; nil when the scope has no
	// configured limit (it can still be blocked by an injected 429).
	newLimiter func() limiter
}

func (s *Server) methodLimit(method string) limit {
	sc := limit{scope: slackapi.MethodScope(method)}
	if n := s.opts.MethodPerMinute[method]; n > 0 {
		sc.newLimiter = func() limiter { return newWindow(n, time.Minute) }
	}
	return sc
}

func (s *Server) channelLimit(channel string) limit {
	sc := limit{scope: slackapi.ChannelScope(channel)}
	if s.opts.ChannelPerSecond > 0 {
		sc.newLimiter = func() limiter { return newBucket(s.opts.ChannelPerSecond, s.opts.ChannelBurst) }
	}
	return sc
}

func (s *Server) webhookLimit(id string) limit {
	sc := limit{scope: slackapi.WebhookScope(id)}
	if s.opts.WebhookPerSecond > 0 {
		sc.newLimiter = func() limiter { return newBucket(s.opts.WebhookPerSecond, s.opts.WebhookBurst) }
	}
	return sc
}

func (s *Server) workspaceLimit() limit {
	sc := limit{scope: slackapi.WorkspaceScope()}
	if n := s.opts.WorkspacePerMinute; n > 0 {
		sc.newLimiter = func() limiter { return newWindow(n, time.Minute) }
	}
	return sc
}

// admit applies rate limits to a request in scopes. It returns the seconds
// of Retry-After to answer with, or 0 when the request may proceed. A
// request in a scope whose Retry-After has not passed is a violation: it is
// recorded and refused again.
func (s *Server) admit(now time.Time, req *Request, scopes ...limit) int {
	for _, sc := range scopes {
		until, ok := s.st.blocked[sc.scope]
		if !ok || !now.Before(until) {
			continue
		}
		s.st.violations = append(s.st.violations, Violation{
			Time: now, Scope: sc.scope, Method: req.Method, Channel: req.Channel, Until: until,
		})
		return s.block(now, max(until.Sub(now), s.opts.RetryAfter), sc.scope)
	}
	var wait time.Duration
	var over []slackapi.Scope
	lims := make([]limiter, 0, len(scopes))
	for _, sc := range scopes {
		if sc.newLimiter == nil {
			continue
		}
		l, ok := s.st.limiters[sc.scope]
		if !ok {
			l = sc.newLimiter()
			s.st.limiters[sc.scope] = l
		}
		if d := l.wait(now); d > 0 {
			wait = max(wait, d)
			over = append(over, sc.scope)
		}
		lims = append(lims, l)
	}
	if len(over) > 0 {
		return s.block(now, max(wait, s.opts.RetryAfter), over...)
	}
	for _, l := range lims {
		l.take(now)
	}
	return 0
}

// block tells clients of scopes to wait d, rounded up to whole seconds, and
// returns those seconds.
func (s *Server) block(now time.Time, d time.Duration, scopes ...slackapi.Scope) int {
	secs := retryAfterSeconds(d)
	until := now.Add(time.Duration(secs) * time.Second)
	for _, sc := range scopes {
		if until.After(s.st.blocked[sc]) {
			s.st.blocked[sc] = until
		}
	}
	return secs
}
