package app

import (
	"net"
	"net/http"

	"github.com/amslack/amslack/cmd/internal/preview"
	"github.com/amslack/amslack/interact/amclient"
)

// newPreview builds the local preview page in preview mode, once, so that
// the main listener's handler and a separate public one (publicHandler)
// share the page, its event streams and its metrics.
func (a *App) newPreview() {
	if a.fake == nil {
		return
	}
	var interactions http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, errNoSigningSecret.Error(), http.StatusServiceUnavailable)
	})
	// App Home on the page sends app_home_opened to the events handler.
	var events http.Handler
	if a.interact != nil {
		interactions = a.interact
		events = http.HandlerFunc(a.interact.ServeEvents)
	}
	o := preview.Options{
		Fake:          a.fake,
		BaseURL:       PreviewBaseURL,
		SigningSecret: a.signingSecret,
		Interactions:  interactions,
		Events:        events,
		Webhook:       a.previewWebhook(),
		Examples:      preview.ExampleAlerts(),
		Logger:        a.logger.With("component", "preview"),
		Registerer:    a.reg,
	}
	if u := a.cfg.Load().Alertmanager.URL; u != "" {
		// Validated with the configuration, as for the silences.
		if c, err := amclient.New(u, a.opts.HTTPClient); err == nil {
			o.Alertmanager, o.AlertmanagerURL = c, u
		}
	}
	a.preview = preview.New(o)
	a.logger.Info("Local preview: no Slack workspace is involved; open /preview in a browser")
}

// mountPreview serves the local preview page in preview mode, and nothing
// otherwise: the page lets anyone click as any fake user.
func (a *App) mountPreview(mux *http.ServeMux) {
	if a.preview == nil {
		return
	}
	mux.Handle("/preview", a.preview)
	mux.Handle("/preview/", a.preview)
}

// logPreviewURL logs the full URL of the preview page on the listener at
// addr, in preview mode. The page signs clicks with the signing secret and
// lets anyone who reaches it click as any fake user, so a listener on every
// interface gets a warning.
func (a *App) logPreviewURL(addr net.Addr, tls bool) {
	if a.fake == nil {
		return
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		a.logger.Warn("The local preview listens on every interface: anyone who reaches it can click as its fake users, signed with the configured signing secret. Listen on 127.0.0.1 (--web.listen-address=127.0.0.1:"+port+")", "address", addr.String())
		host = "127.0.0.1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	a.logger.Info("Local preview ready", "url", scheme+"://"+net.JoinHostPort(host, port)+"/preview")
}

// previewWebhook hands the preview's example notifications to the webhook
// handler with the credentials Alertmanager would send.
func (a *App) previewWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := a.webhookAuth.Load()
		switch {
		case auth.BearerToken != "":
			r.Header.Set("Authorization", "Bearer "+auth.BearerToken)
		case auth.Username != "":
			r.SetBasicAuth(auth.Username, auth.Password)
		}
		a.webhook.ServeHTTP(w, r)
	})
}
