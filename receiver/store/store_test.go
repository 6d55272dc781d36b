package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/alertmanager/template"
	"github.com/redis/go-redis/v9"
	"go.etcd.io/bbolt"

	"github.com/amslack/amslack/receiver"
	"github.com/amslack/amslack/render"
)

// cmpOpts compares groups, which hold template.Data with its unexported
// field that JSON never carries.
var cmpOpts = cmpopts.IgnoreUnexported(template.Data{})

var t0 = time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)

func loadMessage(t testing.TB, name string) *receiver.Message {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m receiver.Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func key(group string) receiver.Key {
	return receiver.Key{Receiver: `team\-db`, GroupKey: `{}:{alertname="` + group + `"}`, Channel: "C0123456789"}
}

// testStore is the behaviour every Store implementation shares.
func testStore(t *testing.T, open func(t *testing.T) Store) {
	t.Run("GetMissing", func(t *testing.T) {
		s := open(t)
		_, found, err := s.Get(t.Context(), key("none"))
		if err != nil || found {
			t.Fatalf("Get = found %v, err %v; want not found", found, err)
		}
	})

	t.Run("UpdateCreatesThenSees", func(t *testing.T) {
		s := open(t)
		k := key("DiskFull")
		want := Group{
			Key:     k,
			Route:   "db",
			TS:      "1764425522.000100",
			Status:  StatusFiring,
			Alerts:  map[string]string{"153de500f4e8a1e4": "firing", "211c19acb3be2082": "firing"},
			Message: loadMessage(t, "v035-firing.json"),
			State: render.State{
				Acked:     &render.Mark{By: render.User{ID: "U1", Name: "ana"}, At: t0, Until: t0.Add(time.Hour), SilenceID: "s-1"},
				Approvals: map[string][]render.User{"approve_restart": {{ID: "U2"}}},
				Results:   []render.Result{{Action: "approve_restart", By: render.User{ID: "U2"}, At: t0, OK: true, Detail: "done"}},
			},
			FirstAt:   t0,
			UpdatedAt: t0.Add(time.Minute),
		}
		got, err := s.Update(t.Context(), k, func(g *Group, found bool) error {
			if found {
				t.Error("found = true for a new group")
			}
			if diff := cmp.Diff(*g, Group{Key: k}, cmpOpts); diff != "" {
				t.Errorf("new group (-got +want):\n%s", diff)
			}
			*g = want
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, want, cmpOpts); diff != "" {
			t.Errorf("Update returned (-got +want):\n%s", diff)
		}
		stored, found, err := s.Get(t.Context(), k)
		if err != nil || !found {
			t.Fatalf("Get = found %v, err %v", found, err)
		}
		if diff := cmp.Diff(stored, want, cmpOpts); diff != "" {
			t.Errorf("Get (-got +want):\n%s", diff)
		}
		_, err = s.Update(t.Context(), k, func(g *Group, found bool) error {
			if !found {
				t.Error("found = false for a stored group")
			}
			if diff := cmp.Diff(*g, want, cmpOpts); diff != "" {
				t.Errorf("fn got (-got +want):\n%s", diff)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("UpdateAbortsOnError", func(t *testing.T) {
		s := open(t)
		k := key("Abort")
		put(t, s, k, func(g *Group) { g.Route = "before" })
		errStop := errors.New("stop")
		_, err := s.Update(t.Context(), k, func(g *Group, _ bool) error {
			g.Route = "after"
			g.TS = "1.2"
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("Update error = %v, want %v", err, errStop)
		}
		g, _, err := s.Get(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		if g.Route != "before" {
			t.Errorf("Route = %q after an aborted update, want %q", g.Route, "before")
		}
		if _, found, _ := s.ByMessage(t.Context(), k.Channel, "1.2"); found {
			t.Error("aborted update left a message index entry")
		}
		_, err = s.Update(t.Context(), key("AbortNew"), func(*Group, bool) error { return errStop })
		if !errors.Is(err, errStop) {
			t.Fatalf("Update error = %v, want %v", err, errStop)
		}
		if _, found, _ := s.Get(t.Context(), key("AbortNew")); found {
			t.Error("aborted update created a group")
		}
	})

	t.Run("UpdateKeepsKey", func(t *testing.T) {
		s := open(t)
		k := key("Keep")
		got := put(t, s, k, func(g *Group) { g.Key.Channel = "C999" })
		if got.Key != k {
			t.Errorf("Key = %v, want %v", got.Key, k)
		}
		if _, found, _ := s.Get(t.Context(), receiver.Key{Receiver: k.Receiver, GroupKey: k.GroupKey, Channel: "C999"}); found {
			t.Error("group stored under the key fn set")
		}
	})

	t.Run("ByMessage", func(t *testing.T) {
		s := open(t)
		k := key("Msg")
		other := key("Other")
		put(t, s, other, func(g *Group) { g.TS = "2.0" })
		if _, found, err := s.ByMessage(t.Context(), k.Channel, "1.0"); err != nil || found {
			t.Fatalf("ByMessage before posting = found %v, err %v", found, err)
		}
		put(t, s, k, func(g *Group) { g.TS = "1.0" })
		for _, tc := range []struct {
			name, channel, ts string
			want              *receiver.Key
		}{
			{"posted", k.Channel, "1.0", &k},
			{"other group", k.Channel, "2.0", &other},
			{"other channel", "C000", "1.0", nil},
			{"unknown ts", k.Channel, "3.0", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g, found, err := s.ByMessage(t.Context(), tc.channel, tc.ts)
				if err != nil {
					t.Fatal(err)
				}
				if tc.want == nil {
					if found {
						t.Errorf("found %v, want nothing", g.Key)
					}
					return
				}
				if !found || g.Key != *tc.want {
					t.Errorf("found %v %v, want %v", found, g.Key, *tc.want)
				}
			})
		}

		// A group that re-fires after resolving gets a new message.
		put(t, s, k, func(g *Group) { g.TS = "4.0" })
		if _, found, _ := s.ByMessage(t.Context(), k.Channel, "1.0"); found {
			t.Error("old message still found after the group moved to a new one")
		}
		if g, found, _ := s.ByMessage(t.Context(), k.Channel, "4.0"); !found || g.Key != k {
			t.Errorf("new message: found %v %v, want %v", found, g.Key, k)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		k := key("Del")
		put(t, s, k, func(g *Group) { g.TS = "1.0" })
		if err := s.Delete(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := s.Get(t.Context(), k); found {
			t.Error("Get found a deleted group")
		}
		if _, found, _ := s.ByMessage(t.Context(), k.Channel, "1.0"); found {
			t.Error("ByMessage found a deleted group")
		}
		if err := s.Delete(t.Context(), k); err != nil {
			t.Errorf("Delete of a missing group = %v, want nil", err)
		}
		if gs, _ := s.List(t.Context()); len(gs) != 0 {
			t.Errorf("List after Delete = %d groups, want 0", len(gs))
		}
	})

	t.Run("Prune", func(t *testing.T) {
		s := open(t)
		cut := t0.Add(time.Hour)
		groups := []struct {
			name       string
			status     string
			resolvedAt time.Time
			pruned     bool
		}{
			{"firing", StatusFiring, time.Time{}, false},
			{"firing-after-resolve", StatusFiring, t0, false},
			{"resolved-long-ago", StatusResolved, t0, true},
			{"resolved-just-before", StatusResolved, cut.Add(-time.Nanosecond), true},
			{"resolved-at-cut", StatusResolved, cut, false},
			{"resolved-after", StatusResolved, cut.Add(time.Minute), false},
			{"resolved-without-time", StatusResolved, time.Time{}, false},
		}
		var keep []receiver.Key
		for i, g := range groups {
			k := key(g.name)
			put(t, s, k, func(gr *Group) {
				gr.Status = g.status
				gr.ResolvedAt = g.resolvedAt
				gr.TS = fmt.Sprintf("%d.0", i)
			})
			if !g.pruned {
				keep = append(keep, k)
			}
		}
		// A group that fires again leaves the resolved set.
		put(t, s, key("resolved-long-ago-refired"), func(g *Group) { g.Status, g.ResolvedAt = StatusResolved, t0 })
		put(t, s, key("resolved-long-ago-refired"), func(g *Group) { g.Status = StatusFiring })
		keep = append(keep, key("resolved-long-ago-refired"))

		n, err := s.Prune(t.Context(), cut)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("Prune = %d, want 2", n)
		}
		gs, err := s.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var got []receiver.Key
		for _, g := range gs {
			got = append(got, g.Key)
		}
		if diff := cmp.Diff(got, sortedKeys(keep)); diff != "" {
			t.Errorf("left after Prune (-got +want):\n%s", diff)
		}
		for i, g := range groups {
			_, found, _ := s.ByMessage(t.Context(), "C0123456789", fmt.Sprintf("%d.0", i))
			if found == g.pruned {
				t.Errorf("%s: ByMessage found = %v after Prune", g.name, found)
			}
		}
		if n, err := s.Prune(t.Context(), cut); n != 0 || err != nil {
			t.Errorf("second Prune = %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("List", func(t *testing.T) {
		s := open(t)
		if gs, err := s.List(t.Context()); err != nil || len(gs) != 0 {
			t.Fatalf("List of an empty store = %v, %v", gs, err)
		}
		var want []receiver.Key
		for _, name := range []string{"c", "a", "b"} {
			for _, ch := range []string{"C1", "webhook:ops"} {
				k := receiver.Key{Receiver: "r", GroupKey: name, Channel: ch}
				put(t, s, k, func(g *Group) { g.Route = name })
				want = append(want, k)
			}
		}
		gs, err := s.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var got []receiver.Key
		for _, g := range gs {
			got = append(got, g.Key)
			if g.Route != g.Key.GroupKey {
				t.Errorf("%v: Route = %q", g.Key, g.Route)
			}
		}
		if diff := cmp.Diff(got, sortedKeys(want)); diff != "" {
			t.Errorf("List (-got +want):\n%s", diff)
		}
	})

	t.Run("ConcurrentUpdates", func(t *testing.T) {
		s := open(t)
		k := key("Busy")
		// Every failed optimistic attempt means another update committed,
		// so with fewer updates than maxTxAttempts none can run out.
		const writers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					_, err := s.Update(t.Context(), k, func(g *Group, _ bool) error {
						if g.Alerts == nil {
							g.Alerts = map[string]string{}
						}
						g.Alerts[fmt.Sprintf("%d-%d", w, i)] = StatusFiring
						return nil
					})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		g, _, err := s.Get(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Alerts) != writers*each {
			t.Errorf("%d alerts after %d concurrent updates: updates were lost", len(g.Alerts), writers*each)
		}
	})
}

func put(t *testing.T, s Store, k receiver.Key, f func(*Group)) Group {
	t.Helper()
	g, err := s.Update(t.Context(), k, func(g *Group, _ bool) error {
		f(g)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func sortedKeys(ks []receiver.Key) []receiver.Key {
	out := slices.Clone(ks)
	slices.SortFunc(out, func(a, b receiver.Key) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func openBoltDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestBolt(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		db := openBoltDB(t, filepath.Join(t.TempDir(), "amslack.db"))
		t.Cleanup(func() { db.Close() })
		s, err := OpenBolt(db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestBoltSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "amslack.db")
	db := openBoltDB(t, path)
	// Other parts of amslack share the database.
	if err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("outbox.pending"))
		if err != nil {
			return err
		}
		return b.Put([]byte("x"), []byte("y"))
	}); err != nil {
		t.Fatal(err)
	}
	s, err := OpenBolt(db)
	if err != nil {
		t.Fatal(err)
	}
	k := key("Reopen")
	want := put(t, s, k, func(g *Group) { g.TS, g.Message = "1.0", loadMessage(t, "v025-firing.json") })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openBoltDB(t, path)
	defer db.Close()
	s, err = OpenBolt(db)
	if err != nil {
		t.Fatal(err)
	}
	got, found, err := s.ByMessage(t.Context(), k.Channel, "1.0")
	if err != nil || !found {
		t.Fatalf("ByMessage after reopen = found %v, err %v", found, err)
	}
	if diff := cmp.Diff(got, want, cmpOpts); diff != "" {
		t.Errorf("after reopen (-got +want):\n%s", diff)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket([]byte("outbox.pending")).Get([]byte("x")); string(v) != "y" {
			return fmt.Errorf("foreign bucket changed: %q", v)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

const redisAddr = "127.0.0.1:6379"

// redisClient connects to the Redis the tests run against, skipping the
// test when there is none, except in CI, where a missing Redis fails it.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: redisAddr})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		msg := fmt.Sprintf("no Redis at %s (%v): start redis-server on %s (apt-get install redis-server)", redisAddr, err, redisAddr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// redisPrefix returns a key prefix no other test uses and deletes its keys
// when the test ends.
func redisPrefix(t *testing.T, c *redis.Client) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "amslack-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("clean up %s*: %v", prefix, err)
		}
	})
	return prefix
}

func TestRedis(t *testing.T) {
	c := redisClient(t)
	testStore(t, func(t *testing.T) Store {
		return NewRedis(c, redisPrefix(t, c))
	})
}

// TestRedisSharedByReplicas checks that two Redis stores with one prefix,
// as two replicas have, see each other's writes.
func TestRedisSharedByReplicas(t *testing.T) {
	c := redisClient(t)
	prefix := redisPrefix(t, c)
	c2 := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer c2.Close()
	a, b := NewRedis(c, prefix), NewRedis(c2, prefix)
	k := key("Shared")
	put(t, a, k, func(g *Group) { g.TS = "1.0" })
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

func FuzzDecodeGroup(f *testing.F) {
	for _, name := range []string{"v025-firing.json", "v035-firing.json", "v035-resolved.json"} {
		b, err := encodeGroup(Group{Key: key(name), TS: "1.0", Message: loadMessage(f, name), FirstAt: t0})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"key":{},"alerts":{"a":"firing"},"state":{"acked":{"by":{"id":"U1"}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeGroup(b)
		if err != nil {
			return
		}
		enc, err := encodeGroup(g)
		if err != nil {
			t.Fatalf("encode a decoded group: %v", err)
		}
		g2, err := decodeGroup(enc)
		if err != nil {
			t.Fatalf("decode an encoded group: %v", err)
		}
		enc2, err := encodeGroup(g2)
		if err != nil {
			t.Fatal(err)
		}
		if string(enc) != string(enc2) {
			t.Errorf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}
