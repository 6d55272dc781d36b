package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/cmd/internal/config"
	"github.com/amslack/amslack/receiver/store"
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
func (a *App) openStore(cfg *config.Config, s *secrets) (store.Store, error) {
	r := cfg.Store.Redis
	if r == nil {
		st, err := store.OpenBolt(a.db)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	client := redis.NewClient(&redis.Options{
		Addr:     r.Address,
		Username: r.Username,
		Password: s.redisPassword,
		DB:       r.DB,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("store.redis: cannot reach %s: %w", r.Address, err)
	}
	a.closers = append(a.closers, client.Close)
	a.logger.Info("Alert group state is shared in Redis", "address", r.Address, "key_prefix", r.KeyPrefix)
	return store.NewRedis(client, r.KeyPrefix), nil
}
