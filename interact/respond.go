package interact

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// Slack: a response_url accepts up to 5 posts within 30 minutes.
const (
	responseURLUses     = 5
	responseURLLifetime = 30 * time.Minute
	// responseTimeout bounds one post to a response_url.
	responseTimeout = 5 * time.Second
)

// respond shows text to the clicker alone, through the payload's
// response_url. It gives up after Slack's five uses of one URL. Failures are
// logged and counted, not returned: the action's outcome does not depend on
// them.
func (h *Handler) respond(ctx context.Context, responseURL, text string) {
	if responseURL == "" || text == "" {
		return
	}
	if !h.takeResponse(responseURL) {
		h.metrics.responses.WithLabelValues(responseExhausted).Inc()
		h.logger.Warn("response_url used up, reply dropped", "uses", responseURLUses)
		return
	}
	body, err := json.Marshal(map[string]any{
		"response_type":    "ephemeral",
		"replace_original": false,
		"text":             text,
	})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, responseTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		h.metrics.responses.WithLabelValues(responseFailed).Inc()
		h.logger.Warn("invalid response_url")
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.hc.Do(req)
	if err != nil {
		h.metrics.responses.WithLabelValues(responseFailed).Inc()
		// The URL is a bearer capability: log the cause only.
		h.logger.Warn("cannot post to response_url", "err", unwrapURLError(err))
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		h.metrics.responses.WithLabelValues(responseFailed).Inc()
		h.logger.Warn("response_url rejected the reply", "status", resp.StatusCode)
		return
	}
	h.metrics.responses.WithLabelValues(responseSent).Inc()
}

// takeResponse counts one use of responseURL and reports whether it was
// still allowed.
func (h *Handler) takeResponse(responseURL string) bool {
	h.responsesMu.Lock()
	defer h.responsesMu.Unlock()
	n, _ := h.responses.Get(responseURL)
	if n >= responseURLUses {
		return false
	}
	h.responses.Add(responseURL, n+1)
	return true
}
