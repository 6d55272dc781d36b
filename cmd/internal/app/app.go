// Package app wires amslack together: configuration, the durable store and
// outbox, the sender, the webhook receiver, the Slack interaction handlers and
// the HTTP endpoints; and it owns their lifecycle: the listeners (TLS and
// basic auth from an exporter-toolkit web configuration), the background
// parts, reload, and the order of the shutdown. The amslack command and the
// storm tool both build on it, so that what the storm tool measures is what
// runs in production.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	commoncfg "github.com/prometheus/common/config"
	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/cmd/internal/config"
	"github.com/amslack/amslack/cmd/internal/preview"
	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/receiver"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/outbox/redisoutbox"
	"github.com/amslack/amslack/receiver/sender"
	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
	"github.com/amslack/amslack/render"
)

// Options are the process settings that come from flags.
type Options struct {
	ConfigFile  string
	StoragePath string
	Logger      *slog.Logger
	Registry    *prometheus.Registry
	// HTTPClient reaches Slack, Alertmanager and internal APIs.
	HTTPClient *http.Client
	// ShutdownTimeout bounds each step of Stop: the wait for requests in
	// flight, and (with slack.timeout added) the wait for in-flight sends.
	ShutdownTimeout time.Duration

	// ListenAddress is where Start listens for Alertmanager, Slack and,
	// without AdminListenAddress, the admin endpoints.
	ListenAddress string
	// AdminListenAddress, when set, is a separate listener for /metrics,
	// /-/reload and the dead-letter API, which then leave ListenAddress.
	AdminListenAddress string
	// WebConfigFile is an exporter-toolkit web configuration: TLS for the
	// listeners, and basic auth for /metrics and the admin endpoints.
	WebConfigFile string
}

// App is a running amslack.
type App struct {
	opts   Options
	logger *slog.Logger
	reg    *prometheus.Registry

	db    *bbolt.DB
	store alertgroup.Store
	// redis is the client of store.redis, nil without it.
	redis *redis.Client
	// outbox is the bbolt outbox of --storage.path, or with store.redis
	// the one in Redis that replicas share (shared).
	outbox outbox.Queue
	shared *redisoutbox.Outbox
	// id names this replica in the leases it takes.
	id      string
	sender  *sender.Sender
	webhook *receiver.Handler
	// interact handles Slack's interactions; nil without a signing secret.
	interact *interact.Handler
	// socket is the Socket Mode client; nil without an app token.
	socket *socketmode.Client
	// closers release what New opened besides the database.
	closers []func() error
	// life is the listeners' settings and what Start started, for Stop.
	life lifecycle
	// fake is the in-process Slack of preview mode, and preview its page;
	// both nil otherwise.
	fake    *slackfake.Server
	preview *preview.Handler
	// signingSecret verifies Slack's requests; the preview signs with it.
	signingSecret string
	// webhookAuth is Alertmanager's credentials, for the preview's
	// example notifications.
	webhookAuth atomic.Pointer[receiver.Auth]

	// reloadMu serialises reloads (SIGHUP and POST /-/reload).
	reloadMu sync.Mutex
	cfg      atomic.Pointer[Config]
	routes   atomic.Pointer[map[string]sender.RouteOptions]
	ready    atomic.Bool

	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
	// rankErrors counts store lookups that ranking a notification gave up
	// on.
	rankErrors prometheus.Counter
}

// New loads the configuration, opens the storage and builds every part.
// Nothing runs until Start; Stop releases what New opened, whether or not
// Start ran.
func New(o Options) (*App, error) {
	o = o.withDefaults()
	a := &App{opts: o, logger: o.Logger, reg: o.Registry, id: replicaID()}
	if err := a.life.init(o.WebConfigFile); err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(o.ConfigFile)
	if err != nil {
		return nil, fmt.Errorf("load configuration: %w", err)
	}
	a.registerMetrics()
	secrets, err := readSecrets(cfg.Config)
	if err != nil {
		return nil, err
	}

	a.db, err = outbox.OpenDB(o.StoragePath)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			a.db.Close()
		}
	}()
	if a.store, err = a.openStore(cfg.Config, secrets); err != nil {
		return nil, err
	}
	if err := a.openOutbox(cfg); err != nil {
		return nil, err
	}
	slackClient, err := a.newSlackClient(cfg, secrets)
	if err != nil {
		return nil, err
	}
	a.shareLimits(cfg, slackClient)
	a.newSender(cfg, slackClient)
	a.signingSecret = secrets.signingSecret
	if err := a.newInteract(cfg, secrets, slackClient); err != nil {
		return nil, err
	}
	a.webhook = receiver.NewHandler(receiver.Options{
		// The credentials now, so that the handler does not report an
		// open webhook before apply gives it the rest of the settings.
		Settings:    receiver.Settings{Auth: secrets.webhookAuth},
		Enqueuer:    a.outbox,
		DedupWindow: time.Duration(cfg.Webhook.DedupWindow),
		Logger:      o.Logger.With("component", "receiver"),
		Registerer:  o.Registry,
	})
	a.apply(cfg, secrets)
	a.newPreview()
	a.reloadOK.Set(1)
	a.reloadTime.SetToCurrentTime()
	ok = true
	return a, nil
}

// withDefaults fills what o leaves empty.
func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.HTTPClient == nil {
		// One sender worker per channel calls Slack at once: keep that
		// many connections alive rather than the default two, whose
		// churn costs a TLS handshake per call in a storm.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 100
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: t}
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	return o
}

// registerMetrics creates the wiring's own metrics.
func (a *App) registerMetrics() {
	reg := promauto.With(a.reg)
	a.reloadOK = reg.NewGauge(prometheus.GaugeOpts{
		Namespace: "amslack", Name: "config_last_reload_successful",
		Help: "Whether the last configuration reload attempt was successful.",
	})
	a.reloadTime = reg.NewGauge(prometheus.GaugeOpts{
		Namespace: "amslack", Name: "config_last_reload_success_timestamp_seconds",
		Help: "Timestamp of the last successful configuration reload.",
	})
	a.rankErrors = reg.NewCounter(prometheus.CounterOpts{
		Namespace: "amslack", Name: "notification_rank_errors_total",
		Help: "Store lookups that ranking a received notification gave up on (error or timeout); the notification was ranked as a new message.",
	})
}

// newSlackClient builds the one client, and so the one set of rate limits,
// for every call to Slack: the sender's and those of interactions and
// events.
func (a *App) newSlackClient(cfg *Config, s *secrets) (*slackapi.Client, error) {
	api, err := a.slackClient(cfg.Config, s)
	if err != nil {
		return nil, err
	}
	return slackapi.New(slackapi.Options{
		API:        api,
		HTTPClient: a.httpClient(),
		Limits: slackapi.Limits{
			ChannelRate:        cfg.Delivery.ChannelRate,
			ChannelBurst:       cfg.Delivery.ChannelBurst,
			MethodPerMinute:    cfg.Delivery.MethodPerMinute,
			WorkspacePerMinute: cfg.Delivery.WorkspacePerMinute,
			RateLimitedBackoff: time.Duration(cfg.Delivery.RateLimitedBackoff),
		},
		Registerer: a.reg,
	}), nil
}

// newSender builds the sender, which renders with interact's controls.
func (a *App) newSender(cfg *Config, slackClient *slackapi.Client) {
	a.sender = sender.New(sender.Options{
		Outbox:     a.outbox,
		Store:      a.store,
		Slack:      slackClient,
		Routes:     a.routeOptions,
		Controls:   interact.Controls,
		MaxAge:     time.Duration(cfg.Delivery.MaxAge),
		Logger:     a.logger.With("component", "sender"),
		Registerer: a.reg,
	})
}

// secrets are the configuration's secrets, read from the file or from
// their _file twins.
type secrets struct {
	botToken, signingSecret, appToken string
	webhookAuth                       receiver.Auth
	webhookURLs                       map[string]string
	redisPassword                     string
}

func readSecrets(cfg *config.Config) (*secrets, error) { return readSecretFiles(cfg, true) }

// readSecretFiles is readSecrets, with the _file twins read only when
// files is true: otherwise their secrets stay empty, and only the secrets
// given in the configuration itself are checked.
func readSecretFiles(cfg *config.Config, files bool) (*secrets, error) {
	s := &secrets{webhookURLs: map[string]string{}}
	var errs []error
	// read reports whether it read a file.
	read := func(key string, v *string, value commoncfg.Secret, file string) bool {
		if file != "" && !files {
			return false
		}
		got, err := cfg.Secret(value, file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
		*v = got
		return file != "" && err == nil
	}
	botTokenRead := read("slack.bot_token_file", &s.botToken, cfg.Slack.BotToken, cfg.Slack.BotTokenFile)
	read("slack.signing_secret_file", &s.signingSecret, cfg.Slack.SigningSecret, cfg.Slack.SigningSecretFile)
	read("slack.app_token_file", &s.appToken, cfg.Slack.AppToken, cfg.Slack.AppTokenFile)
	if s.appToken != "" && !strings.HasPrefix(s.appToken, "xapp-") {
		errs = append(errs, errors.New("slack.app_token_file: the file does not hold an app-level token (xapp-…)"))
	}
	read("webhook.bearer_token_file", &s.webhookAuth.BearerToken, cfg.Webhook.BearerToken, cfg.Webhook.BearerTokenFile)
	if ba := cfg.Webhook.BasicAuth; ba != nil {
		s.webhookAuth.Username = ba.Username
		read("webhook.basic_auth.password_file", &s.webhookAuth.Password, ba.Password, ba.PasswordFile)
	}
	if r := cfg.Store.Redis; r != nil {
		read("store.redis.password_file", &s.redisPassword, r.Password, r.PasswordFile)
	}
	for i, r := range cfg.Routes {
		if r.WebhookURL == "" && r.WebhookURLFile == "" {
			continue
		}
		var u string
		read(fmt.Sprintf("routes[%d].webhook_url_file", i), &u, r.WebhookURL, r.WebhookURLFile)
		s.webhookURLs[r.Name] = u
	}
	if cfg.Slack.Mode == config.ModeAPI && slices.ContainsFunc(cfg.Routes, func(r *config.Route) bool { return r.Channel != "" }) {
		// A bot_token_file that cannot be read has its error above.
		switch {
		case cfg.Slack.BotToken == "" && cfg.Slack.BotTokenFile == "":
			errs = append(errs, errors.New("slack.bot_token: routes post to channels, which needs a bot token (or bot_token_file)"))
		case botTokenRead && s.botToken == "":
			errs = append(errs, errors.New("slack.bot_token_file: the file is empty; routes post to channels, which needs a bot token"))
		}
	}
	return s, errors.Join(errs...)
}

// slackClient returns the Web API client: the real Slack at api_url, or in
// preview mode the in-process fake, reached without a network.
func (a *App) slackClient(cfg *config.Config, s *secrets) (*slack.Client, error) {
	if cfg.Slack.Mode != config.ModePreview {
		return slack.New(s.botToken,
			slack.OptionAPIURL(cfg.Slack.APIURL),
			slack.OptionHTTPClient(&http.Client{Timeout: time.Duration(cfg.Slack.Timeout), Transport: a.opts.HTTPClient.Transport}),
		), nil
	}
	a.fake = slackfake.New(slackfake.Options{
		Logger: a.logger.With("component", "preview"),
	})
	return slack.New("xoxb-preview",
		slack.OptionAPIURL(PreviewBaseURL+"api/"),
		slack.OptionHTTPClient(a.httpClient()),
	), nil
}

// PreviewBaseURL is where the in-process fake Slack of preview mode answers.
// The host never resolves: requests to it are served in process.
const PreviewBaseURL = "http://slack.preview.invalid/"

// httpClient returns the client for Slack-bound requests other than the Web
// API (incoming webhooks, response_url); in preview mode those reach the
// in-process fake too.
func (a *App) httpClient() *http.Client {
	if a.fake == nil {
		return a.opts.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: previewTransport{fake: a.fake, next: a.opts.HTTPClient.Transport}}
}

// previewTransport answers requests for PreviewBaseURL from the fake Slack
// in process, and sends everything else on.
type previewTransport struct {
	fake http.Handler
	next http.RoundTripper
}

func (t previewTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "slack.preview.invalid" {
		next := t.next
		if next == nil {
			next = http.DefaultTransport
		}
		return next.RoundTrip(r)
	}
	rec := httptest.NewRecorder()
	t.fake.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// rankLookupTimeout bounds the store lookup that ranks a notification. The
// lookup runs while Alertmanager waits for its answer, and only refines the
// order: a store that does not answer in time must not hold up the webhook,
// whose notification is durable in the local outbox without it.
const rankLookupTimeout = 500 * time.Millisecond

// priority orders a channel's pending entries: by severity, then new
// messages before updates of existing ones.
func (a *App) priority(order []string) func(alertgroup.Notification) int {
	severity := outbox.SeverityPriority(order)
	return func(n alertgroup.Notification) int {
		if n.Message == nil {
			// A refresh after a click: someone is waiting to see it.
			return 0
		}
		p := 2 * severity(n)
		if n.Message.Status == alertgroup.StatusResolved {
			return p + 1
		}
		ctx, cancel := context.WithTimeout(context.Background(), rankLookupTimeout)
		defer cancel()
		g, found, err := a.store.Get(ctx, n.Key)
		if err != nil {
			// Ranked as a new message: at worst it goes out a little
			// before an update of the same severity would have.
			a.rankErrors.Inc()
			a.logger.Warn("Cannot read the group's state to rank its notification; ranking it as a new message",
				"group_key", n.Key.GroupKey, "channel", n.Key.Channel, "err", err)
			return p
		}
		if found && g.TS != "" && g.Status == alertgroup.StatusFiring {
			p++
		}
		return p
	}
}

// apply makes cfg the running configuration.
func (a *App) apply(cfg *Config, s *secrets) {
	router, opts := routing(cfg, s.webhookURLs)
	auth := s.webhookAuth
	a.webhookAuth.Store(&auth)
	a.webhook.Reload(receiver.Settings{
		Auth:         s.webhookAuth,
		MaxBodyBytes: cfg.Webhook.MaxBodyBytes,
		Router:       router,
	})
	a.routes.Store(&opts)
	a.cfg.Store(cfg)
}

// routing returns the router of cfg's routes and each route's options by
// name. Without a default route, "" names the built-in options that a
// request's ?channel= gets.
func routing(cfg *Config, webhookURLs map[string]string) (*receiver.Router, map[string]sender.RouteOptions) {
	routes := make([]*receiver.Route, 0, len(cfg.Routes))
	opts := map[string]sender.RouteOptions{}
	for _, r := range cfg.Routes {
		routes = append(routes, &receiver.Route{
			Name: r.Name, Receiver: r.Receiver, Matchers: r.ParsedMatchers,
			Channel: r.Channel, Webhook: r.Channel == "",
		})
		opts[r.Name] = routeOptions(cfg, r, webhookURLs[r.Name])
	}
	if !slices.ContainsFunc(routes, (*receiver.Route).IsDefault) {
		opts[""] = routeOptions(cfg, &config.Route{Repeat: "ignore"}, "")
	}
	return receiver.NewRouter(routes, cfg.AllowedChannels), opts
}

func routeOptions(cfg *Config, r *config.Route, webhookURL string) sender.RouteOptions {
	ro := sender.RouteOptions{
		ThreadReplies:   r.ThreadReplies == nil || *r.ThreadReplies,
		RepeatInThread:  r.Repeat == "thread",
		WebhookURL:      webhookURL,
		FallbackChannel: r.FallbackChannel,
		Render:          render.Options{Mentions: r.Mention, Templates: cfg.routeTemplates(r)},
	}
	for _, d := range r.SilenceDurations {
		ro.Render.SilenceDurations = append(ro.Render.SilenceDurations, time.Duration(d))
	}
	if b := r.BusinessHours; b != nil {
		ro.Render.BusinessDay = b.Start + " " + b.TimeZone
	}
	for _, act := range cfg.actions {
		if len(r.Actions) > 0 && !slices.Contains(r.Actions, act.ID) {
			continue
		}
		ro.Render.Actions = append(ro.Render.Actions, interact.RenderAction(&act))
	}
	return ro
}

func (a *App) routeOptions(name string) sender.RouteOptions {
	m := *a.routes.Load()
	if ro, ok := m[name]; ok {
		return ro
	}
	// A route removed by a reload while its entries were pending: deliver
	// with the defaults rather than not at all.
	return sender.RouteOptions{ThreadReplies: true}
}

// Reload reads the configuration file again and applies it; on any error the
// running configuration stays.
func (a *App) Reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	err := a.reload()
	if err != nil {
		a.reloadOK.Set(0)
		a.logger.Error("Configuration reload failed; keeping the last good configuration", "err", err)
		return err
	}
	a.reloadOK.Set(1)
	a.reloadTime.SetToCurrentTime()
	a.logger.Info("Configuration reloaded", "file", a.opts.ConfigFile)
	return nil
}

func (a *App) reload() error {
	cfg, err := LoadConfig(a.opts.ConfigFile)
	if err != nil {
		return err
	}
	old := a.cfg.Load()
	if cfg.Slack.Mode != old.Slack.Mode || cfg.Slack.APIURL != old.Slack.APIURL {
		return errors.New("slack.mode and slack.api_url cannot change on reload: restart amslack")
	}
	if !reflect.DeepEqual(cfg.Store, old.Store) {
		return errors.New("store cannot change on reload: restart amslack")
	}
	s, err := readSecrets(cfg.Config)
	if err != nil {
		return err
	}
	a.keepRestartOnly(old.Config, cfg.Config)
	// The actions too stay those that interact was built with.
	cfg.actions = old.actions
	a.apply(cfg, s)
	return nil
}

// DB returns the storage path's database file, for tools.
func DBPath(storage string) string { return filepath.Join(storage, "amslack.db") }

// CheckSecrets reads every secret the configuration names, to report
// unreadable files before amslack starts. With files false it reads no
// secret file, for a configuration checked away from its secrets; the
// secrets that must be set are still checked.
func CheckSecrets(cfg *config.Config, files bool) error {
	_, err := readSecretFiles(cfg, files)
	return err
}

// RenderOptions returns the rendering options for a payload: those of the
// named route, or of the route the payload matches.
func RenderOptions(cfg *Config, m *alertgroup.Message, route string) (render.Options, error) {
	router, opts := routing(cfg, nil)
	if route != "" {
		ro, ok := opts[route]
		if !ok {
			return render.Options{}, noRoute(cfg.Config, route)
		}
		return ro.Render, nil
	}
	r, _, err := router.Route(m, "")
	if err != nil {
		return render.Options{}, err
	}
	return opts[r.Name].Render, nil
}

// noRoute says that cfg has no route named route, and which routes it has.
func noRoute(cfg *config.Config, route string) error {
	if len(cfg.Routes) == 0 {
		return fmt.Errorf("no route named %q: the configuration has no routes", route)
	}
	names := make([]string, len(cfg.Routes))
	for i, r := range cfg.Routes {
		names[i] = r.Name
	}
	return fmt.Errorf("no route named %q; the routes are %s (a route's name defaults to its receiver, or route<N>)", route, strings.Join(names, ", "))
}
