package outbox

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Reasons a dead letter is dropped without an operator, the values of the
// reason label of amslack_outbox_dead_letters_dropped_total.
const (
	DroppedLimit     = "limit"
	DroppedRetention = "retention"
)

// Metrics are the metrics that every Queue keeps alike, under the same
// names, so that one dashboard serves the outbox in bbolt and the one in
// Redis, and the log lines that go with them.
type Metrics struct {
	logger       *slog.Logger
	enqueued     *prometheus.CounterVec
	coalesced    *prometheus.CounterVec
	deadLettered prometheus.Counter
	deadDropped  *prometheus.CounterVec
}

// NewMetrics returns the shared metrics, registered with reg unless it is
// nil, each series at zero. logger gets a line for each dead letter and
// for dead letters dropped.
func NewMetrics(reg prometheus.Registerer, logger *slog.Logger) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		logger: logger,
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
	}
	for _, k := range kindNames {
		m.enqueued.WithLabelValues(k)
		m.coalesced.WithLabelValues(k)
	}
	for _, r := range []string{DroppedLimit, DroppedRetention} {
		m.deadDropped.WithLabelValues(r)
	}
	return m
}

// Enqueued counts an entry of kind that Enqueue or Refresh added, and
// whether it coalesced into its key's pending entry.
func (m *Metrics) Enqueued(kind Kind, coalesced bool) {
	m.enqueued.WithLabelValues(kind.String()).Inc()
	if coalesced {
		m.Coalesced(kind)
	}
}

// Coalesced counts an entry of kind that merged into its key's pending
// entry instead of adding one.
func (m *Metrics) Coalesced(kind Kind) {
	m.coalesced.WithLabelValues(kind.String()).Inc()
}

// DeadLettered counts and logs d, just added to the dead-letter list, and
// the dead letters dropped to make room for it.
func (m *Metrics) DeadLettered(d DeadLetter, dropped []uint64) {
	m.deadLettered.Inc()
	m.DroppedDead(DroppedLimit, dropped)
	e, k := d.Entry, d.Entry.Notification.Key
	m.logger.Warn("notification dead-lettered",
		"id", d.ID, "kind", e.Kind, "receiver", k.Receiver, "group_key", k.GroupKey, "channel", k.Channel,
		"attempts", e.Attempts, "err", d.Cause)
}

// DroppedDead counts and logs the dead letters ids that were dropped for
// reason, DroppedLimit or DroppedRetention.
func (m *Metrics) DroppedDead(reason string, ids []uint64) {
	if len(ids) == 0 {
		return
	}
	m.deadDropped.WithLabelValues(reason).Add(float64(len(ids)))
	m.logger.Warn("dropped dead letters", "reason", reason, "count", len(ids), "ids", ids)
}

// metrics are the metrics of the outbox in bbolt: the shared ones and its
// own.
type metrics struct {
	*Metrics
	pending      *prometheus.GaugeVec
	deadLetters  prometheus.Gauge
	commitErrors prometheus.Counter
	quarantined  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, logger *slog.Logger, oldestPendingSeconds func() float64) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		Metrics: NewMetrics(reg, logger),
		// The channel label takes the channels of the configured routes
		// only, and a channel's series goes when its last entry does.
		pending: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "pending",
			Help:      "Entries waiting for delivery, in flight included, per channel.",
		}, []string{"channel"}),
		deadLetters: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "amslack",
			Subsystem: "outbox",
			Name:      "dead_letters",
			Help:      "Entries in the dead-letter list.",
		}),
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
	for _, b := range [][]byte{pendingBucket, deadBucket} {
		m.quarantined.WithLabelValues(string(b))
	}
	return m
}
