package redisstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
)

func TestStore(t *testing.T) {
	c := storetest.RedisClient(t)
	storetest.Run(t, func(t *testing.T) alertgroup.Store {
		return New(c, storetest.RedisPrefix(t, c))
	})
}

// TestSharedByReplicas checks that two Redis stores with one prefix, as
// two replicas have, see each other's writes.
func TestSharedByReplicas(t *testing.T) {
	c := storetest.RedisClient(t)
	prefix := storetest.RedisPrefix(t, c)
	c2 := redis.NewClient(&redis.Options{Addr: storetest.RedisAddr})
	defer c2.Close()
	a, b := New(c, prefix), New(c2, prefix)
	k := storetest.Key("Shared")
	storetest.Put(t, a, k, func(g *alertgroup.Group) { g.TS = "1.0" })
	g, found, err := b.ByMessage(t.Context(), k.Channel, "1.0")
	if err != nil || !found || g.Key != k {
		t.Fatalf("other replica's ByMessage = %v, %v, %v", g.Key, found, err)
	}
	if err := b.Delete(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := a.Get(t.Context(), k); found {
		t.Error("group deleted by one replica still found by the other")
	}
}

// TestPruneIdleWithoutIndex prunes a group stored before Redis kept an
// index of the groups that are not resolved: in the set of all groups and
// in no index.
func TestPruneIdleWithoutIndex(t *testing.T) {
	c := storetest.RedisClient(t)
	s := New(c, storetest.RedisPrefix(t, c))
	t0 := storetest.Epoch
	cut := t0.Add(7 * 24 * time.Hour)
	for _, g := range []alertgroup.Group{
		{Key: storetest.Key("old"), Status: alertgroup.StatusFiring, NotifiedAt: t0, UpdatedAt: t0},
		{Key: storetest.Key("new"), Status: alertgroup.StatusFiring, NotifiedAt: cut, UpdatedAt: cut},
	} {
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		k := g.Key.String()
		if err := c.Set(t.Context(), s.groupKey(k), b, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.SAdd(t.Context(), s.groupsKey(), k).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Prune(t.Context(), cut)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("Prune = %d, want 1", n)
	}
	if diff := cmp.Diff(storetest.ListKeys(t, s), []alertgroup.Key{storetest.Key("new")}); diff != "" {
		t.Errorf("left after Prune (-got +want):\n%s", diff)
	}
}

func TestQuarantine(t *testing.T) {
	c := storetest.RedisClient(t)
	storetest.RunQuarantine(t,
		func(t *testing.T, reg prometheus.Registerer) alertgroup.Store {
			return New(c, storetest.RedisPrefix(t, c), WithRegisterer(reg))
		},
		func(t *testing.T, s alertgroup.Store, k alertgroup.Key, v string) {
			r := s.(*Store)
			if err := c.Set(t.Context(), r.groupKey(k.String()), v, 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.SAdd(t.Context(), r.groupsKey(), k.String()).Err(); err != nil {
				t.Fatal(err)
			}
			// In the candidates of Prune too, as a group resolved long
			// ago.
			if err := c.ZAdd(t.Context(), r.resolvedKey(), redis.Z{Score: float64(storetest.Epoch.Add(-time.Hour).UnixMilli()), Member: k.String()}).Err(); err != nil {
				t.Fatal(err)
			}
		},
		func(t *testing.T, s alertgroup.Store) int {
			r := s.(*Store)
			ks, err := c.Keys(t.Context(), r.prefix+"quarantine:*").Result()
			if err != nil {
				t.Fatal(err)
			}
			return len(ks)
		})
}
