package app

import (
	"net/http"

	"github.com/amslack/amslack/examples"
	"github.com/amslack/amslack/render/preview"
)

// mountPreview serves the local preview page in preview mode, and nothing
// otherwise: the page lets anyone click as any fake user.
func (a *App) mountPreview(mux *http.ServeMux) {
	if a.fake == nil {
		return
	}
	var interactions http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, errNoSigningSecret.Error(), http.StatusServiceUnavailable)
	})
	if a.interact != nil {
		interactions = a.interact
	}
	a.preview = preview.New(preview.Options{
		Fake:          a.fake,
		BaseURL:       PreviewBaseURL,
		SigningSecret: a.signingSecret,
		Interactions:  interactions,
		Webhook:       a.previewWebhook(),
		Examples:      examples.Alerts(),
		Logger:        a.logger.With("component", "preview"),
	})
	mux.Handle("/preview", a.preview)
	mux.Handle("/preview/", a.preview)
	a.logger.Info("Local preview: no Slack workspace is involved; open /preview in a browser")
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
