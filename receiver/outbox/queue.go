package outbox

import "container/heap"

// item is an entry in the in-memory index.
type item struct {
	Entry
	// h is the heap holding the item, nil while it is in none: while it is
	// in flight, waits behind its key's entry in flight, or is being
	// rewritten.
	h *itemHeap
	// i is the item's index in h.
	i int
}

// itemHeap is a container/heap of items ordered by less.
type itemHeap struct {
	items []*item
	less  func(a, b *item) bool
}

func (h *itemHeap) Len() int           { return len(h.items) }
func (h *itemHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }

func (h *itemHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].i = i
	h.items[j].i = j
}

func (h *itemHeap) Push(x any) {
	it := x.(*item)
	it.h, it.i = h, len(h.items)
	h.items = append(h.items, it)
}

func (h *itemHeap) Pop() any {
	n := len(h.items) - 1
	it := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	it.h, it.i = nil, -1
	return it
}

func (h *itemHeap) peek() *item { return h.items[0] }

// byPriority orders ready entries: lower Priority first, then older ID.
func byPriority(a, b *item) bool {
	if a.Priority != b.Priority {
		return a.Priority < b.Priority
	}
	return a.ID < b.ID
}

// byNextAttempt orders entries that wait for their next attempt.
func byNextAttempt(a, b *item) bool {
	if !a.NextAttempt.Equal(b.NextAttempt) {
		return a.NextAttempt.Before(b.NextAttempt)
	}
	return a.ID < b.ID
}

// queue is one channel's part of the index.
type queue struct {
	ready   itemHeap // claimable now
	waiting itemHeap // claimable from their NextAttempt on
	// entries counts the channel's entries, in flight or not.
	entries int
	// inflight counts the channel's entries in flight.
	inflight int
}

func newQueue() *queue {
	return &queue{
		ready:   itemHeap{less: byPriority},
		waiting: itemHeap{less: byNextAttempt},
	}
}

// push makes it claimable.
func (q *queue) push(it *item) {
	if it.NextAttempt.IsZero() {
		heap.Push(&q.ready, it)
	} else {
		heap.Push(&q.waiting, it)
	}
}

// remove takes it out of its heap, if it is in one.
func remove(it *item) {
	if it.h != nil {
		heap.Remove(it.h, it.i)
	}
}
