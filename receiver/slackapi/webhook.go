package slackapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// webhookError is an incoming webhook's refusal. Slack answers webhooks with
// plain-text errors ("channel_not_found", "invalid_payload"), which
// slack-go's PostWebhook drops, so amslack posts them itself.
type webhookError struct {
	status     int
	body       string
	retryAfter time.Duration
}

func (e *webhookError) Error() string {
	return fmt.Sprintf("incoming webhook: HTTP %d: %s", e.status, e.body)
}

// postWebhook posts a message to an incoming webhook. Errors never contain
// the URL: it is a secret.
func postWebhook(ctx context.Context, client *http.Client, url, text string, blocks []slack.Block, threadTS string) error {
	body, err := json.Marshal(struct {
		Text     string `json:"text"`
		Blocks   any    `json:"blocks,omitempty"`
		ThreadTS string `json:"thread_ts,omitempty"`
	}{text, blocks, threadTS})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("incoming webhook: bad URL")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error carries the URL; keep only the cause.
		if ue, ok := err.(interface{ Unwrap() error }); ok && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return fmt.Errorf("incoming webhook: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	we := &webhookError{status: resp.StatusCode, body: strings.TrimSpace(string(b))}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		we.retryAfter = time.Duration(s) * time.Second
	}
	var jsonErr struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &jsonErr) == nil && jsonErr.Error != "" {
		we.body = jsonErr.Error
	}
	return we
}
