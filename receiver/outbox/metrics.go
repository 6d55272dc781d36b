package outbox

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the outbox's Prometheus metrics.
type metrics struct {
	pending      *prometheus.GaugeVec
	enqueued     *prometheus.CounterVec
	coalesced    *prometheus.CounterVec
	deadLetters  prometheus.Gauge
	deadLettered prometheus.Counter
	deadDropped  *prometheus.CounterVec
	commitErrors prometheus.Counter
	quarantined  *prometheus.CounterVec
}

// Reasons a dead letter is dropped without an operator, the values of the
// reason label.
const (
	droppedLimit     = "limit"
	droppedRetention = "retention"
)

func newMetrics(reg prometheus.Registerer, oldestPendingSeconds func() float64) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		// The channel label takes the channels of the configured routes
		// only, and a channel's series goes when its last entry does.
		pending: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "pending",
			Help:      "Entries waiting for delivery, in flight included, per channel.",
		}, []string{"channel"}),
		enqueued: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "enqueued_total",
			Help:      "Notifications (kind notify) and refresh requests (kind refresh) durably enqueued.",
		}, []string{"kind"}),
		coalesced: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "coalesced_total",
			Help:      "Enqueued entries that merged into a pending entry of the same alert group instead of adding one.",
		}, []string{"kind"}),
		deadLetters: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "dead_letters",
			Help:      "Entries in the dead-letter list.",
		}),
		deadLettered: f.NewCounter(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "dead_lettered_total",
			Help:      "Entries moved to the dead-letter list because they can never be delivered.",
		}),
		deadDropped: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "dead_letters_dropped_total",
			Help:      "Dead letters deleted without an operator: the oldest beyond delivery.dead_letter_limit (reason limit), or those older than delivery.dead_letter_retention (reason retention).",
		}, []string{"reason"}),
		quarantined: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "quarantined_total",
			Help:      "Outbox records that could not be decoded and were moved to the outbox.quarantine bucket, by the bucket they were in.",
		}, []string{"bucket"}),
		commitErrors: f.NewCounter(prometheus.CounterOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "commit_errors_total",
			Help:      "Outbox writes that the database failed to commit.",
		}),
	}
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "amslack",
		Subsystem: "outbox",
		Name:      "oldest_pending_seconds",
		Help:      "Age of the oldest entry waiting for delivery, from the first notification it carries; 0 if none.",
	}, oldestPendingSeconds)
	for _, k := range kindNames {
		m.enqueued.WithLabelValues(k)
		m.coalesced.WithLabelValues(k)
	}
	for _, r := range []string{droppedLimit, droppedRetention} {
		m.deadDropped.WithLabelValues(r)
	}
	for _, b := range [][]byte{pendingBucket, deadBucket} {
		m.quarantined.WithLabelValues(string(b))
	}
	return m
}
