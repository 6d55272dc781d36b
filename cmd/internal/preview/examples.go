package preview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/amslack/amslack/interact/amclient"
)

type exampleRequest struct {
	Name string `json:"name"`
}

// alertmanagerTimeout bounds the post of an example to Alertmanager. One on
// this machine answers in milliseconds; a refused connection fails at once.
const alertmanagerTimeout = 5 * time.Second

// Results of sending an example, the values of the result label of
// amslack_preview_example_sends_total.
const (
	// sentToAlertmanager: Alertmanager took the example's alerts.
	sentToAlertmanager = "alertmanager"
	// sentDirect: no Alertmanager is configured or none answered; the
	// example went to amslack's webhook handler.
	sentDirect = "direct"
	// sentRefused: Alertmanager answered with an error.
	sentRefused = "refused"
)

func (h *Handler) serveSendExample(w http.ResponseWriter, r *http.Request) {
	var req exampleRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if h.webhook == nil {
		writeError(w, errors.New("the preview has no webhook handler"))
		return
	}
	payload, ok := h.examples[req.Name]
	if !ok {
		writeError(w, fmt.Errorf("%w: no example %q", errNotFound, req.Name))
		return
	}
	body, err := freshen(payload, h.now())
	if err != nil {
		// Send it as it is: amslack's answer says what is wrong with it.
		h.logger.Warn("Cannot update the times of an example payload", "example", req.Name, "err", err)
		body = payload
	}
	note := "no alertmanager.url: sent directly to amslack"
	alerts, err := postableAlerts(body)
	switch {
	case h.alertmanager == nil:
	case err != nil:
		// Send it to amslack: its answer says what is wrong with it.
		h.logger.Warn("Cannot read the alerts of an example payload", "example", req.Name, "err", err)
		note = fmt.Sprintf("the example's alerts cannot be sent to Alertmanager (%v): sent directly to amslack", err)
	default:
		ctx, cancel := context.WithTimeout(r.Context(), alertmanagerTimeout)
		err := h.alertmanager.PostAlerts(ctx, alerts)
		cancel()
		var se *amclient.StatusError
		switch {
		case err == nil:
			h.sends.WithLabelValues(sentToAlertmanager).Inc()
			h.logger.Info("Preview example sent to Alertmanager", "example", req.Name, "alertmanager", h.alertmanagerURL, "alerts", len(alerts))
			writeJSON(w, http.StatusOK, apiResult{
				Status: http.StatusOK,
				Note:   fmt.Sprintf("sent to Alertmanager at %s, which notifies amslack through its webhook receiver after group_wait", h.alertmanagerURL),
			})
			return
		case errors.As(err, &se):
			h.sends.WithLabelValues(sentRefused).Inc()
			h.logger.Warn("Alertmanager refused a preview example", "example", req.Name, "alertmanager", h.alertmanagerURL, "err", err)
			writeError(w, fmt.Errorf("%w: Alertmanager at %s refused the example %q: %w", errUpstream, h.alertmanagerURL, req.Name, err))
			return
		}
		// No Alertmanager answers: the example goes to amslack directly.
		// Its groups then never exist in Alertmanager, and the reconciler,
		// which cannot reach Alertmanager either, leaves their
		// acknowledgements alone.
		h.logger.Info("No Alertmanager answers; sending the preview example to amslack directly", "example", req.Name, "alertmanager", h.alertmanagerURL, "err", err)
		note = fmt.Sprintf("no Alertmanager at %s: sent directly; acks are kept as they are", h.alertmanagerURL)
	}
	h.sends.WithLabelValues(sentDirect).Inc()
	wreq, err := http.NewRequestWithContext(r.Context(), http.MethodPost, "/webhook", bytes.NewReader(body))
	if err != nil {
		writeError(w, err)
		return
	}
	wreq.Header.Set("Content-Type", "application/json")
	wreq.Header.Set("User-Agent", "Alertmanager/preview")
	status, answer := callHandler(h.webhook, wreq)
	h.logger.Info("Preview example sent", "example", req.Name, "status", status)
	writeJSON(w, status, apiResult{Status: status, Body: answer, Note: note})
}

// postableAlerts returns the alerts of an Alertmanager webhook payload as
// Prometheus posts them: labels, annotations, start, end and generator URL.
// A firing alert's end stays unset, as Alertmanager writes it in webhook
// payloads (0001-01-01); Alertmanager then keeps it firing for its
// resolve_timeout. A resolved alert keeps its end, which resolves it.
func postableAlerts(payload []byte) ([]amclient.PostableAlert, error) {
	var doc struct {
		Alerts []struct {
			Status       string            `json:"status"`
			Labels       map[string]string `json:"labels"`
			Annotations  map[string]string `json:"annotations"`
			StartsAt     time.Time         `json:"startsAt"`
			EndsAt       time.Time         `json:"endsAt"`
			GeneratorURL string            `json:"generatorURL"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(payload, &doc); err != nil {
		return nil, fmt.Errorf("read payload: %w", err)
	}
	if len(doc.Alerts) == 0 {
		return nil, errors.New("read payload: no alerts")
	}
	out := make([]amclient.PostableAlert, len(doc.Alerts))
	for i, a := range doc.Alerts {
		p := amclient.PostableAlert{
			Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: a.StartsAt, GeneratorURL: a.GeneratorURL,
		}
		if a.Status == "resolved" && a.EndsAt.Year() > 1 {
			p.EndsAt = a.EndsAt
		}
		out[i] = p
	}
	return out, nil
}

// alertTimes are the time fields of an Alertmanager alert.
var alertTimes = []string{"startsAt", "endsAt"}

// freshen moves every time of the alerts in an Alertmanager webhook payload
// by the same amount, so that the latest of them is now: durations such as
// "firing for 5m" and "resolved after 22s" then read as they did when the
// payload was captured. A firing alert's zero endsAt (0001-01-01) stays
// zero. Every other field is kept as it was.
func freshen(payload []byte, now time.Time) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("read payload: %w", err)
	}
	if doc == nil {
		return nil, errors.New("read payload: not a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("read payload: data after the JSON object")
	}
	alerts, _ := doc["alerts"].([]any)
	var latest time.Time
	for _, a := range alerts {
		al, _ := a.(map[string]any)
		for _, f := range alertTimes {
			if t, ok := alertTime(al, f); ok && t.After(latest) {
				latest = t
			}
		}
	}
	if latest.IsZero() {
		return payload, nil
	}
	shift := now.Sub(latest)
	for _, a := range alerts {
		al, _ := a.(map[string]any)
		for _, f := range alertTimes {
			if t, ok := alertTime(al, f); ok {
				al[f] = t.Add(shift).UTC().Format(time.RFC3339Nano)
			}
		}
	}
	return json.Marshal(doc)
}

// alertTime reads a set time field of an alert; Alertmanager writes an
// unset one as the zero time, 0001-01-01T00:00:00Z.
func alertTime(alert map[string]any, field string) (time.Time, bool) {
	s, ok := alert[field].(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}, false
	}
	return t, true
}
