package store

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Option configures a store.
type Option func(*options)

type options struct {
	logger *slog.Logger
	reg    prometheus.Registerer
}

// WithLogger makes the store log what it sets aside to logger.
func WithLogger(logger *slog.Logger) Option { return func(o *options) { o.logger = logger } }

// WithRegisterer registers the store's metrics with reg.
func WithRegisterer(reg prometheus.Registerer) Option { return func(o *options) { o.reg = reg } }

// observer logs and counts what a store sets aside.
type observer struct {
	logger      *slog.Logger
	quarantined prometheus.Counter
}

func newObserver(opts []Option) *observer {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return &observer{
		logger: o.logger,
		quarantined: promauto.With(o.reg).NewCounter(prometheus.CounterOpts{
			Namespace: "amslack", Subsystem: "store", Name: "quarantined_total",
			Help: "Alert group records that could not be decoded and were moved aside: to the bbolt bucket store.quarantine, or to the Redis key <key_prefix>quarantine:<group>.",
		}),
	}
}

// undecodable is a stored group record that cannot be decoded, copied out
// of the transaction or reply that read it.
type undecodable struct {
	key, value []byte
	err        error
}

func newUndecodable(k, v []byte, err error) *undecodable {
	return &undecodable{key: slices.Clone(k), value: slices.Clone(v), err: err}
}

func (u *undecodable) Error() string { return fmt.Sprintf("group record %q: %v", u.key, u.err) }

func (u *undecodable) Unwrap() error { return u.err }

// quarantinedGroup logs and counts a record that was moved aside.
func (o *observer) quarantinedGroup(bad *undecodable) {
	o.quarantined.Inc()
	o.logger.Error("Quarantined an alert group record that cannot be decoded; the group starts afresh with its next notification",
		"key", string(bad.key), "err", bad.err)
}
