package redisoutbox

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/outbox"
)

// deadChunk is how many dead letters one round trip reads.
const deadChunk = 500

// DeadLetterPage implements outbox.Queue.
func (o *Outbox) DeadLetterPage(ctx context.Context, after uint64, limit int) ([]outbox.DeadLetter, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("dead letter page limit must be positive, got %d", limit)
	}
	return o.deadLetters(ctx, after, limit)
}

// DeadLetters implements outbox.Queue.
func (o *Outbox) DeadLetters(ctx context.Context) ([]outbox.DeadLetter, error) {
	return o.deadLetters(ctx, 0, 0)
}

// deadLetters returns up to limit dead letters after the ID after, all if
// limit is 0. Records it cannot decode are quarantined and left out.
func (o *Outbox) deadLetters(ctx context.Context, after uint64, limit int) ([]outbox.DeadLetter, error) {
	ds := []outbox.DeadLetter{}
	for after < math.MaxUint64 && (limit == 0 || len(ds) < limit) {
		n := deadChunk
		if limit > 0 {
			n = min(n, limit-len(ds))
		}
		ids, vals, err := o.readDead(ctx, after, n)
		if err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		for i, v := range vals {
			s, ok := v.(string)
			if !ok {
				// Retried or dropped since the IDs were read.
				continue
			}
			d, err := decodeDeadLetter(ids[i], s)
			if err != nil {
				if err := o.quarantineDead(ctx, ids[i], s, err); err != nil {
					o.logger.Error("Cannot quarantine an undecodable dead letter", "err", err)
				}
				continue
			}
			ds = append(ds, d)
		}
		if len(ids) < n {
			break
		}
		if after, err = parseID(ids[len(ids)-1]); err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
	}
	return ds, nil
}

// readDead returns the IDs of up to n dead letters after the ID after, in
// order, and their records: nil for one deleted meanwhile.
func (o *Outbox) readDead(ctx context.Context, after uint64, n int) ([]string, []any, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	ids, err := o.c.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: o.key("dead"), Start: "(" + idString(after), Stop: "+", ByLex: true, Count: int64(n),
	}).Result()
	if err != nil || len(ids) == 0 {
		o.countError("dead_letters", err)
		return nil, nil, err
	}
	vals, err := o.c.HMGet(ctx, o.key("dead:rec"), ids...).Result()
	o.countError("dead_letters", err)
	return ids, vals, err
}

// RetryDead implements outbox.Queue: the dead letter is deleted in the same
// step that enqueues it.
func (o *Outbox) RetryDead(ctx context.Context, id uint64) error {
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	v, err := o.c.HGet(rctx, o.key("dead:rec"), idString(id)).Result()
	cancel()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("dead letter %d: %w", id, outbox.ErrNotFound)
	}
	if err != nil {
		o.countError("retry_dead", err)
		return fmt.Errorf("read dead letter %d: %w", id, err)
	}
	d, err := decodeDeadLetter(idString(id), v)
	if err != nil {
		if qerr := o.quarantineDead(ctx, idString(id), v, err); qerr != nil {
			o.logger.Error("Cannot quarantine an undecodable dead letter", "err", qerr)
		}
		return err
	}
	e := d.Entry
	// As outbox.Outbox.RetryDead: measured from its first notification, a
	// retry would be dead-lettered again on its first temporary failure.
	e.ID, e.Attempts, e.NextAttempt, e.FirstAt = 0, 0, time.Time{}, o.now()
	e.Retries++
	coalesced, err := o.put(ctx, "retry_dead", e, id)
	if err != nil {
		return err
	}
	if coalesced {
		o.metrics.Coalesced(e.Kind)
	}
	return nil
}

// DropDead implements outbox.Queue.
func (o *Outbox) DropDead(ctx context.Context, id uint64) error {
	gone, err := o.dropDead(ctx, "drop_dead", []string{idString(id)})
	if err != nil {
		return fmt.Errorf("drop dead letter %d: %w", id, err)
	}
	if len(gone) == 0 {
		return fmt.Errorf("dead letter %d: %w", id, outbox.ErrNotFound)
	}
	return nil
}

// dropDead deletes the dead letters ids, and returns the IDs of those
// there were.
func (o *Outbox) dropDead(ctx context.Context, op string, ids []string) ([]uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	args := make([]any, 0, 1+len(ids))
	args = append(args, o.prefix)
	for _, id := range ids {
		args = append(args, id)
	}
	v, err := dropDeadScript.Run(ctx, o.c, nil, args...).Slice()
	o.countError(op, err)
	if err != nil {
		return nil, err
	}
	return reply{"", v}.ids(1), nil
}

// PruneDead implements outbox.Queue.
func (o *Outbox) PruneDead(ctx context.Context, before time.Time) (int, error) {
	// A time before before has a Unix µs at most before's.
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	ids, err := o.c.ZRangeArgs(rctx, redis.ZRangeArgs{
		Key: o.key("dead:at"), Start: "-inf", Stop: before.UnixMicro(), ByScore: true,
	}).Result()
	cancel()
	if err != nil {
		o.countError("prune_dead", err)
		return 0, fmt.Errorf("prune dead letters: %w", err)
	}
	var pruned []uint64
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), deadChunk)]
		ids = ids[len(chunk):]
		rctx, cancel := context.WithTimeout(ctx, o.timeout)
		vals, err := o.c.HMGet(rctx, o.key("dead:rec"), chunk...).Result()
		cancel()
		if err != nil {
			o.countError("prune_dead", err)
			return len(pruned), fmt.Errorf("prune dead letters: %w", err)
		}
		var doomed []string
		for i, v := range vals {
			s, ok := v.(string)
			if !ok {
				continue
			}
			d, err := decodeDeadLetter(chunk[i], s)
			if err != nil {
				if err := o.quarantineDead(ctx, chunk[i], s, err); err != nil {
					return len(pruned), fmt.Errorf("prune dead letters: %w", err)
				}
				continue
			}
			if d.At.Before(before) {
				doomed = append(doomed, chunk[i])
			}
		}
		if len(doomed) == 0 {
			continue
		}
		gone, err := o.dropDead(ctx, "prune_dead", doomed)
		o.metrics.DroppedDead(outbox.DroppedRetention, gone)
		pruned = append(pruned, gone...)
		if err != nil {
			return len(pruned), fmt.Errorf("prune dead letters: %w", err)
		}
	}
	return len(pruned), nil
}

// quarantineDead moves the dead letter id, whose data could not be decoded
// (cause), to the quarantine hash, unless it changed since.
func (o *Outbox) quarantineDead(ctx context.Context, id, data string, cause error) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	moved, err := quarantineDeadScript.Run(ctx, o.c, nil, o.prefix, id, data).Int()
	o.countError("quarantine", err)
	if err != nil {
		return fmt.Errorf("quarantine dead letter %s: %w", id, err)
	}
	if moved == 1 {
		o.metrics.quarantined.WithLabelValues(quarantinedDead).Inc()
		o.logger.Error("quarantined an outbox record that cannot be decoded",
			"record", "dead:"+id, "quarantine", o.key("quarantine"), "err", cause)
	}
	return nil
}

// countError counts err, if any, as a failure of op.
func (o *Outbox) countError(op string, err error) {
	if err != nil && !errors.Is(err, redis.Nil) {
		o.metrics.redisErrors.WithLabelValues(op).Inc()
	}
}
