// Package redislimit keeps in Redis the Slack rate limits that several
// amslack replicas share (slackapi.SharedLimits): a token bucket per
// scope and the pauses that Slack's 429s impose.
package redislimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/slackapi"
)

// Limits are slackapi.SharedLimits in Redis.
//
// Under its prefix it keeps:
//
//	limit:<Scope.String()>   the scope's bucket: its theoretical arrival time, µs of Redis's clock
//	pause:<Scope.String()>   present while a 429's Retry-After holds; its TTL is the time left
//
// A bucket is kept by the generic cell rate algorithm (GCRA,
// https://en.wikipedia.org/wiki/Generic_cell_rate_algorithm): one number,
// the time at which the bucket would be full again. Each call of a Lua
// script reads it, decides and moves it on in one step, with the time taken
// from Redis, so that the replicas' clocks do not matter. Both kinds of key
// expire when they no longer hold anything: a full bucket and an empty one
// are the same.
type Limits struct {
	c      *redis.Client
	prefix string
}

var _ slackapi.SharedLimits = (*Limits)(nil)

// New returns Limits kept in c under keys starting with prefix, such as
// "amslack:". Replicas that share Slack's limits use the same prefix.
func New(c *redis.Client, prefix string) *Limits {
	return &Limits{c: c, prefix: prefix}
}

func (l *Limits) limitKey(s slackapi.Scope) string { return l.prefix + "limit:" + s.String() }
func (l *Limits) pauseKey(s slackapi.Scope) string { return l.prefix + "pause:" + s.String() }

// allowScript takes a token from the bucket at KEYS[1], one every ARGV[1]
// µs with a burst of ARGV[2], and returns 0; or, when the bucket is empty,
// takes nothing and returns the µs until it holds a token. The bucket's
// value is its theoretical arrival time (tat): the time at which it is
// full again. A call may go when at most burst-1 intervals lie between now
// and tat.
var allowScript = redis.NewScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then
	tat = now
end
local wait = tat - (burst - 1) * interval - now
if wait > 0 then
	return wait
end
tat = tat + interval
redis.call("SET", KEYS[1], string.format("%.0f", tat), "PX", math.max(1, math.ceil((tat - now) / 1000)))
return 0
`)

// pauseScript sets KEYS[1] to expire in ARGV[1] ms unless it expires later
// already.
var pauseScript = redis.NewScript(`
local ms = tonumber(ARGV[1])
if redis.call("PTTL", KEYS[1]) < ms then
	redis.call("SET", KEYS[1], "1", "PX", ms)
end
return 0
`)

// errZeroScope is the error for the zero Scope, which limits nothing.
var errZeroScope = errors.New("no scope")

// Allow implements slackapi.SharedLimits.
func (l *Limits) Allow(ctx context.Context, scope slackapi.Scope, perSecond float64, burst int) (time.Duration, error) {
	if scope == (slackapi.Scope{}) {
		return 0, fmt.Errorf("allow: %w", errZeroScope)
	}
	if !(perSecond > 0) || math.IsInf(perSecond, 1) {
		return 0, fmt.Errorf("allow %s: rate %v per second is not a positive number", scope, perSecond)
	}
	// The interval rounds up to whole µs, so the rate never rounds up.
	interval := max(1, math.Ceil(1e6/perSecond))
	wait, err := allowScript.Run(ctx, l.c, []string{l.limitKey(scope)}, interval, max(1, burst)).Int64()
	if err != nil {
		return 0, fmt.Errorf("allow %s: %w", scope, err)
	}
	return time.Duration(wait) * time.Microsecond, nil
}

// Pause implements slackapi.SharedLimits.
func (l *Limits) Pause(ctx context.Context, scope slackapi.Scope, d time.Duration) error {
	if scope == (slackapi.Scope{}) {
		return fmt.Errorf("pause: %w", errZeroScope)
	}
	if d <= 0 {
		return nil
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if err := pauseScript.Run(ctx, l.c, []string{l.pauseKey(scope)}, int64(ms)).Err(); err != nil {
		return fmt.Errorf("pause %s: %w", scope, err)
	}
	return nil
}

// Paused implements slackapi.SharedLimits.
func (l *Limits) Paused(ctx context.Context, scope slackapi.Scope) (time.Duration, error) {
	if scope == (slackapi.Scope{}) {
		return 0, fmt.Errorf("paused: %w", errZeroScope)
	}
	d, err := l.c.PTTL(ctx, l.pauseKey(scope)).Result()
	if err != nil {
		return 0, fmt.Errorf("paused %s: %w", scope, err)
	}
	// PTTL answers -2 for a missing key and -1 for one without a TTL,
	// which Pause never writes.
	return max(0, d), nil
}
