package amclient_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/amtest"
)

// TestListSilences lists the silences of a real Alertmanager: one active,
// with its matchers as created, and one expired.
func TestListSilences(t *testing.T) {
	am := amtest.Start(t)
	c, err := amclient.New(am.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ms := []amclient.Matcher{
		{Name: "alertname", Value: "DiskFull", IsEqual: true},
		{Name: "cluster", Value: "prod|staging", IsRegex: true, IsEqual: true},
		{Name: "team", Value: "web", IsEqual: false},
	}
	active, err := c.CreateSilence(t.Context(), amclient.Silence{
		Matchers: ms, StartsAt: now, EndsAt: now.Add(2 * time.Hour), CreatedBy: "slack:bob (U0002BOB)", Comment: "disk swap",
	})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := c.CreateSilence(t.Context(), amclient.Silence{
		Matchers: ms[:1], StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "alice", Comment: "done",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ExpireSilence(t.Context(), gone); err != nil {
		t.Fatal(err)
	}

	got, err := c.ListSilences(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(got, func(s amclient.ListedSilence) bool { return s.ID == active })
	if i < 0 {
		t.Fatalf("ListSilences() = %+v, want silence %s among them", got, active)
	}
	s := got[i]
	if s.State != amclient.SilenceActive || s.CreatedBy != "slack:bob (U0002BOB)" || s.Comment != "disk swap" {
		t.Errorf("active silence = %+v", s)
	}
	if d := s.EndsAt.Sub(now.Add(2 * time.Hour)); d < -time.Second || d > time.Second {
		t.Errorf("EndsAt = %v, want about %v", s.EndsAt, now.Add(2*time.Hour))
	}
	slices.SortFunc(s.Matchers, func(a, b amclient.Matcher) int { return strings.Compare(a.Name, b.Name) })
	if diff := cmp.Diff(s.Matchers, ms); diff != "" {
		t.Errorf("matchers (-got +want):\n%s", diff)
	}
	j := slices.IndexFunc(got, func(s amclient.ListedSilence) bool { return s.ID == gone })
	if j < 0 || got[j].State != amclient.SilenceExpired {
		t.Errorf("expired silence %s listed as %+v", gone, got)
	}
}

// TestListSilencesOldMatchers reads matchers without isEqual, as
// Alertmanager before 0.22 wrote them, as equal.
func TestListSilencesOldMatchers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/silences" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"id":"s1","status":{"state":"active"},"matchers":[{"name":"job","value":"api","isRegex":false}],` +
			`"startsAt":"2026-11-29T14:00:00Z","endsAt":"2026-11-29T18:00:00Z","createdBy":"bob","comment":"c"}]`))
	}))
	defer srv.Close()
	c, err := amclient.New(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ListSilences(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []amclient.ListedSilence{{
		ID: "s1", State: amclient.SilenceActive, CreatedBy: "bob", Comment: "c",
		Matchers: []amclient.Matcher{{Name: "job", Value: "api", IsEqual: true}},
		StartsAt: time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC), EndsAt: time.Date(2026, 11, 29, 18, 0, 0, 0, time.UTC),
	}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("ListSilences (-got +want):\n%s", diff)
	}
}
