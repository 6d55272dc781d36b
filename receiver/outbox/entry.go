package outbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Kind says what delivering an Entry means.
type Kind int

const (
	// KindNotify delivers a webhook notification: the group's message is
	// rendered from the notification and posted or updated.
	KindNotify Kind = iota
	// KindRefresh re-renders the stored group, for example after a click
	// changed its state. It carries no Message.
	KindRefresh
)

var kindNames = [...]string{KindNotify: "notify", KindRefresh: "refresh"}

// String returns the kind's name as stored and used in metric labels.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(kindNames) {
		return nil, fmt.Errorf("unknown outbox entry kind %d", int(k))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, name := range kindNames {
		if string(b) == name {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown outbox entry kind %q", b)
}

// Entry is one unit of work in the outbox: the latest thing to deliver for
// one alertgroup.Key.
type Entry struct {
	// ID orders entries: it grows with every new entry. An entry keeps its ID
	// when newer notifications coalesce into it, so it keeps its place in
	// line.
	ID   uint64 `json:"-"`
	Kind Kind   `json:"kind"`
	// Notification is what to deliver. A KindRefresh entry has its Key,
	// Route and ReceivedAt set and no Message.
	Notification alertgroup.Notification `json:"notification"`
	// Priority orders entries of a channel: lower sends first.
	Priority int `json:"priority"`
	// Attempts counts the failed deliveries.
	Attempts int `json:"attempts,omitempty"`
	// NextAttempt is when the entry may be tried again; zero means now.
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// FirstAt is when the first notification that the entry coalesces
	// arrived; the age of the oldest pending entry is measured from it.
	FirstAt   time.Time `json:"first_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	// Notes are what people did to the group since its message was last
	// sent (acknowledged, silenced, an action's result), for a thread
	// reply. Coalescing keeps them all, up to maxNotes, newest last.
	Notes []string `json:"notes,omitempty"`
	// Refreshed is set on a notification that a refresh was merged into:
	// the group's state changed, so the message must be updated even if
	// the alerts did not change.
	Refreshed bool `json:"refreshed,omitempty"`
	// Retries counts the times an operator sent the entry again from the
	// dead-letter list; Attempts and FirstAt start afresh with each.
	Retries int `json:"retries,omitempty"`
	// Fence is set by Claim of a queue that replicas share (see Leaser):
	// the channel's lease the entry was claimed under, for the store writes
	// made while delivering it (alertgroup.WithFence). It is not stored.
	Fence alertgroup.Fence `json:"-"`
}

// maxNotes bounds the notes an entry carries, so that a burst of clicks
// cannot grow one entry without limit; the oldest are dropped.
const maxNotes = 20

// supersede returns cur with the newer of cur's and in's deliveries, for
// two entries of one key that must become one. The newest notification wins
// (by ReceivedAt; in on a tie), because a group's latest state replaces the
// earlier ones; a notification wins over a refresh, because delivering it
// renders the stored state too. cur keeps its ID, attempts and backoff; the
// result is as urgent as the more urgent of the two and as old as the older.
func supersede(cur, in Entry) Entry {
	out := cur
	switch {
	case in.Kind == KindNotify && cur.Kind == KindRefresh,
		in.Kind == cur.Kind && !in.Notification.ReceivedAt.Before(cur.Notification.ReceivedAt):
		out.Kind = in.Kind
		out.Notification = in.Notification
	}
	out.Priority = min(cur.Priority, in.Priority)
	out.Retries = max(cur.Retries, in.Retries)
	out.Refreshed = cur.Refreshed || in.Refreshed || cur.Kind != in.Kind
	if len(in.Notes) > 0 {
		notes := append(append([]string(nil), cur.Notes...), in.Notes...)
		out.Notes = notes[max(0, len(notes)-maxNotes):]
	}
	if !in.FirstAt.IsZero() && (out.FirstAt.IsZero() || in.FirstAt.Before(out.FirstAt)) {
		out.FirstAt = in.FirstAt
	}
	return out
}

// idKey is the database key of an entry: its ID, big-endian, so that
// bbolt's byte order is ID order.
func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func encodeEntry(e Entry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode outbox entry: %w", err)
	}
	return b, nil
}

// decodeEntry decodes the entry stored under k.
func decodeEntry(k, v []byte) (Entry, error) {
	if len(k) != 8 {
		return Entry{}, fmt.Errorf("outbox entry key %x is not 8 bytes", k)
	}
	var e Entry
	if err := json.Unmarshal(v, &e); err != nil {
		return Entry{}, fmt.Errorf("decode outbox entry %d: %w", binary.BigEndian.Uint64(k), err)
	}
	if err := e.check(); err != nil {
		return Entry{}, fmt.Errorf("decode outbox entry %d: %w", binary.BigEndian.Uint64(k), err)
	}
	e.ID = binary.BigEndian.Uint64(k)
	return e, nil
}

// check reports what makes a decoded entry impossible to deliver.
func (e Entry) check() error {
	if e.Notification.Key.Channel == "" {
		return errors.New("no channel")
	}
	if e.Kind == KindNotify && (e.Notification.Message == nil || e.Notification.Message.Data == nil) {
		return errors.New("a notification without its message")
	}
	return nil
}

// DeadLetter is an entry that cannot be delivered, kept for an operator to
// inspect, retry or drop.
type DeadLetter struct {
	// ID is the dead-lettered entry's ID.
	ID    uint64    `json:"-"`
	Entry Entry     `json:"entry"`
	Cause string    `json:"cause"`
	At    time.Time `json:"at"`
}

func encodeDeadLetter(d DeadLetter) ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode dead letter: %w", err)
	}
	return b, nil
}

func decodeDeadLetter(k, v []byte) (DeadLetter, error) {
	if len(k) != 8 {
		return DeadLetter{}, fmt.Errorf("dead letter key %x is not 8 bytes", k)
	}
	var d DeadLetter
	if err := json.Unmarshal(v, &d); err != nil {
		return DeadLetter{}, fmt.Errorf("decode dead letter %d: %w", binary.BigEndian.Uint64(k), err)
	}
	if err := d.Entry.check(); err != nil {
		return DeadLetter{}, fmt.Errorf("decode dead letter %d: %w", binary.BigEndian.Uint64(k), err)
	}
	d.ID = binary.BigEndian.Uint64(k)
	d.Entry.ID = d.ID
	return d, nil
}
