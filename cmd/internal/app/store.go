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
)

// replicaID names this process in the leases replicas take on groups.
func replicaID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())
}

// openStore returns the group store: embedded in the process's database, or
// in Redis when several replicas share the state of alert groups. The
// outbox stays in each replica's --storage.path either way, so that what a
// replica accepted survives its own crash.
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
