package preview

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

type exampleRequest struct {
	Name string `json:"name"`
}

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
	wreq, err := http.NewRequestWithContext(r.Context(), http.MethodPost, "/webhook", bytes.NewReader(body))
	if err != nil {
		writeError(w, err)
		return
	}
	wreq.Header.Set("Content-Type", "application/json")
	wreq.Header.Set("User-Agent", "Alertmanager/preview")
	status, answer := callHandler(h.webhook, wreq)
	h.logger.Info("Preview example sent", "example", req.Name, "status", status)
	writeJSON(w, status, apiResult{Status: status, Body: answer})
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
