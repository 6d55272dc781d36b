// Package alertgroup owns the vocabulary that the webhook path and the Slack
// path share about an alert group: the Key of a group in one destination,
// the Alertmanager Message and the Notification the outbox carries, the
// Group that amslack remembers with its statuses and its State (acks,
// silences, approvals, action results), the Store interface that keeps
// Groups, and the versioned encoding of a Group that every Store writes.
// The Store implementations live beneath it, one package each, with one
// conformance suite in storetest.
package alertgroup

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// Message is Alertmanager's webhook payload (version 4). It has the shape of
// Alertmanager's notify/webhook.Message without importing that package, which
// pulls in dozens of modules.
type Message struct {
	*template.Data

	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// Key identifies one alert group in one destination: everything amslack keeps
// per group (the Slack message, its state, the pending notification) is keyed
// on it. Alertmanager can give several routes the same group key, so the
// receiver is part of the key.
type Key struct {
	Receiver string `json:"receiver"`
	GroupKey string `json:"group_key"`
	// Channel is a Slack channel ID, or "webhook:" and the route's name for a
	// route that posts through an incoming webhook.
	Channel string `json:"channel"`
}

// WebhookPrefix starts the Channel of a Key whose route posts through an
// incoming webhook rather than the Web API.
const WebhookPrefix = "webhook:"

// String returns the key in a stable, readable form used as a store key.
func (k Key) String() string {
	return fmt.Sprintf("%s\x1f%s\x1f%s", k.Receiver, k.GroupKey, k.Channel)
}

// ParseKey is the inverse of Key.String.
func ParseKey(s string) (Key, error) {
	parts := strings.Split(s, "\x1f")
	if len(parts) != 3 {
		return Key{}, fmt.Errorf("malformed group key %q", s)
	}
	return Key{Receiver: parts[0], GroupKey: parts[1], Channel: parts[2]}, nil
}

// IsWebhook reports whether the key's destination is an incoming webhook.
func (k Key) IsWebhook() bool { return strings.HasPrefix(k.Channel, WebhookPrefix) }

// Notification is one accepted webhook notification bound for one
// destination. It is what the receiver hands to the outbox.
type Notification struct {
	Key Key `json:"key"`
	// Route is the name of the route that matched; its options (durations,
	// mentions, actions, thread replies) apply when the message is rendered.
	Route      string    `json:"route"`
	Message    *Message  `json:"message"`
	ReceivedAt time.Time `json:"received_at"`
}
