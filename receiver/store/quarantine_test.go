package store

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/receiver"
)

// testQuarantine writes records that cannot be decoded next to good groups
// with corrupt, as a disk fault or a downgrade might leave them: every
// method serves the good groups, the bad records are moved aside and
// counted, and a notification of a group whose record was bad starts it
// afresh.
func testQuarantine(t *testing.T, open func(t *testing.T, reg prometheus.Registerer) Store, corrupt func(t *testing.T, s Store, k receiver.Key, v string), quarantined func(t *testing.T, s Store) int) {
	reg := prometheus.NewRegistry()
	s := open(t, reg)
	good := []receiver.Key{key("good-1"), key("good-2")}
	for _, k := range good {
		put(t, s, k, func(g *Group) { g.Status, g.TS = StatusFiring, k.GroupKey })
	}
	bad := map[string]receiver.Key{
		"listed": key("bad-listed"), "got": key("bad-got"), "updated": key("bad-updated"), "pruned": key("bad-pruned"),
	}
	for _, k := range bad {
		corrupt(t, s, k, `{"key":`)
	}

	// Get and Update of a bad group see none.
	if _, found, err := s.Get(t.Context(), bad["got"]); err != nil || found {
		t.Errorf("Get of a bad record = found %v, err %v; want not found", found, err)
	}
	put(t, s, bad["updated"], func(g *Group) { g.Status = StatusFiring })
	if _, err := s.Prune(t.Context(), t0); err != nil {
		t.Errorf("Prune with a bad record: %v", err)
	}
	gs, err := s.List(t.Context())
	if err != nil {
		t.Fatalf("List with a bad record: %v", err)
	}
	var got []receiver.Key
	for _, g := range gs {
		got = append(got, g.Key)
	}
	if diff := cmp.Diff(got, sortedKeys(append(good, bad["updated"]))); diff != "" {
		t.Errorf("List (-got +want):\n%s", diff)
	}
	if n := quarantined(t, s); n != len(bad) {
		t.Errorf("%d records quarantined, want %d", n, len(bad))
	}
	want := `
# HELP amslack_store_quarantined_total Alert group records that could not be decoded and were moved aside: to the bbolt bucket store.quarantine, or to the Redis key <key_prefix>quarantine:<group>.
# TYPE amslack_store_quarantined_total counter
amslack_store_quarantined_total 4
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "amslack_store_quarantined_total"); err != nil {
		t.Error(err)
	}
}

func TestBoltQuarantine(t *testing.T) {
	testQuarantine(t,
		func(t *testing.T, reg prometheus.Registerer) Store {
			db := openBoltDB(t, filepath.Join(t.TempDir(), "amslack.db"))
			t.Cleanup(func() { db.Close() })
			s, err := OpenBolt(db, WithRegisterer(reg))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		func(t *testing.T, s Store, k receiver.Key, v string) {
			err := s.(*Bolt).db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket(groupsBucket).Put([]byte(k.String()), []byte(v))
			})
			if err != nil {
				t.Fatal(err)
			}
		},
		func(t *testing.T, s Store) int {
			n := 0
			err := s.(*Bolt).db.View(func(tx *bbolt.Tx) error {
				n = tx.Bucket(quarantineBucket).Stats().KeyN
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		})
}

func TestRedisQuarantine(t *testing.T) {
	c := redisClient(t)
	testQuarantine(t,
		func(t *testing.T, reg prometheus.Registerer) Store {
			return NewRedis(c, redisPrefix(t, c), WithRegisterer(reg))
		},
		func(t *testing.T, s Store, k receiver.Key, v string) {
			r := s.(*Redis)
			if err := c.Set(t.Context(), r.groupKey(k.String()), v, 0).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.SAdd(t.Context(), r.groupsKey(), k.String()).Err(); err != nil {
				t.Fatal(err)
			}
			// In the candidates of Prune too, as a group resolved long
			// ago.
			if err := c.ZAdd(t.Context(), r.resolvedKey(), redis.Z{Score: float64(t0.Add(-time.Hour).UnixMilli()), Member: k.String()}).Err(); err != nil {
				t.Fatal(err)
			}
		},
		func(t *testing.T, s Store) int {
			r := s.(*Redis)
			ks, err := c.Keys(t.Context(), r.prefix+"quarantine:*").Result()
			if err != nil {
				t.Fatal(err)
			}
			return len(ks)
		})
}
