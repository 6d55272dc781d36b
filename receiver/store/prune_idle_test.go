package store

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver"
)

// testPruneIdle checks that Prune deletes the groups that Alertmanager
// stopped notifying without resolving them (send_resolved: false, or a
// route that changed), as it deletes the resolved ones.
func testPruneIdle(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	cut := t0.Add(7 * 24 * time.Hour)
	long, recent := cut.Add(-time.Hour), cut.Add(time.Hour)
	groups := []struct {
		name                  string
		notifiedAt, updatedAt time.Time
		pruned                bool
	}{
		{"firing-notified-long-ago", long, long, true},
		{"firing-notified-just-before", cut.Add(-time.Nanosecond), time.Time{}, true},
		{"firing-notified-at-cut", cut, cut, false},
		{"firing-notified-recently", recent, recent, false},
		{"firing-clicked-recently", long, recent, false},
		{"firing-without-times", time.Time{}, time.Time{}, false},
	}
	var keep []receiver.Key
	for _, g := range groups {
		k := key(g.name)
		put(t, s, k, func(gr *Group) {
			gr.Status = StatusFiring
			gr.TS = g.name
			gr.NotifiedAt, gr.UpdatedAt = g.notifiedAt, g.updatedAt
		})
		if !g.pruned {
			keep = append(keep, k)
		}
	}
	// Notified again: a group leaves the candidates.
	put(t, s, key("firing-renotified"), func(g *Group) { g.Status, g.NotifiedAt = StatusFiring, long })
	put(t, s, key("firing-renotified"), func(g *Group) { g.NotifiedAt = recent })
	keep = append(keep, key("firing-renotified"))

	n, err := s.Prune(t.Context(), cut)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("Prune = %d, want 2", n)
	}
	if diff := cmp.Diff(listKeys(t, s), sortedKeys(keep)); diff != "" {
		t.Errorf("left after Prune (-got +want):\n%s", diff)
	}
	for _, g := range groups {
		if _, found, _ := s.ByMessage(t.Context(), "C0123456789", g.name); found == g.pruned {
			t.Errorf("%s: ByMessage found = %v after Prune", g.name, found)
		}
	}
}

func listKeys(t *testing.T, s Store) []receiver.Key {
	t.Helper()
	gs, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := []receiver.Key{}
	for _, g := range gs {
		out = append(out, g.Key)
	}
	return out
}

func TestBoltPruneIdle(t *testing.T) {
	testPruneIdle(t, func(t *testing.T) Store {
		db := openBoltDB(t, filepath.Join(t.TempDir(), "amslack.db"))
		t.Cleanup(func() { db.Close() })
		s, err := OpenBolt(db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestRedisPruneIdle(t *testing.T) {
	c := redisClient(t)
	testPruneIdle(t, func(t *testing.T) Store {
		return NewRedis(c, redisPrefix(t, c))
	})
}

// TestRedisPruneIdleWithoutIndex prunes a group stored before Redis kept
// an index of the groups that are not resolved: in the set of all groups
// and in no index.
func TestRedisPruneIdleWithoutIndex(t *testing.T) {
	c := redisClient(t)
	s := NewRedis(c, redisPrefix(t, c))
	cut := t0.Add(7 * 24 * time.Hour)
	for _, g := range []Group{
		{Key: key("old"), Status: StatusFiring, NotifiedAt: t0, UpdatedAt: t0},
		{Key: key("new"), Status: StatusFiring, NotifiedAt: cut, UpdatedAt: cut},
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
	if diff := cmp.Diff(listKeys(t, s), []receiver.Key{key("new")}); diff != "" {
		t.Errorf("left after Prune (-got +want):\n%s", diff)
	}
}
