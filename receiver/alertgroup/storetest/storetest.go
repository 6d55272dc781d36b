// Package storetest owns the conformance suite of alertgroup.Store: the
// behaviour that every implementation shares, checked by Run and
// RunQuarantine from each implementation's tests, and the groups and
// Alertmanager notifications the suite stores.
package storetest

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/amslack/amslack/receiver/alertgroup"
)

//go:embed testdata/*.json
var testdata embed.FS

// cmpOpts compares groups, which hold template.Data with its unexported
// field that JSON never carries.
var cmpOpts = cmpopts.IgnoreUnexported(template.Data{})

// Epoch is the time around which the suite stamps its groups.
var Epoch = time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)

// Message returns the Alertmanager notification in the suite's testdata
// file name: v025-firing.json, v035-firing.json or v035-resolved.json, as
// Alertmanager 0.25 and 0.35 sent them.
func Message(t testing.TB, name string) *alertgroup.Message {
	t.Helper()
	b, err := testdata.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m alertgroup.Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// Key returns the key of the group named group in the suite's destination.
func Key(group string) alertgroup.Key {
	return alertgroup.Key{Receiver: `team\-db`, GroupKey: `{}:{alertname="` + group + `"}`, Channel: "C0123456789"}
}

// Run checks the behaviour every alertgroup.Store implementation shares.
// open returns an empty store that lives as long as its test.
func Run(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	t.Run("GetMissing", func(t *testing.T) { testGetMissing(t, open) })
	t.Run("UpdateCreatesThenSees", func(t *testing.T) { testUpdateCreatesThenSees(t, open) })
	t.Run("UpdateAbortsOnError", func(t *testing.T) { testUpdateAbortsOnError(t, open) })
	t.Run("UpdateKeepsKey", func(t *testing.T) { testUpdateKeepsKey(t, open) })
	t.Run("ByMessage", func(t *testing.T) { testByMessage(t, open) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, open) })
	t.Run("List", func(t *testing.T) { testList(t, open) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrentUpdates(t, open) })
	t.Run("PruneIdle", func(t *testing.T) { testPruneIdle(t, open) })
}

// testGetMissing checks that Get of a key never stored finds nothing.
func testGetMissing(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	_, found, err := s.Get(t.Context(), Key("none"))
	if err != nil || found {
		t.Fatalf("Get = found %v, err %v; want not found", found, err)
	}
}

// testUpdateCreatesThenSees checks that Update hands fn an empty group
// under a new key, stores what fn leaves, and hands that to the next Get
// and Update.
func testUpdateCreatesThenSees(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	k := Key("DiskFull")
	want := alertgroup.Group{
		Key:     k,
		Route:   "db",
		TS:      "1764425522.000100",
		Status:  alertgroup.StatusFiring,
		Alerts:  map[string]string{"153de500f4e8a1e4": "firing", "211c19acb3be2082": "firing"},
		Message: Message(t, "v035-firing.json"),
		State: alertgroup.State{
			Acked:     &alertgroup.Mark{By: alertgroup.User{ID: "U1", Name: "ana"}, At: Epoch, Until: Epoch.Add(time.Hour), SilenceID: "s-1"},
			Approvals: map[string][]alertgroup.User{"approve_restart": {{ID: "U2"}}},
			Results:   []alertgroup.Result{{Action: "approve_restart", By: alertgroup.User{ID: "U2"}, At: Epoch, OK: true, Detail: "done"}},
		},
		FirstAt:   Epoch,
		UpdatedAt: Epoch.Add(time.Minute),
	}
	got, err := s.Update(t.Context(), k, func(g *alertgroup.Group, found bool) error {
		if found {
			t.Error("found = true for a new group")
		}
		if diff := cmp.Diff(*g, alertgroup.Group{Key: k}, cmpOpts); diff != "" {
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
	_, err = s.Update(t.Context(), k, func(g *alertgroup.Group, found bool) error {
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
}

// testUpdateAbortsOnError checks that an Update whose fn fails stores
// nothing: neither the change to a stored group, nor its message index
// entry, nor a new group.
func testUpdateAbortsOnError(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	k := Key("Abort")
	Put(t, s, k, func(g *alertgroup.Group) { g.Route = "before" })
	errStop := errors.New("stop")
	_, err := s.Update(t.Context(), k, func(g *alertgroup.Group, _ bool) error {
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
	_, err = s.Update(t.Context(), Key("AbortNew"), func(*alertgroup.Group, bool) error { return errStop })
	if !errors.Is(err, errStop) {
		t.Fatalf("Update error = %v, want %v", err, errStop)
	}
	if _, found, _ := s.Get(t.Context(), Key("AbortNew")); found {
		t.Error("aborted update created a group")
	}
}

// testUpdateKeepsKey checks that Update stores the group under its key even
// when fn changes the group's Key.
func testUpdateKeepsKey(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	k := Key("Keep")
	got := Put(t, s, k, func(g *alertgroup.Group) { g.Key.Channel = "C999" })
	if got.Key != k {
		t.Errorf("Key = %v, want %v", got.Key, k)
	}
	if _, found, _ := s.Get(t.Context(), alertgroup.Key{Receiver: k.Receiver, GroupKey: k.GroupKey, Channel: "C999"}); found {
		t.Error("group stored under the key fn set")
	}
}

// testByMessage checks that ByMessage finds a group by its channel and
// message timestamp, and by its new message only once it moved to one.
func testByMessage(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	k := Key("Msg")
	other := Key("Other")
	Put(t, s, other, func(g *alertgroup.Group) { g.TS = "2.0" })
	if _, found, err := s.ByMessage(t.Context(), k.Channel, "1.0"); err != nil || found {
		t.Fatalf("ByMessage before posting = found %v, err %v", found, err)
	}
	Put(t, s, k, func(g *alertgroup.Group) { g.TS = "1.0" })
	for _, tc := range []struct {
		name, channel, ts string
		want              *alertgroup.Key
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
	Put(t, s, k, func(g *alertgroup.Group) { g.TS = "4.0" })
	if _, found, _ := s.ByMessage(t.Context(), k.Channel, "1.0"); found {
		t.Error("old message still found after the group moved to a new one")
	}
	if g, found, _ := s.ByMessage(t.Context(), k.Channel, "4.0"); !found || g.Key != k {
		t.Errorf("new message: found %v %v, want %v", found, g.Key, k)
	}
}

// testDelete checks that Delete removes a group and its message index
// entry, and that deleting a missing group is no error.
func testDelete(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	k := Key("Del")
	Put(t, s, k, func(g *alertgroup.Group) { g.TS = "1.0" })
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
}

// testPrune checks that Prune deletes the groups resolved before the cut,
// with their message index entries, and only those.
func testPrune(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	cut := Epoch.Add(time.Hour)
	groups := []struct {
		name       string
		status     string
		resolvedAt time.Time
		pruned     bool
	}{
		{"firing", alertgroup.StatusFiring, time.Time{}, false},
		{"firing-after-resolve", alertgroup.StatusFiring, Epoch, false},
		{"resolved-long-ago", alertgroup.StatusResolved, Epoch, true},
		{"resolved-just-before", alertgroup.StatusResolved, cut.Add(-time.Nanosecond), true},
		{"resolved-at-cut", alertgroup.StatusResolved, cut, false},
		{"resolved-after", alertgroup.StatusResolved, cut.Add(time.Minute), false},
		{"resolved-without-time", alertgroup.StatusResolved, time.Time{}, false},
	}
	var keep []alertgroup.Key
	for i, g := range groups {
		k := Key(g.name)
		Put(t, s, k, func(gr *alertgroup.Group) {
			gr.Status = g.status
			gr.ResolvedAt = g.resolvedAt
			gr.TS = fmt.Sprintf("%d.0", i)
		})
		if !g.pruned {
			keep = append(keep, k)
		}
	}
	// A group that fires again leaves the resolved set.
	Put(t, s, Key("resolved-long-ago-refired"), func(g *alertgroup.Group) { g.Status, g.ResolvedAt = alertgroup.StatusResolved, Epoch })
	Put(t, s, Key("resolved-long-ago-refired"), func(g *alertgroup.Group) { g.Status = alertgroup.StatusFiring })
	keep = append(keep, Key("resolved-long-ago-refired"))

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
	var got []alertgroup.Key
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
}

// testList checks that List returns every group, ordered by Key.String.
func testList(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	if gs, err := s.List(t.Context()); err != nil || len(gs) != 0 {
		t.Fatalf("List of an empty store = %v, %v", gs, err)
	}
	var want []alertgroup.Key
	for _, name := range []string{"c", "a", "b"} {
		for _, ch := range []string{"C1", "webhook:ops"} {
			k := alertgroup.Key{Receiver: "r", GroupKey: name, Channel: ch}
			Put(t, s, k, func(g *alertgroup.Group) { g.Route = name })
			want = append(want, k)
		}
	}
	gs, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []alertgroup.Key
	for _, g := range gs {
		got = append(got, g.Key)
		if g.Route != g.Key.GroupKey {
			t.Errorf("%v: Route = %q", g.Key, g.Route)
		}
	}
	if diff := cmp.Diff(got, sortedKeys(want)); diff != "" {
		t.Errorf("List (-got +want):\n%s", diff)
	}
}

// testConcurrentUpdates checks that concurrent Updates of one group lose
// none of their changes.
func testConcurrentUpdates(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	k := Key("Busy")
	// Every failed optimistic attempt means another update committed,
	// so with fewer updates than an optimistic store's bound on
	// attempts (redisstore's is 100) none can run out.
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, err := s.Update(t.Context(), k, func(g *alertgroup.Group, _ bool) error {
					if g.Alerts == nil {
						g.Alerts = map[string]string{}
					}
					g.Alerts[fmt.Sprintf("%d-%d", w, i)] = alertgroup.StatusFiring
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
}

// testPruneIdle checks that Prune deletes the groups that Alertmanager
// stopped notifying without resolving them (send_resolved: false, or a
// route that changed), as it deletes the resolved ones.
func testPruneIdle(t *testing.T, open func(t *testing.T) alertgroup.Store) {
	s := open(t)
	cut := Epoch.Add(7 * 24 * time.Hour)
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
	var keep []alertgroup.Key
	for _, g := range groups {
		k := Key(g.name)
		Put(t, s, k, func(gr *alertgroup.Group) {
			gr.Status = alertgroup.StatusFiring
			gr.TS = g.name
			gr.NotifiedAt, gr.UpdatedAt = g.notifiedAt, g.updatedAt
		})
		if !g.pruned {
			keep = append(keep, k)
		}
	}
	// Notified again: a group leaves the candidates.
	Put(t, s, Key("firing-renotified"), func(g *alertgroup.Group) { g.Status, g.NotifiedAt = alertgroup.StatusFiring, long })
	Put(t, s, Key("firing-renotified"), func(g *alertgroup.Group) { g.NotifiedAt = recent })
	keep = append(keep, Key("firing-renotified"))

	n, err := s.Prune(t.Context(), cut)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("Prune = %d, want 2", n)
	}
	if diff := cmp.Diff(ListKeys(t, s), sortedKeys(keep)); diff != "" {
		t.Errorf("left after Prune (-got +want):\n%s", diff)
	}
	for _, g := range groups {
		if _, found, _ := s.ByMessage(t.Context(), "C0123456789", g.name); found == g.pruned {
			t.Errorf("%s: ByMessage found = %v after Prune", g.name, found)
		}
	}
}

// Put stores the group under k after f changed it, failing t on an error.
func Put(t *testing.T, s alertgroup.Store, k alertgroup.Key, f func(*alertgroup.Group)) alertgroup.Group {
	t.Helper()
	g, err := s.Update(t.Context(), k, func(g *alertgroup.Group, _ bool) error {
		f(g)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func sortedKeys(ks []alertgroup.Key) []alertgroup.Key {
	out := slices.Clone(ks)
	slices.SortFunc(out, func(a, b alertgroup.Key) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// ListKeys returns the keys of the groups s lists, in its order.
func ListKeys(t *testing.T, s alertgroup.Store) []alertgroup.Key {
	t.Helper()
	gs, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := []alertgroup.Key{}
	for _, g := range gs {
		out = append(out, g.Key)
	}
	return out
}

// RunQuarantine writes records that cannot be decoded next to good groups
// with corrupt, as a disk fault or a downgrade might leave them, and checks
// that every method serves the good groups, the bad records are moved aside
// (quarantined counts them) and counted in amslack_store_quarantined_total,
// and a notification of a group whose record was bad starts it afresh.
// corrupt stores v as the record of k where the store keeps it, so that
// Prune takes it for a group resolved before Epoch; open registers the
// store's metrics with reg.
func RunQuarantine(t *testing.T, open func(t *testing.T, reg prometheus.Registerer) alertgroup.Store, corrupt func(t *testing.T, s alertgroup.Store, k alertgroup.Key, v string), quarantined func(t *testing.T, s alertgroup.Store) int) {
	reg := prometheus.NewRegistry()
	s := open(t, reg)
	good := []alertgroup.Key{Key("good-1"), Key("good-2")}
	for _, k := range good {
		Put(t, s, k, func(g *alertgroup.Group) { g.Status, g.TS = alertgroup.StatusFiring, k.GroupKey })
	}
	bad := map[string]alertgroup.Key{
		"listed": Key("bad-listed"), "got": Key("bad-got"), "updated": Key("bad-updated"), "pruned": Key("bad-pruned"),
	}
	for _, k := range bad {
		corrupt(t, s, k, `{"key":`)
	}

	// Get and Update of a bad group see none.
	if _, found, err := s.Get(t.Context(), bad["got"]); err != nil || found {
		t.Errorf("Get of a bad record = found %v, err %v; want not found", found, err)
	}
	Put(t, s, bad["updated"], func(g *alertgroup.Group) { g.Status = alertgroup.StatusFiring })
	if _, err := s.Prune(t.Context(), Epoch); err != nil {
		t.Errorf("Prune with a bad record: %v", err)
	}
	gs, err := s.List(t.Context())
	if err != nil {
		t.Fatalf("List with a bad record: %v", err)
	}
	var got []alertgroup.Key
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
