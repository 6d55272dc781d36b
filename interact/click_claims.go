package interact

import (
	"context"
	"time"
)

// clickClaimTimeout bounds the store call that claims a click across
// replicas: it runs before the 3 s in which Slack wants its answer.
const clickClaimTimeout = 500 * time.Millisecond

// clickClaimKeep is how long a click's claim in the store lasts. It
// covers the copies of one intent that reach two replicas (a double click,
// a retried request), which come within seconds; each replica's own cache
// keeps the full de-duplication TTL. An undo reopens the clicks it undoes
// in the cache of the replica that performed it, and no store can list a
// message's claims by prefix: kept short, a claim holds back an undone
// click on another replica for at most this long.
const clickClaimKeep = time.Minute

// clickClaim names the store's claim on a click of dedupKey k.
func clickClaim(k string) string { return "click:" + k }

// claimedElsewhere reports whether another replica (or this one, before a
// restart) took the click of dedupKey k within clickClaimKeep, and claims
// it otherwise. Replicas behind one load balancer each see some of a
// user's clicks: a double click can land on two of them, and each one's
// own cache would let its half through. Without a store that claims, or
// when the store fails, the click goes on: the cache of this replica still
// holds back what it saw, and a click that cannot be checked is better
// performed than lost.
func (h *Handler) claimedElsewhere(k string) bool {
	if h.claims == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), clickClaimTimeout)
	defer cancel()
	first, err := h.claims.Once(ctx, clickClaim(k), min(clickClaimKeep, h.dedupTTL))
	if err != nil {
		h.logger.Warn("Cannot claim a click in the store; only this replica's de-duplication applies", "err", err)
		return false
	}
	return !first
}

// unclaim drops the store's claims on the clicks of dedupKeys ks, so that
// they may be made again on any replica.
func (h *Handler) unclaim(ks ...string) {
	if h.claims == nil || len(ks) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*clickClaimTimeout)
	defer cancel()
	for _, k := range ks {
		if err := h.claims.Forget(ctx, clickClaim(k)); err != nil {
			h.logger.Warn("Cannot drop a click's claim in the store; other replicas take the same click for a duplicate until it expires", "err", err)
			return
		}
	}
}
