package receiver

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/amslack/amslack/receiver/alertgroup"
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
	// last maps a group (receiver, groupKey, destination) to its last
	// accepted notification.
	last *expirable.LRU[string, *accepted]
	// waiting counts copies waiting for their original's commit.
	waiting atomic.Int32
}

// accepted is a group's last accepted notification. committing is open
// while it is being recorded: a copy that arrives then waits for the
// outcome, because answering it 200 before the original is durable would
// let the peer that sent it drop the notification if the original fails.
type accepted struct {
	id         string
	committing chan struct{}
}

func newHADedup(size int, window time.Duration) *haDedup {
	return &haDedup{last: expirable.NewLRU[string, *accepted](size, nil, window)}
}

// identity returns the group a notification belongs to and the identity
// under which its copies are recognised.
func identity(m *alertgroup.Message, dest string) (group, id string) {
	group = m.Receiver + "\x1f" + m.GroupKey + "\x1f" + dest
	pairs := make([]string, 0, len(m.Alerts))
	for _, a := range m.Alerts {
		pairs = append(pairs, a.Fingerprint+":"+a.Status)
	}
	slices.Sort(pairs)
	return group, m.Status + "\x1f" + strings.Join(pairs, ",")
}

// reserve reports whether the notification is new rather than a copy of the
// one last accepted for its group. A new one becomes the group's last,
// committing until the caller says how recording it went (done). A copy of
// one still committing waits for that outcome first.
func (d *haDedup) reserve(ctx context.Context, group, id string) (done func(ok bool), fresh bool, err error) {
	for {
		d.mu.Lock()
		prev, _ := d.last.Get(group)
		if prev == nil || prev.id != id {
			a := &accepted{id: id, committing: make(chan struct{})}
			d.last.Add(group, a)
			d.mu.Unlock()
			return func(ok bool) { d.settle(group, a, prev, ok) }, true, nil
		}
		wait := prev.committing
		d.mu.Unlock()
		if wait == nil {
			return nil, false, nil
		}
		d.waiting.Add(1)
		select {
		case <-wait:
		case <-ctx.Done():
		}
		d.waiting.Add(-1)
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
	}
}

// settle ends a's commit: kept when it was recorded, replaced by prev again
// when not, so that Alertmanager's retry is not mistaken for a copy.
func (d *haDedup) settle(group string, a, prev *accepted, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	close(a.committing)
	a.committing = nil
	if ok {
		return
	}
	if cur, found := d.last.Peek(group); !found || cur != a {
		return
	}
	if prev == nil {
		d.last.Remove(group)
		return
	}
	d.last.Add(group, prev)
}
