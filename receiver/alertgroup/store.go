package alertgroup

import (
	"context"
	"time"
)

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
	Get(ctx context.Context, key Key) (g Group, found bool, err error)
	// Update runs fn on the group stored under key, or on a zero Group with
	// Key set and found false if there is none, and stores what fn leaves,
	// atomically. An error from fn aborts the update and is returned as is.
	// fn may run more than once when a concurrent writer got there first, so
	// it must not do anything but change g. Update keeps g.Key as key.
	Update(ctx context.Context, key Key, fn func(g *Group, found bool) error) (Group, error)
	// ByMessage returns the group whose Slack message is ts in channel.
	ByMessage(ctx context.Context, channel, ts string) (g Group, found bool, err error)
	// Delete removes the group stored under key, if any.
	Delete(ctx context.Context, key Key) error
	// Prune deletes the groups that ended or went quiet before before, and
	// returns how many it deleted: the resolved groups whose ResolvedAt is
	// before it, and the others whose last notification and last change
	// (NotifiedAt and UpdatedAt) are both before it (see Group.Prunable).
	// Alertmanager sends a group that still fires again every
	// repeat_interval, but one that resolves on a route with
	// send_resolved: false is never heard of again.
	Prune(ctx context.Context, before time.Time) (int, error)
	// List returns every group, ordered by Key.String. It reads the whole
	// store: it is meant for small deployments and for reconciliation.
	List(ctx context.Context) ([]Group, error)
	// Once claims name for keep, atomically: it reports true to the first
	// caller and false to every later one, also in other processes that
	// share the store, until keep has passed since the claim. It marks
	// work that must be done once however many replicas run, such as a
	// digest due at one time.
	Once(ctx context.Context, name string, keep time.Duration) (first bool, err error)
	// Forget drops the claim on name, so that the next Once of it is
	// first: for a claimer whose work failed and is to be tried again.
	Forget(ctx context.Context, name string) error
}
