package outbox

import (
	"context"
	"errors"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Queue is the outbox as the webhook receiver, the sender and the
// dead-letter API use it. Outbox keeps it in one process's bbolt database;
// redisoutbox keeps it in Redis, shared by replicas. The methods mean what
// Outbox's documentation says; outboxtest checks both against it.
type Queue interface {
	Enqueue(ctx context.Context, n alertgroup.Notification) error
	Refresh(ctx context.Context, key alertgroup.Key, route string, notes ...string) error
	Claim(channel string, now time.Time) (e Entry, ok bool, next time.Time)
	Done(ctx context.Context, e Entry) error
	Retry(ctx context.Context, e Entry, at time.Time, cause error) error
	DeadLetter(ctx context.Context, e Entry, cause error) error
	Channels() []string
	Wake() <-chan struct{}
	DeadLetterPage(ctx context.Context, after uint64, limit int) ([]DeadLetter, error)
	DeadLetters(ctx context.Context) ([]DeadLetter, error)
	RetryDead(ctx context.Context, id uint64) error
	DropDead(ctx context.Context, id uint64) error
	PruneDead(ctx context.Context, before time.Time) (int, error)
}

var _ Queue = (*Outbox)(nil)

// Leaser is implemented by a Queue that replicas share. A replica delivers a
// channel's entries only while it holds the channel's lease; Claim returns
// nothing for a channel whose lease this process does not hold.
type Leaser interface {
	// Lease takes the lease on delivering channel's entries if no replica
	// holds it (ok false if another does). Taking a lease requeues the
	// entries left in flight under an older lease of the channel (a
	// takeover, counted). The lease is renewed in the background every
	// TTL/3 until Release, or until it is lost.
	Lease(ctx context.Context, channel string) (l Lease, ok bool, err error)
}

// Lease is one replica's right to deliver one channel's entries.
type Lease interface {
	// Lost is closed when the lease is lost: a renewal failed for longer
	// than the TTL allows, or the lease record holds another token.
	Lost() <-chan struct{}
	// Release gives the lease up (only if still held: compare-and-delete)
	// and stops renewing.
	Release(ctx context.Context) error
}

// ErrLeaseLost is returned by Done, Retry and DeadLetter of a shared queue
// for an entry claimed under a lease that its replica no longer holds: the
// replica that took the channel over delivers the entry again, so the
// call changes nothing.
var ErrLeaseLost = errors.New("outbox lease lost: another replica took over the channel")

// Supersede returns cur with the newer of cur's and in's deliveries, for two
// entries of one key that must become one: the merge that coalescing and
// Retry do, which every Queue shares. cur keeps its ID, attempts and
// backoff; the newest notification wins, a notification wins over a
// refresh, and the result is as urgent as the more urgent of the two and
// as old as the older.
func Supersede(cur, in Entry) Entry { return supersede(cur, in) }

// EncodeEntry returns the stored form of e, without its ID.
func EncodeEntry(e Entry) ([]byte, error) { return encodeEntry(e) }

// DecodeEntry decodes an entry stored by EncodeEntry under id. It fails for
// an entry that cannot be delivered: no channel, or a notification without
// its message.
func DecodeEntry(id uint64, v []byte) (Entry, error) { return decodeEntry(idKey(id), v) }

// EncodeDeadLetter returns the stored form of d, without its ID.
func EncodeDeadLetter(d DeadLetter) ([]byte, error) { return encodeDeadLetter(d) }

// DecodeDeadLetter decodes a dead letter stored by EncodeDeadLetter under id.
func DecodeDeadLetter(id uint64, v []byte) (DeadLetter, error) {
	return decodeDeadLetter(idKey(id), v)
}

// ErrorText is the LastError or Cause recorded for err: its text, or
// nothing for nil.
func ErrorText(err error) string { return errorText(err) }
