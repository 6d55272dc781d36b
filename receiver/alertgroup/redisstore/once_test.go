package redisstore

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
)

func TestOnce(t *testing.T) {
	c := storetest.RedisClient(t)
	var prefix string
	storetest.RunOnce(t, func(t *testing.T) alertgroup.Store {
		prefix = storetest.RedisPrefix(t, c)
		return New(c, prefix)
	}, func(t *testing.T, _ alertgroup.Store) alertgroup.Store {
		// Another replica: its own connection, the same prefix.
		c2 := redis.NewClient(&redis.Options{Addr: storetest.RedisAddr})
		t.Cleanup(func() { c2.Close() })
		return New(c2, prefix)
	})
}
