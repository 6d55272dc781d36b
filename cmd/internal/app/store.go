package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/cmd/internal/config"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/boltstore"
	"github.com/amslack/amslack/receiver/alertgroup/redisstore"
	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/receiver/outbox/redisoutbox"
	"github.com/amslack/amslack/receiver/slackapi"
	"github.com/amslack/amslack/receiver/slackapi/redislimit"
)

// replicaID names this process in the leases replicas take on groups.
func replicaID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())
}

// openStore returns the group store: embedded in the process's database, or
// in Redis when several replicas share the state of alert groups; then it
// keeps the client in a.redis for the outbox and the rate limits.
func (a *App) openStore(cfg *config.Config, s *secrets) (alertgroup.Store, error) {
	r := cfg.Store.Redis
	if r == nil {
		st, err := boltstore.Open(a.db, a.storeOptions()...)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	client := redis.NewClient(redisOptions(r, s.redisPassword))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("store.redis: cannot reach %s: %w", r.Address, err)
	}
	a.closers = append(a.closers, client.Close)
	a.redis = client
	a.logger.Info("Alert group state is shared in Redis", "address", r.Address, "key_prefix", r.KeyPrefix)
	return redisstore.New(client, r.KeyPrefix, a.storeOptions()...), nil
}

// storeOptions are the store's logger and registry.
func (a *App) storeOptions() []boltstore.Option {
	return []boltstore.Option{boltstore.WithLogger(a.logger.With("component", "store")), boltstore.WithRegisterer(a.reg)}
}

// redisOptions returns the client options for r. Every call is bounded:
// go-redis's defaults (5 s per read or write, 3 retries) let one call to a
// Redis that stopped answering block for over 20 s. Callers' context
// deadlines apply as well, which go-redis does only with
// ContextTimeoutEnabled (https://redis.uptrace.dev/guide/go-redis-debugging.html#timeouts).
func redisOptions(r *config.Redis, password string) *redis.Options {
	timeout := time.Duration(r.Timeout)
	if timeout <= 0 {
		timeout = time.Duration(config.DefaultRedisTimeout)
	}
	return &redis.Options{
		Addr:                  r.Address,
		Username:              r.Username,
		Password:              password,
		DB:                    r.DB,
		DialTimeout:           timeout,
		ReadTimeout:           timeout,
		WriteTimeout:          timeout,
		PoolTimeout:           timeout,
		ContextTimeoutEnabled: true,
		// One retry replaces a pooled connection that the server closed,
		// as after a failover; more would multiply the timeout.
		MaxRetries: 1,
	}
}

// openOutbox opens the outbox: in --storage.path for one replica, or in
// Redis with store.redis, where any replica delivers what any replica
// accepted. It logs what the Redis server can promise for a notification
// answered 200, when that is less than the configuration asks for.
func (a *App) openOutbox(cfg *Config) error {
	opts := outbox.Options{
		Priority:        a.priority(cfg.Delivery.SeverityOrder),
		Logger:          a.logger.With("component", "outbox"),
		Registerer:      a.reg,
		DeadLetterLimit: cfg.Delivery.DeadLetterLimit,
	}
	r := cfg.Store.Redis
	if r == nil {
		o, err := outbox.Open(a.db, opts)
		if err != nil {
			return fmt.Errorf("open outbox: %w", err)
		}
		a.outbox = o
		return nil
	}
	o, err := redisoutbox.New(a.redis, redisoutbox.Options{
		KeyPrefix:        r.KeyPrefix,
		Owner:            a.id,
		LeaseTTL:         time.Duration(r.LeaseTTL),
		MinReplicasToAck: r.MinReplicasToAck,
		Timeout:          time.Duration(r.Timeout),
		Options:          opts,
	})
	if err != nil {
		return fmt.Errorf("open outbox in store.redis: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	warning, err := o.CheckDurability(ctx)
	switch {
	case err != nil:
		a.logger.Warn("Cannot tell what Redis keeps of an accepted notification", "err", err)
	case warning != "":
		a.logger.Warn("store.redis cannot keep what the outbox needs: "+warning, "address", r.Address, "min_replicas_to_ack", r.MinReplicasToAck)
	}
	a.logger.Info("The outbox is shared in Redis", "address", r.Address, "lease_ttl", r.LeaseTTL, "min_replicas_to_ack", r.MinReplicasToAck)
	a.outbox, a.shared = o, o
	return nil
}

// shareLimits makes client's rate limits ones that every replica draws
// from, in Redis, when replicas share store.redis: otherwise each replica
// would spend Slack's whole budget on its own.
func (a *App) shareLimits(cfg *Config, client *slackapi.Client) {
	r := cfg.Store.Redis
	if r == nil {
		return
	}
	client.Limiter().Share(redislimit.New(a.redis, r.KeyPrefix), slackapi.SharedOptions{
		Timeout:    time.Duration(r.Timeout),
		Logger:     a.logger.With("component", "limiter"),
		Registerer: a.reg,
	})
}
