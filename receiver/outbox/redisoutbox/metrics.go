package redisoutbox

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/outbox"
)

// metrics are the outbox's Prometheus metrics: those every outbox.Queue
// shares, and its own. Those of its own that mean what the bbolt outbox's
// do have their names too, so that one dashboard serves both.
type metrics struct {
	*outbox.Metrics
	quarantined *prometheus.CounterVec
	redisErrors *prometheus.CounterVec
	leasesHeld  prometheus.Gauge
	leasesLost  prometheus.Counter
	takeovers   prometheus.Counter
	// leaseTakeovers counts the channels taken from a holder that never
	// released them.
	leaseTakeovers prometheus.Counter
}

// Kinds of quarantined records, the values of the bucket label: the names
// of the bbolt outbox's buckets that hold the same records.
const (
	quarantinedPending = "outbox.pending"
	quarantinedDead    = "outbox.dead"
)

// ops are the values of the op label of amslack_outbox_redis_errors_total.
var ops = []string{
	"enqueue", "claim", "done", "retry", "dead_letter", "quarantine", "wait",
	"lease", "renew", "release", "channels",
	"dead_letters", "retry_dead", "drop_dead", "prune_dead", "scrape",
}

func newMetrics(reg prometheus.Registerer, o *Outbox) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		Metrics: outbox.NewMetrics(reg, o.logger),
		quarantined: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "quarantined_total",
			Help:      "Outbox records that could not be decoded and were moved to the outbox's quarantine, by the bucket (the bbolt outbox's name for the kind of record) they were in.",
		}, []string{"bucket"}),
		redisErrors: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "redis_errors_total",
			Help:      "Calls to Redis by the outbox that failed, by operation.",
		}, []string{"op"}),
		leasesHeld: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "leases_held",
			Help:      "Channels whose entries this replica delivers: the channel leases it holds.",
		}),
		leasesLost: f.NewCounter(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "leases_lost_total",
			Help:      "Channel leases this replica lost before releasing them: renewals failed for the lease TTL, or another replica took the lease over.",
		}),
		takeovers: f.NewCounter(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "takeovers_total",
			Help:      "Entries left in flight under an expired channel lease, by a replica that died or stalled, that this replica put back in the queue when it took the lease.",
		}),
		leaseTakeovers: f.NewCounter(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "lease_takeovers_total",
			Help:      "Channel leases this replica took after their holder, which died or stalled, left them to run out instead of releasing them.",
		}),
	}
	for _, b := range []string{quarantinedPending, quarantinedDead} {
		m.quarantined.WithLabelValues(b)
	}
	for _, op := range ops {
		m.redisErrors.WithLabelValues(op)
	}
	if reg != nil {
		reg.MustRegister(&depthCollector{o: o})
	}
	return m
}

var (
	pendingDesc = prometheus.NewDesc("amslack_outbox_pending",
		"Entries waiting for delivery, in flight included, per channel.", []string{"channel"}, nil)
	deadLettersDesc = prometheus.NewDesc("amslack_outbox_dead_letters",
		"Entries in the dead-letter list.", nil, nil)
	oldestDesc = prometheus.NewDesc("amslack_outbox_oldest_pending_seconds",
		"Age of the oldest entry waiting for delivery, from the first notification it carries; 0 if none.", nil, nil)
)

// depthCollector reads the outbox's depth from Redis at each scrape, as
// every replica sees it: one round trip, whose size grows with the
// channels that have entries. A scrape while Redis fails has none of its
// metrics.
type depthCollector struct{ o *Outbox }

// Describe implements prometheus.Collector.
func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- deadLettersDesc
	ch <- oldestDesc
}

// Collect implements prometheus.Collector.
func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	o := c.o
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var (
		depth *redis.MapStringStringCmd
		dead  *redis.IntCmd
		age   *redis.ZSliceCmd
	)
	_, err := o.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		depth = p.HGetAll(ctx, o.key("depth"))
		dead = p.ZCard(ctx, o.key("dead"))
		age = p.ZRangeWithScores(ctx, o.key("age"), 0, 0)
		return nil
	})
	if err != nil {
		o.metrics.redisErrors.WithLabelValues("scrape").Inc()
		o.logger.Debug("Cannot read the outbox's depth", "err", err)
		return
	}
	for channel, v := range depth.Val() {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, n, channel)
		}
	}
	ch <- prometheus.MustNewConstMetric(deadLettersDesc, prometheus.GaugeValue, float64(dead.Val()))
	oldest := 0.0
	if zs := age.Val(); len(zs) > 0 {
		oldest = max(0, o.now().Sub(time.UnixMilli(int64(zs[0].Score))).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, oldest)
}
