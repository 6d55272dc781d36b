package interact

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/alertgroup/redisstore"
	"github.com/amslack/amslack/receiver/alertgroup/storetest"
	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// digestChannel is where the test digests go.
const digestChannel = "C0001DIGEST"

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestDigestSchedule(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	daily := Digest{Every: 24 * time.Hour, At: 9 * time.Hour, Location: berlin(t)}
	for _, tc := range []struct {
		name             string
		d                Digest
		now              string
		last, prev, next string
	}{
		// Europe/Berlin goes from CET (+01:00) to CEST (+02:00) on
		// 2026-03-29 and back on 2026-10-25: 09:00 stays 09:00.
		{"before spring DST", daily, "2026-03-28T12:00:00Z", "2026-03-28T08:00:00Z", "2026-03-27T08:00:00Z", "2026-03-29T07:00:00Z"},
		{"spring DST day", daily, "2026-03-29T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-28T08:00:00Z", "2026-03-30T07:00:00Z"},
		{"spring DST day before 09:00", daily, "2026-03-29T06:59:59Z", "2026-03-28T08:00:00Z", "2026-03-27T08:00:00Z", "2026-03-29T07:00:00Z"},
		{"autumn DST day", daily, "2026-10-25T09:00:00Z", "2026-10-25T08:00:00Z", "2026-10-24T07:00:00Z", "2026-10-26T08:00:00Z"},
		{"at the due time", daily, "2026-06-01T07:00:00Z", "2026-06-01T07:00:00Z", "2026-05-31T07:00:00Z", "2026-06-02T07:00:00Z"},
		{
			"every 6h from 03:00 UTC", Digest{Every: 6 * time.Hour, At: 3 * time.Hour, Location: time.UTC},
			"2026-06-01T01:00:00Z", "2026-05-31T21:00:00Z", "2026-05-31T15:00:00Z", "2026-06-01T03:00:00Z",
		},
		{
			"every 8h from 20:00 UTC wraps", Digest{Every: 8 * time.Hour, At: 20 * time.Hour, Location: time.UTC},
			"2026-06-01T05:00:00Z", "2026-06-01T04:00:00Z", "2026-05-31T20:00:00Z", "2026-06-01T12:00:00Z",
		},
		{
			// 2026-06-01 is day 20605 since 1970-01-01: odd.
			"every 48h", Digest{Every: 48 * time.Hour, At: 9 * time.Hour, Location: time.UTC},
			"2026-06-01T10:00:00Z", "2026-05-31T09:00:00Z", "2026-05-29T09:00:00Z", "2026-06-02T09:00:00Z",
		},
		{
			// 1970-01-01 was a Thursday: weekly digests come on Thursdays.
			"weekly", Digest{Every: 7 * 24 * time.Hour, At: 9 * time.Hour, Location: time.UTC},
			"2026-06-01T10:00:00Z", "2026-05-28T09:00:00Z", "2026-05-21T09:00:00Z", "2026-06-04T09:00:00Z",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := utc(tc.now)
			last := tc.d.Last(now)
			if !last.Equal(utc(tc.last)) {
				t.Errorf("Last(%s) = %s, want %s", tc.now, last.UTC(), tc.last)
			}
			if prev := tc.d.Last(last.Add(-time.Nanosecond)); !prev.Equal(utc(tc.prev)) {
				t.Errorf("due time before %s = %s, want %s", last.UTC(), prev.UTC(), tc.prev)
			}
			if next := tc.d.Next(last); !next.Equal(utc(tc.next)) {
				t.Errorf("Next(%s) = %s, want %s", last.UTC(), next.UTC(), tc.next)
			}
		})
	}
}

// TestDigestScheduleSkippedTime checks that a due time that the spring
// change of daylight saving time skips (02:30 in Europe/Berlin) happens
// once that day.
func TestDigestScheduleSkippedTime(t *testing.T) {
	d := Digest{Every: 24 * time.Hour, At: 2*time.Hour + 30*time.Minute, Location: berlin(t)}
	start := time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC)
	n := 0
	for due := d.Next(start); due.Before(start.Add(24 * time.Hour)); due = d.Next(due) {
		n++
	}
	if n != 1 {
		t.Errorf("due times on 2026-03-29 = %d, want 1", n)
	}
}

func TestDigestValidate(t *testing.T) {
	for _, tc := range []struct {
		d    Digest
		want string
	}{
		{Digest{Every: 24 * time.Hour, At: 9 * time.Hour, Location: time.UTC, Channel: "C1"}, ""},
		{Digest{Every: 12 * time.Hour, Location: time.UTC, Channel: "C1"}, ""},
		{Digest{Every: 30 * time.Minute, Location: time.UTC, Channel: "C1"}, "every: must be between 1h0m0s and 168h0m0s"},
		{Digest{Every: 5 * time.Hour, Location: time.UTC, Channel: "C1"}, "every: must divide a day"},
		{Digest{Every: 36 * time.Hour, Location: time.UTC, Channel: "C1"}, "every: must divide a day"},
		{Digest{Every: 24 * time.Hour, At: 24 * time.Hour, Location: time.UTC, Channel: "C1"}, "at: must be a time of day"},
		{Digest{Every: 24 * time.Hour, Channel: "C1"}, "time zone: missing"},
	} {
		err := tc.d.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.d, err, tc.want)
		}
	}
}

// digestEnv is a Handler whose digest for the route "default" is due
// daily at due's time of day in UTC, posting to the fake Slack, on a fake
// clock set to due.
type digestEnv struct {
	h     *Handler
	st    alertgroup.Store
	slack *slackServer
	clock *testClock
	d     Digest
}

func newDigestEnv(t *testing.T, st alertgroup.Store, s *slackServer, due time.Time, silences Silencer) *digestEnv {
	t.Helper()
	clock := &testClock{t: due}
	d := Digest{Route: "default", Channel: digestChannel, Every: 24 * time.Hour,
		At: due.Sub(due.Truncate(24 * time.Hour)), Location: time.UTC}
	h, err := New(Options{
		SigningSecret: testSecret, Groups: st, Claims: st, Slack: s.api, Silences: silences, Now: clock.Now,
		Digests: func() []Digest { return []Digest{d} },
		MessageLink: func(channel, ts string) string {
			return "https://acme.slack.com/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &digestEnv{h: h, st: st, slack: s, clock: clock, d: d}
}

// digests returns the digests posted so far.
func (e *digestEnv) digests() []slackfake.Message {
	return e.slack.fake.Messages(digestChannel)
}

// putGroup stores the fixture's group under the group key name, on route,
// posted firstAgo before now at ts, changed by mutate.
func putGroup(t *testing.T, st Groups, name, route, ts string, first time.Time, mutate func(g *alertgroup.Group)) alertgroup.Group {
	t.Helper()
	return seedGroup(t, nopGroups{st, name}, func(g *alertgroup.Group) {
		g.Route, g.TS, g.FirstAt = route, ts, first
		g.Message.GroupLabels = map[string]string{"alertname": name}
		if mutate != nil {
			mutate(g)
		}
	})
}

// nopGroups stores under another group key, so that seedGroup can store
// several groups.
type nopGroups struct {
	Groups
	name string
}

func (n nopGroups) Update(ctx context.Context, key alertgroup.Key, fn func(g *alertgroup.Group, found bool) error) (alertgroup.Group, error) {
	key.GroupKey = `{}:{alertname="` + n.name + `"}`
	return n.Groups.Update(ctx, key, fn)
}

// TestDigestContent posts a digest of the route's firing groups, with age
// and owner, the groups resolved since the last digest, and the silences
// from a real Alertmanager that cover the route's groups and end before
// the next digest, each linked to its message.
func TestDigestContent(t *testing.T) {
	am := amtest.Start(t)
	c, err := amclient.New(am.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Alertmanager takes silences in real time: the digest is due now.
	due := time.Now().UTC().Truncate(time.Minute)
	st := openStore(t)
	e := newDigestEnv(t, st, newSlackServer(t), due, c)
	prevDue := due.Add(-24 * time.Hour)

	putGroup(t, st, "DiskFull", "default", "1764425522.000100", due.Add(-3*time.Hour-5*time.Minute), func(g *alertgroup.Group) {
		g.State.Acked = &alertgroup.Mark{By: bob, At: due.Add(-time.Hour)}
	})
	putGroup(t, st, "Latency", "default", "1764425522.000200", due.Add(-20*time.Minute), nil)
	putGroup(t, st, "CertExpiry", "default", "1764425522.000300", due.Add(-5*time.Hour), func(g *alertgroup.Group) {
		g.Status, g.ResolvedAt = alertgroup.StatusResolved, due.Add(-time.Hour)
	})
	putGroup(t, st, "OldOutage", "default", "1764425522.000400", due.Add(-30*time.Hour), func(g *alertgroup.Group) {
		g.Status, g.ResolvedAt = alertgroup.StatusResolved, prevDue.Add(-time.Minute)
	})
	putGroup(t, st, "OtherTeam", "other", "1764425522.000500", due.Add(-time.Hour), nil)

	silence := func(name, comment string, ends time.Duration) string {
		t.Helper()
		id, err := c.CreateSilence(t.Context(), amclient.Silence{
			Matchers: []amclient.Matcher{{Name: "alertname", Value: name, IsEqual: true}, {Name: "cluster", Value: "prod|staging", IsRegex: true, IsEqual: true}},
			StartsAt: due, EndsAt: time.Now().Add(ends), CreatedBy: "alice", Comment: comment,
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// The fixture's alerts are all DiskFull in prod: the first silence
	// covers the route's groups, the others are left out.
	silence("DiskFull", "disk swap", 2*time.Hour)
	silence("DiskFull", "until next week", 30*time.Hour)
	silence("DiskFull", "ACK! Acknowledged in Slack by bob", time.Hour)
	silence("Nothing", "covers no group", time.Hour)

	if err := e.h.PostDigests(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := e.digests()
	if len(got) != 1 {
		t.Fatalf("digests posted = %d, want 1", len(got))
	}
	text := blockTexts(t, got[0])
	link := func(ts string) string {
		return "<https://acme.slack.com/archives/C0001ALERTS/p" + strings.ReplaceAll(ts, ".", "") + "|message>"
	}
	for _, want := range []string{
		`Alert digest: 2 firing, 1 resolved, 1 silence ending`,
		`*DiskFull* — firing for 3h 5m · ✋ <@U0002BOB> · ` + link("1764425522.000100"),
		`*Latency* — firing for 20m · not acknowledged · ` + link("1764425522.000200"),
		`*CertExpiry* — resolved `,
		`after 4h · ` + link("1764425522.000300"),
		"`alertname=\"DiskFull\", cluster=~\"prod|staging\"` ends ",
		`· by alice · covers *DiskFull* · ` + link("1764425522.000100"),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %s:\n%s", want, text)
		}
	}
	for _, absent := range []string{"OldOutage", "OtherTeam", "until next week", "Nothing"} {
		if strings.Contains(text, absent) {
			t.Errorf("digest lists %s:\n%s", absent, text)
		}
	}
	if got := testutil.ToFloat64(e.h.dmetrics.digests.WithLabelValues(digestPosted)); got != 1 {
		t.Errorf("amslack_digests_total{result=posted} = %v, want 1", got)
	}
}

// TestDigestNothingToList checks that a digest with nothing to list posts
// nothing and is counted as skipped, once.
func TestDigestNothingToList(t *testing.T) {
	st := openStore(t)
	due := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	e := newDigestEnv(t, st, newSlackServer(t), due, &fakeAM{})
	putGroup(t, st, "OtherTeam", "other", "1764425522.000500", due.Add(-time.Hour), nil)
	putGroup(t, st, "LongGone", "default", "1764425522.000600", due.Add(-72*time.Hour), func(g *alertgroup.Group) {
		g.Status, g.ResolvedAt = alertgroup.StatusResolved, due.Add(-48*time.Hour)
	})
	for range 2 {
		if err := e.h.PostDigests(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.digests(); len(got) != 0 {
		t.Errorf("digests posted = %d, want none: %s", len(got), got[0].Text)
	}
	if got := testutil.ToFloat64(e.h.dmetrics.digests.WithLabelValues(digestSkipped)); got != 1 {
		t.Errorf("amslack_digests_total{result=skipped} = %v, want 1", got)
	}
}

// TestDigestOncePerDueTime runs two Handlers, as two replicas, on one Redis
// store, each passing several times at once: each due time's digest is
// posted once. A replica started after a missed due time posts it, once.
func TestDigestOncePerDueTime(t *testing.T) {
	prefix := storetest.RedisPrefix(t, storetest.RedisClient(t))
	s := newSlackServer(t)
	due := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	var es [2]*digestEnv
	for i := range es {
		st := redisstore.New(storetest.RedisClient(t), prefix)
		es[i] = newDigestEnv(t, st, s, due, nil)
	}
	putGroup(t, es[0].st, "DiskFull", "default", "1764425522.000100", due.Add(-time.Hour), nil)
	pass := func(at time.Time) {
		t.Helper()
		var wg sync.WaitGroup
		for _, e := range es {
			setClock(e.clock, at)
			for range 8 {
				wg.Go(func() {
					if err := e.h.PostDigests(t.Context()); err != nil {
						t.Errorf("PostDigests: %v", err)
					}
				})
			}
		}
		wg.Wait()
	}
	pass(due)
	pass(due.Add(time.Minute))
	if got := len(es[0].digests()); got != 1 {
		t.Fatalf("digests after two passes at the due time = %d, want 1", got)
	}
	// Both replicas down at the next due time; one comes back five hours
	// later, and a restarted replica after that.
	pass(due.Add(29 * time.Hour))
	if got := len(es[0].digests()); got != 2 {
		t.Fatalf("digests after the missed due time = %d, want 2", got)
	}
	restarted := newDigestEnv(t, redisstore.New(storetest.RedisClient(t), prefix), s, due, nil)
	setClock(restarted.clock, due.Add(30*time.Hour))
	if err := restarted.h.PostDigests(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(es[0].digests()); got != 2 {
		t.Errorf("digests after a restart = %d, want still 2", got)
	}
}

// TestDigestRetried checks that a digest Slack refused is posted on the
// next pass, once.
func TestDigestRetried(t *testing.T) {
	st := openStore(t)
	due := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	e := newDigestEnv(t, st, newSlackServer(t), due, nil)
	putGroup(t, st, "DiskFull", "default", "1764425522.000100", due.Add(-time.Hour), nil)
	e.slack.fake.FailNext("chat.postMessage", 1, 0, "internal_error")
	if err := e.h.PostDigests(t.Context()); err == nil {
		t.Fatal("PostDigests with Slack failing succeeded")
	}
	for range 2 {
		if err := e.h.PostDigests(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(e.digests()); got != 1 {
		t.Errorf("digests = %d, want 1", got)
	}
	if got := testutil.ToFloat64(e.h.dmetrics.digests.WithLabelValues(digestFailed)); got != 1 {
		t.Errorf("amslack_digests_total{result=failed} = %v, want 1", got)
	}
}

// TestDigestSilencesUnknown checks that a digest says so when Alertmanager's
// silences cannot be read, and still lists the groups.
func TestDigestSilencesUnknown(t *testing.T) {
	st := openStore(t)
	due := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	e := newDigestEnv(t, st, newSlackServer(t), due, &failingLister{})
	putGroup(t, st, "DiskFull", "default", "1764425522.000100", due.Add(-time.Hour), nil)
	if err := e.h.PostDigests(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := e.digests()
	if len(got) != 1 || !strings.Contains(blockTexts(t, got[0]), "silences could not be read") {
		t.Errorf("digests = %+v, want one that says the silences could not be read", got)
	}
}

// failingLister is a Silencer whose silences cannot be read.
type failingLister struct{ fakeAM }

func (*failingLister) ListSilences(context.Context) ([]amclient.ListedSilence, error) {
	return nil, errors.New("connection refused")
}

// blockTexts returns the texts of m's blocks, one a line.
func blockTexts(t *testing.T, m slackfake.Message) string {
	t.Helper()
	var blocks []struct {
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Text string `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, b := range blocks {
		if b.Text != nil {
			lines = append(lines, b.Text.Text)
		}
		for _, e := range b.Elements {
			lines = append(lines, e.Text)
		}
	}
	return strings.Join(lines, "\n")
}
