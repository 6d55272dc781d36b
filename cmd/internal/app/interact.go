package app

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/amslack/amslack/cmd/internal/config"
	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/interact/businesshours"
	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/render"
)

// newInteract builds the handler of Slack's interactions. Without a signing
// secret amslack cannot tell Slack's requests from anyone's, so the
// endpoints then refuse every request.
func (a *App) newInteract(cfg *Config, s *secrets, client *slackapi.Client) error {
	if s.signingSecret == "" {
		a.logger.Warn("slack.signing_secret is not set: buttons, commands and events are refused")
		return nil
	}
	var silences interact.Silencer
	if cfg.Alertmanager.URL != "" {
		c, err := amclient.New(cfg.Alertmanager.URL, a.opts.HTTPClient)
		if err != nil {
			return fmt.Errorf("alertmanager.url: %w", err)
		}
		silences = c
	}
	auditPath := cfg.Interactions.AuditFile
	if auditPath == "" {
		auditPath = filepath.Join(a.opts.StoragePath, "audit.log")
	}
	audit, err := os.OpenFile(auditPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("interactions.audit_file: %w", err)
	}
	a.closers = append(a.closers, audit.Close)
	in := cfg.Interactions
	o := interact.Options{
		SigningSecret:     s.signingSecret,
		Groups:            a.store,
		Refresher:         a.outbox,
		Silences:          silences,
		Slack:             client,
		HTTPClient:        a.httpClient(),
		Actions:           cfg.actions,
		Offers:            a.routeOffers,
		ApprovalWindow:    time.Duration(in.ApprovalWindow),
		AckMode:           in.AckMode,
		AckDuration:       time.Duration(in.AckDuration),
		SilenceMatchers:   in.SilenceMatchers,
		DedupTTL:          time.Duration(in.DedupTTL),
		ReconcileInterval: time.Duration(in.ReconcileInterval),
		// One interval for the passes that follow up on groups.
		EscalationInterval:    time.Duration(in.FollowUpInterval),
		AckReminderInterval:   time.Duration(in.FollowUpInterval),
		SilenceFollowInterval: time.Duration(in.FollowUpInterval),
		ResolveTimeout:        time.Duration(in.ResolveTimeout),
		Audit:                 audit,
		Logger:                a.logger.With("component", "interact"),
		Registerer:            a.reg,
	}
	o.Silence, o.Ack = interactRule(in.Silence), interactRule(in.Ack)
	o.SilenceAlertDropLabels = in.SilenceAlertDropLabels
	o.SilenceDurations = func(route string) []time.Duration { return a.routeOptions(route).Render.SilenceDurations }
	o.Escalation = a.routeEscalation
	o.BusinessHours = a.routeBusinessHours
	o.AckReminder = time.Duration(in.AckReminder)
	o.Digests, o.Claims = a.routeDigests, a.store
	if l := in.SilenceExpiryLead; l != nil {
		o.SilenceExpiryLead = time.Duration(*l)
	}
	a.interact, err = interact.New(o)
	if err != nil {
		return err
	}
	if s.appToken != "" {
		api := slack.New(s.botToken,
			slack.OptionAPIURL(cfg.Slack.APIURL),
			slack.OptionAppLevelToken(s.appToken),
			slack.OptionHTTPClient(a.httpClient()),
		)
		a.socket = socketmode.New(api)
		a.logger.Info("Socket Mode on: Slack's interactions, commands and events arrive over a WebSocket")
	}
	return nil
}

// keepRestartOnly carries over from the running configuration what only a
// restart applies, and says so when a reload changed it. The interaction
// handler holds caches (click de-duplication, approvals in progress) that
// must not be lost while clicks are in flight, and the Slack client's
// limiter holds the state of Slack's rate limits; the buttons must stay those the
// handler knows.
func (a *App) keepRestartOnly(old, cur *config.Config) {
	var changed []string
	for _, c := range []struct {
		key      string
		old, cur any
	}{
		{"slack", old.Slack, cur.Slack},
		{"alertmanager", old.Alertmanager, cur.Alertmanager},
		{"webhook.dedup_window", old.Webhook.DedupWindow, cur.Webhook.DedupWindow},
		{"delivery", old.Delivery, cur.Delivery},
		{"interactions", old.Interactions, cur.Interactions},
		{"actions", old.Actions, cur.Actions},
	} {
		changed = append(changed, config.ChangedKeys(c.key, c.old, c.cur)...)
	}
	if len(changed) > 0 {
		// The keys only: their values may be secrets.
		a.logger.Warn("Changed keys apply after a restart; the running values stay until then", "keys", strings.Join(changed, ", "))
	}
	cur.Interactions, cur.Actions, cur.Delivery = old.Interactions, old.Actions, old.Delivery
	cur.Alertmanager, cur.Slack = old.Alertmanager, old.Slack
	cur.Webhook.DedupWindow = old.Webhook.DedupWindow
}

// routeOffers reports whether the route named route, as configured now,
// offers the runbook action id: its buttons are those that route's
// messages show.
func (a *App) routeOffers(route, id string) bool {
	return slices.ContainsFunc(a.routeOptions(route).Render.Actions, func(act render.Action) bool { return act.ID == id })
}

// routeEscalation returns the escalation policy of the route named route,
// as configured now, or nil when it has none.
func (a *App) routeEscalation(route string) *interact.Escalation {
	cfg := a.cfg.Load()
	if cfg == nil {
		return nil
	}
	for _, r := range cfg.Routes {
		if r == nil || r.Name != route || r.Escalate == nil {
			continue
		}
		e := &interact.Escalation{Severities: r.Escalate.Severities}
		for _, s := range r.Escalate.Steps {
			e.Steps = append(e.Steps, interact.EscalationStep{After: time.Duration(s.After), Mention: s.Mention, Broadcast: s.Broadcast})
		}
		return e
	}
	return nil
}

// routeDigests returns the digests of the routes, as configured now.
func (a *App) routeDigests() []interact.Digest {
	cfg := a.cfg.Load()
	if cfg == nil {
		return nil
	}
	var ds []interact.Digest
	for _, r := range cfg.Routes {
		if r == nil || r.Digest == nil || r.Channel == "" {
			continue
		}
		ds = append(ds, interact.Digest{
			Route: r.Name, Channel: r.Channel, Every: time.Duration(r.Digest.Every),
			At: r.Digest.ParsedAt, Location: r.Digest.Location,
		})
	}
	return ds
}

// routeBusinessHours returns the business hours of the route named route,
// as configured now, or nil when it has none.
func (a *App) routeBusinessHours(route string) *businesshours.Hours {
	cfg := a.cfg.Load()
	if cfg == nil {
		return nil
	}
	return cfg.businessHours[route]
}

var errNoSigningSecret = errors.New("slack.signing_secret is not configured: amslack cannot verify requests from Slack")

// mountInteract adds Slack's endpoints.
func (a *App) mountInteract(mux *http.ServeMux) {
	if a.interact == nil {
		refuse := func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, errNoSigningSecret.Error(), http.StatusServiceUnavailable)
		}
		for _, p := range []string{"/slack/interactions", "/slack/commands", "/slack/events"} {
			mux.HandleFunc("POST "+p, refuse)
		}
		return
	}
	mux.Handle("POST /slack/interactions", a.interact)
	mux.HandleFunc("POST /slack/commands", a.interact.ServeCommands)
	mux.HandleFunc("POST /slack/events", a.interact.ServeEvents)
}

// The one Slack client publishes App Home views, through its limiter.
var _ interact.HomePublisher = (*slackapi.Client)(nil)
