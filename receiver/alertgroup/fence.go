package alertgroup

import (
	"context"
	"errors"
)

// Fence guards the store writes that a replica makes on behalf of a lease:
// a store that replicas share makes the write only while the record named
// Key still holds Token, and refuses it with ErrFenced otherwise. A replica
// that stalled past its lease (a long GC pause, a network partition) so
// cannot overwrite what the replica that took over since has written. The
// token grows with every lease granted, so a stale holder never matches.
//
// The zero Fence guards nothing. A store that one process owns (boltstore)
// ignores fences: there is no other replica to take over.
type Fence struct {
	// Key is the store's key of the lease record.
	Key string
	// Token is the value the lease record holds while the lease is the
	// writer's.
	Token string
}

// ErrFenced is returned for a write whose Fence no longer holds: the
// lease passed to another replica, which redoes the work.
var ErrFenced = errors.New("lease lost: another replica took over this work")

type fenceKey struct{}

// WithFence returns ctx carrying f, for the store writes made with it.
func WithFence(ctx context.Context, f Fence) context.Context {
	if f == (Fence{}) {
		return ctx
	}
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceOf returns the Fence that ctx carries, if any.
func FenceOf(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}
