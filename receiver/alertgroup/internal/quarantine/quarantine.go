// Package quarantine owns what the alert group stores share about records
// they cannot decode: the error that carries such a record out of the read
// that found it, and the log line and counter for each record moved aside.
package quarantine

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

// Observer logs and counts what a store sets aside.
type Observer struct {
	logger      *slog.Logger
	quarantined prometheus.Counter
}

// NewObserver returns an Observer configured by opts.
func NewObserver(opts []Option) *Observer {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return &Observer{
		logger: o.logger,
		quarantined: promauto.With(o.reg).NewCounter(prometheus.CounterOpts{
			Namespace: "amslack", Subsystem: "store", Name: "quarantined_total",
			Help: "Alert group records that could not be decoded and were moved aside: to the bbolt bucket store.quarantine, or to the Redis key <key_prefix>quarantine:<group>.",
		}),
	}
}

// Undecodable is a stored group record that cannot be decoded, copied out
// of the transaction or reply that read it.
type Undecodable struct {
	Key, Value []byte
	Err        error
}

// NewUndecodable returns the Undecodable record v, stored under k, that
// failed to decode with err. It keeps copies of k and v.
func NewUndecodable(k, v []byte, err error) *Undecodable {
	return &Undecodable{Key: slices.Clone(k), Value: slices.Clone(v), Err: err}
}

func (u *Undecodable) Error() string { return fmt.Sprintf("group record %q: %v", u.Key, u.Err) }

func (u *Undecodable) Unwrap() error { return u.Err }

// Quarantined logs and counts a record that was moved aside.
func (o *Observer) Quarantined(bad *Undecodable) {
	o.quarantined.Inc()
	o.logger.Error("Quarantined an alert group record that cannot be decoded; the group starts afresh with its next notification",
		"key", string(bad.Key), "err", bad.Err)
}
