package receiver

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// haDedup recognises the copies of one notification that clustered
// Alertmanagers each send. Peers' bodies differ in externalURL and startsAt,
// so a notification's identity is (receiver, groupKey, status, sorted
// fingerprint:status) rather than the raw body.
//
// Only the last accepted identity of each group is remembered: a copy is a
// notification equal to the one just accepted for its group. Remembering
// every identity would drop a group that fires, resolves and fires again
// with the same alerts inside the window.
type haDedup struct {
	// mu makes check-and-reserve atomic, so two copies arriving together
	// are not both let through.
	mu sync.Mutex
	// last maps a group (receiver, groupKey, destination) to the identity
	// of its last accepted notification.
	last *expirable.LRU[string, string]
}

func newHADedup(size int, window time.Duration) *haDedup {
	return &haDedup{last: expirable.NewLRU[string, string](size, nil, window)}
}

// identity returns the group a notification belongs to and the identity
// under which its copies are recognised.
func identity(m *Message, dest string) (group, id string) {
	group = m.Receiver + "\x1f" + m.GroupKey + "\x1f" + dest
	pairs := make([]string, 0, len(m.Alerts))
	for _, a := range m.Alerts {
		pairs = append(pairs, a.Fingerprint+":"+a.Status)
	}
	slices.Sort(pairs)
	return group, m.Status + "\x1f" + strings.Join(pairs, ",")
}

// reserve reports whether the notification is not a copy of the one last
// accepted for its group, and if so records it as the last. A caller that
// then fails to accept the notification must call release, so that
// Alertmanager's retry is not mistaken for a copy.
func (d *haDedup) reserve(group, id string) (prev string, fresh bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	prev, _ = d.last.Get(group)
	if prev == id {
		return prev, false
	}
	d.last.Add(group, id)
	return prev, true
}

// release undoes reserve.
func (d *haDedup) release(group, id, prev string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur, ok := d.last.Peek(group); !ok || cur != id {
		return
	}
	if prev == "" {
		d.last.Remove(group)
		return
	}
	d.last.Add(group, prev)
}
