// Package store owns what amslack remembers about each alert group in each
// destination: the Slack message that shows it, the status and alerts last
// delivered, and what people did to it through Slack. It defines the Store
// interface and two implementations: Bolt, embedded in the process's bbolt
// database, and Redis, shared by several replicas.
package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/amslack/amslack/receiver"
	"github.com/amslack/amslack/render"
)

// Statuses of an alert group, as Alertmanager names them.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Group is what amslack keeps per alert group and destination.
type Group struct {
	Key receiver.Key `json:"key"`
	// Route is the name of the route that last matched.
	Route string `json:"route,omitempty"`
	// TS is the Slack message's ts: empty until the message is posted, and
	// always for a webhook route, because incoming webhooks return no ts.
	TS string `json:"ts,omitempty"`
	// Status is StatusFiring or StatusResolved as last delivered.
	Status string `json:"status,omitempty"`
	// Alerts maps each alert's fingerprint to its status as last delivered.
	Alerts map[string]string `json:"alerts,omitempty"`
	// Message is the last delivered notification; clicks re-render it.
	Message *receiver.Message `json:"message,omitempty"`
	// State holds acks, silences, approvals and action results.
	State render.State `json:"state"`

	// NotifiedAt is when the notification last delivered was received; an
	// older one (a retried dead letter, another replica's late delivery)
	// must not overwrite what it shows.
	NotifiedAt time.Time `json:"notified_at,omitzero"`
	// PostingBy and PostingUntil lease the posting of the group's first
	// message to one replica, so that replicas sharing the store do not
	// both post it.
	PostingBy    string    `json:"posting_by,omitempty"`
	PostingUntil time.Time `json:"posting_until,omitzero"`
	// AbsentSince is when the reconciler first found that Alertmanager
	// lists none of the group's alerts; zero while it lists them. It is
	// stored so that the wait for proof of resolution survives a restart
	// of amslack.
	AbsentSince time.Time `json:"absent_since,omitzero"`

	FirstAt    time.Time `json:"first_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// Store keeps Groups. Implementations are safe for concurrent use, also by
// several processes where the implementation is shared (Redis).
//
// A stored record that cannot be decoded (a disk fault, a downgrade) is
// moved aside to a quarantine, logged and counted, and every method goes
// on as if the group were not stored: one bad record must not break List
// or keep its group from ever being delivered again.
type Store interface {
	// Get returns the group stored under key; found is false if there is
	// none.
	Get(ctx context.Context, key receiver.Key) (g Group, found bool, err error)
	// Update runs fn on the group stored under key, or on a zero Group with
	// Key set and found false if there is none, and stores what fn leaves,
	// atomically. An error from fn aborts the update and is returned as is.
	// fn may run more than once when a concurrent writer got there first, so
	// it must not do anything but change g. Update keeps g.Key as key.
	Update(ctx context.Context, key receiver.Key, fn func(g *Group, found bool) error) (Group, error)
	// ByMessage returns the group whose Slack message is ts in channel.
	ByMessage(ctx context.Context, channel, ts string) (g Group, found bool, err error)
	// Delete removes the group stored under key, if any.
	Delete(ctx context.Context, key receiver.Key) error
	// Prune deletes the groups that ended or went quiet before before, and
	// returns how many it deleted: the resolved groups whose ResolvedAt is
	// before it, and the others whose last notification and last change
	// (NotifiedAt and UpdatedAt) are both before it. Alertmanager sends a
	// group that still fires again every repeat_interval, but one that
	// resolves on a route with send_resolved: false is never heard of
	// again.
	Prune(ctx context.Context, before time.Time) (int, error)
	// List returns every group, ordered by Key.String. It reads the whole
	// store: it is meant for small deployments and for reconciliation.
	List(ctx context.Context) ([]Group, error)
}

// prunable reports whether Prune deletes g.
func prunable(g Group, before time.Time) bool {
	if g.Status == StatusResolved {
		return !g.ResolvedAt.IsZero() && g.ResolvedAt.Before(before)
	}
	last := lastActive(g)
	return !last.IsZero() && last.Before(before)
}

// lastActive is when g was last notified or changed.
func lastActive(g Group) time.Time {
	if g.UpdatedAt.After(g.NotifiedAt) {
		return g.UpdatedAt
	}
	return g.NotifiedAt
}

// messageKey is the secondary index key of a Slack message.
func messageKey(channel, ts string) string { return channel + "\x1f" + ts }

func encodeGroup(g Group) ([]byte, error) {
	b, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("encode group: %w", err)
	}
	return b, nil
}

func decodeGroup(b []byte) (Group, error) {
	var g Group
	if err := json.Unmarshal(b, &g); err != nil {
		return Group{}, fmt.Errorf("decode group: %w", err)
	}
	return g, nil
}
