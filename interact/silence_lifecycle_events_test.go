package interact

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
)

// eventsNow is the clock of the silenceEvents tests.
var eventsNow = time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)

// diskMatchers match both alerts of the fixture.
var diskMatchers = []amclient.Matcher{{Name: "alertname", Value: "DiskFull", IsEqual: true}}

// firingGroup is the fixture's group, firing in a Slack message.
func firingGroup(t testing.TB) alertgroup.Group {
	t.Helper()
	m := loadMessage(t)
	g := alertgroup.Group{
		Key: alertgroup.Key{Receiver: m.Receiver, GroupKey: m.GroupKey, Channel: testChannel}, TS: testTS,
		Status: alertgroup.StatusFiring, Message: m,
	}
	return g
}

func listed(id, by string, ends time.Duration, state string) amclient.ListedSilence {
	return amclient.ListedSilence{ID: id, Matchers: diskMatchers, StartsAt: eventsNow.Add(-time.Hour),
		EndsAt: eventsNow.Add(ends), CreatedBy: by, Comment: "maintenance", State: state}
}

// kinds writes events as kind:id, with a ! for a silent one.
func kinds(evs []silenceEvent) []string {
	var out []string
	for _, ev := range evs {
		s := ev.kind + ":" + ev.id
		if ev.silent {
			s += "!"
		}
		out = append(out, s)
	}
	return out
}

// followedAs returns g following s as first seen, with mutate applied to
// the record.
func followedAs(g alertgroup.Group, s amclient.ListedSilence, mutate func(*alertgroup.FollowedSilence)) alertgroup.Group {
	rec := alertgroup.FollowedSilence{CreatedBy: s.CreatedBy, EndsAt: s.EndsAt, Digest: silenceDigest(s),
		FromSlack: strings.HasPrefix(s.CreatedBy, amslackAuthor), SeenAt: eventsNow.Add(-time.Hour)}
	if mutate != nil {
		mutate(&rec)
	}
	g.State.FollowedSilences = map[string]alertgroup.FollowedSilence{s.ID: rec}
	return g
}

func TestSilenceEvents(t *testing.T) {
	base := firingGroup(t)
	ui := listed("s1", "bob", time.Hour, amclient.SilenceActive)
	slackMade := listed("s2", "slack:alice (U0001ALICE)", time.Hour, amclient.SilenceActive)
	soon := listed("s1", "bob", 5*time.Minute, amclient.SilenceActive)
	ack := listed("s3", "slack:bob (U0002BOB)", time.Hour, amclient.SilenceActive)
	ack.Comment = "ACK! Acknowledged in Slack by bob"
	other := listed("s4", "bob", time.Hour, amclient.SilenceActive)
	other.Matchers = []amclient.Matcher{{Name: "alertname", Value: "Other", IsEqual: true}}
	changed := ui
	changed.EndsAt, changed.CreatedBy = eventsNow.Add(2*time.Hour), "carol"
	ended := listed("s1", "bob", -time.Minute, amclient.SilenceExpired)
	early := ui
	early.EndsAt, early.State = eventsNow.Add(-time.Second), amclient.SilenceExpired
	replacing := listed("s5", "carol", 2*time.Hour, amclient.SilenceActive)
	replacing.StartsAt = early.EndsAt.Add(time.Millisecond)
	earlySlack := slackMade
	earlySlack.EndsAt, earlySlack.State = eventsNow.Add(-time.Second), amclient.SilenceExpired
	resolved := base
	resolved.Status = alertgroup.StatusResolved

	for _, tc := range []struct {
		name   string
		g      alertgroup.Group
		listed []amclient.ListedSilence
		want   []string
	}{
		{"new from the UI", base, []amclient.ListedSilence{ui}, []string{"seen:s1"}},
		{"new from Slack", base, []amclient.ListedSilence{slackMade}, []string{"seen:s2!"}},
		{"new and ending soon", base, []amclient.ListedSilence{soon}, []string{"seen:s1", "expiring:s1"}},
		{"acknowledgement, pending, expired, elsewhere", base, []amclient.ListedSilence{
			ack, listed("p", "bob", time.Hour, amclient.SilencePending), listed("x", "bob", -time.Hour, amclient.SilenceExpired), other,
		}, nil},
		{"resolved group", resolved, []amclient.ListedSilence{ui}, nil},
		{"followed, unchanged", followedAs(base, ui, nil), []amclient.ListedSilence{ui}, nil},
		{"followed, ending soon", followedAs(base, soon, nil), []amclient.ListedSilence{soon}, []string{"expiring:s1"}},
		{"followed, warned", followedAs(base, soon, func(r *alertgroup.FollowedSilence) { r.WarnedFor = soon.EndsAt }), []amclient.ListedSilence{soon}, nil},
		{"changed in Alertmanager", followedAs(base, ui, nil), []amclient.ListedSilence{changed}, []string{"changed:s1"}},
		{"comment changed", followedAs(base, ui, nil), []amclient.ListedSilence{func() amclient.ListedSilence { s := ui; s.Comment = "longer"; return s }()}, []string{"changed:s1"}},
		{"changed by amslack", followedAs(base, ui, nil), []amclient.ListedSilence{func() amclient.ListedSilence {
			s := changed
			s.CreatedBy = "slack:alice (U0001ALICE)"
			return s
		}()}, []string{"changed:s1!"}},
		{"ended", followedAs(base, ui, func(r *alertgroup.FollowedSilence) { r.EndsAt = ended.EndsAt }), []amclient.ListedSilence{ended}, []string{"expired:s1"}},
		{"ended, listed active a moment longer", followedAs(base, ui, func(r *alertgroup.FollowedSilence) { r.EndsAt = eventsNow }),
			[]amclient.ListedSilence{listed("s1", "bob", 0, amclient.SilenceActive)}, []string{"expired:s1"}},
		{"gone from the list", followedAs(base, ui, nil), nil, []string{"expired:s1"}},
		{"expired early in the UI", followedAs(base, ui, nil), []amclient.ListedSilence{early}, []string{"expired:s1"}},
		{"replaced in the UI", followedAs(base, ui, nil), []amclient.ListedSilence{early, replacing}, []string{"changed:s5"}},
		{"expired early from Slack", followedAs(base, slackMade, nil), []amclient.ListedSilence{earlySlack}, []string{"expired:s2!"}},
		{"expired early in the UI, still marked", func() alertgroup.Group {
			g := followedAs(base, slackMade, nil)
			g.State.Silenced = &alertgroup.Mark{SilenceID: "s2"}
			return g
		}(), []amclient.ListedSilence{earlySlack}, []string{"expired:s2"}},
		{"ended and noted", followedAs(base, ui, func(r *alertgroup.FollowedSilence) { r.EndedAt = eventsNow }), []amclient.ListedSilence{ui}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := kinds(silenceEvents(tc.g, newSilenceListing(tc.listed), 10*time.Minute, eventsNow))
			if !slices.Equal(got, tc.want) {
				t.Errorf("events = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSilenceEventsApply checks the notes and the state that applying
// events leaves: an expired silence leaves the message and counts the
// alerts that fire unsilenced; a replacement moves the record and the
// mark.
func TestSilenceEventsApply(t *testing.T) {
	base := firingGroup(t)
	ui := listed("s1", "bob", time.Hour, amclient.SilenceActive)
	t.Run("expired", func(t *testing.T) {
		g := followedAs(base, ui, nil)
		g.State.Silenced = &alertgroup.Mark{SilenceID: "s1"}
		one := listed("s9", "dave", time.Hour, amclient.SilenceActive)
		one.Matchers = []amclient.Matcher{{Name: "instance", Value: "db-1", IsEqual: true}}
		l := newSilenceListing([]amclient.ListedSilence{{ID: "s1", Matchers: diskMatchers, EndsAt: eventsNow, State: amclient.SilenceExpired}, one})
		evs := silenceEvents(g, l, 0, eventsNow)
		if got := kinds(evs); !slices.Equal(got, []string{"expired:s1", "seen:s9"}) {
			t.Fatalf("events = %v", got)
		}
		if visible := evs[0].apply(&g, l, eventsNow); !visible {
			t.Error("the end of the group's silence does not change its message")
		}
		if evs[0].note != "🔔 Silence expired early in Alertmanager: 1 alert still firing" {
			t.Errorf("note = %q", evs[0].note)
		}
		if g.State.Silenced != nil || !g.State.FollowedSilences["s1"].EndedAt.Equal(eventsNow) {
			t.Errorf("state = %+v", g.State)
		}
	})
	t.Run("replaced", func(t *testing.T) {
		g := followedAs(base, ui, nil)
		g.State.Silenced = &alertgroup.Mark{SilenceID: "s1"}
		early := ui
		early.EndsAt, early.State = eventsNow, amclient.SilenceExpired
		repl := listed("s5", "carol", 2*time.Hour, amclient.SilenceActive)
		repl.StartsAt = eventsNow
		l := newSilenceListing([]amclient.ListedSilence{early, repl})
		evs := silenceEvents(g, l, 0, eventsNow)
		evs[0].apply(&g, l, eventsNow)
		if !strings.HasPrefix(evs[0].note, "✏️ Silence changed in Alertmanager by carol: it now ends <!date^") {
			t.Errorf("note = %q", evs[0].note)
		}
		if m := g.State.Silenced; m == nil || m.SilenceID != "s5" || !m.Until.Equal(repl.EndsAt) {
			t.Errorf("mark = %+v, want it on s5", m)
		}
		if old := g.State.FollowedSilences["s1"]; old.EndedAt.IsZero() {
			t.Errorf("the replaced silence's record did not end: %+v", old)
		}
		if again := silenceEvents(g, l, 0, eventsNow); len(again) != 0 {
			t.Errorf("events after applying = %v", kinds(again))
		}
	})
}

func TestSilenceAuthor(t *testing.T) {
	for in, want := range map[string]alertgroup.User{
		"slack:alice (U0001ALICE)":         {ID: "U0001ALICE", Name: "alice"},
		"slack:Ann (Ops) Lee (U0001ANN)":   {ID: "U0001ANN", Name: "Ann (Ops) Lee"},
		"bob":                              {Name: "bob"},
		"slack:nobody":                     {Name: "slack:nobody"},
		"":                                 {},
		"slack: (U1)":                      {ID: "U1", Name: ""},
		"<!channel> (U0001ALICE)":          {Name: "<!channel> (U0001ALICE)"},
		"slack:x (U1) and more":            {Name: "slack:x (U1) and more"},
		"slack:alice (U0001ALICE) (extra)": {ID: "extra", Name: "alice (U0001ALICE)"},
	} {
		if got := silenceAuthor(in); got != want {
			t.Errorf("silenceAuthor(%q) = %+v, want %+v", in, got, want)
		}
	}
}

// FuzzSilenceAuthor checks that reading a silence's createdBy never
// panics, and that the author of a silence amslack made reads back as the
// user who made it.
func FuzzSilenceAuthor(f *testing.F) {
	f.Add("alice", "U0001ALICE")
	f.Add("Ann (Ops) Lee", "W0123")
	f.Add("", "")
	f.Add("slack:x (", ")")
	f.Fuzz(func(t *testing.T, name, id string) {
		_ = silenceAuthor(name)
		if !isSlackID(id) {
			return
		}
		u := alertgroup.User{ID: id, Name: name}
		if got := silenceAuthor(createdBy(u)); got != u {
			t.Fatalf("silenceAuthor(createdBy(%+v)) = %+v", u, got)
		}
	})
}

// isSlackID reports whether s has the shape of a Slack user id.
func isSlackID(s string) bool {
	return s != "" && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

// FuzzSilenceEvents checks, on any list of silences that Alertmanager may
// answer, that the notes are once only: once the events of a pass are
// applied, another pass at the same time finds none.
func FuzzSilenceEvents(f *testing.F) {
	seeds := [][]amclient.ListedSilence{
		{listed("s1", "bob", time.Hour, amclient.SilenceActive)},
		{listed("s1", "bob", 5*time.Minute, amclient.SilenceActive), listed("s2", "slack:a (U1)", time.Hour, amclient.SilenceActive)},
		{listed("s1", "bob", -time.Minute, amclient.SilenceExpired), listed("s5", "carol", time.Hour, amclient.SilenceActive)},
	}
	for _, s := range seeds {
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, []byte(`{"s1":{"ends_at":"2026-11-29T15:00:00Z","seen_at":"2026-11-29T13:00:00Z"}}`))
	}
	base := firingGroup(f)
	f.Fuzz(func(t *testing.T, silences, followed []byte) {
		var l []amclient.ListedSilence
		if json.Unmarshal(silences, &l) != nil {
			return
		}
		g := base
		if json.Unmarshal(followed, &g.State.FollowedSilences) != nil {
			return
		}
		listing := newSilenceListing(l)
		evs := silenceEvents(g, listing, 10*time.Minute, eventsNow)
		for i := range evs {
			evs[i].apply(&g, listing, eventsNow)
		}
		if again := silenceEvents(g, listing, 10*time.Minute, eventsNow); len(again) > 0 {
			t.Fatalf("after applying %v, a second pass finds %v", kinds(evs), kinds(again))
		}
	})
}
