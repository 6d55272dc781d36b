package amclient_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/amtest"
)

func TestAgainstAlertmanager(t *testing.T) {
	am := amtest.Start(t)
	c, err := amclient.New(am.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	odd := map[string]string{"alertname": "DiskFull", "path": `C:\data "main"`}
	am.PostAlerts(t,
		amtest.Alert{Labels: odd},
		amtest.Alert{Labels: map[string]string{"alertname": "DiskFull", "path": "/var"}},
		amtest.Alert{Labels: map[string]string{"alertname": "Other"}},
	)

	filter := labels.Matchers{
		mustMatcher(t, "alertname", "DiskFull"),
		mustMatcher(t, "path", odd["path"]),
	}
	alerts, err := c.ListAlerts(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 {
		t.Fatalf("ListAlerts() = %d alerts, want 1: %+v", len(alerts), alerts)
	}
	if diff := cmp.Diff(alerts[0].Labels, odd); diff != "" {
		t.Errorf("labels (-got +want):\n%s", diff)
	}

	now := time.Now()
	s := amclient.Silence{
		Matchers:  amclient.EqualMatchers(odd),
		StartsAt:  now,
		EndsAt:    now.Add(time.Hour),
		CreatedBy: "slack:alice (U1)",
		Comment:   "ACK! test",
	}
	id, err := c.CreateSilence(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	alerts, err = c.ListAlerts(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || !cmp.Equal(alerts[0].Status.SilencedBy, []string{id}) {
		t.Errorf("silenced alert not listed with silencedBy [%s]: %+v", id, alerts)
	}

	// Posting again with the id and the same matchers extends in place.
	s.ID = id
	s.EndsAt = now.Add(2 * time.Hour)
	id2, err := c.CreateSilence(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if id2 != id {
		t.Errorf("extending changed the id from %s to %s", id, id2)
	}
	if got := am.Silence(t, id).EndsAt; got.Sub(s.EndsAt).Abs() > time.Millisecond {
		t.Errorf("endsAt = %v, want %v", got, s.EndsAt)
	}

	if err := c.ExpireSilence(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := am.Silence(t, id).Status.State; got != "expired" {
		t.Errorf("state after expire = %q, want expired", got)
	}
	if err := c.ExpireSilence(ctx, id); err != nil {
		t.Errorf("expiring twice: %v", err)
	}
	if err := c.ExpireSilence(ctx, "5ee2d0b8-0000-4000-8000-000000000000"); !errors.Is(err, amclient.ErrNotFound) {
		t.Errorf("expire unknown = %v, want ErrNotFound", err)
	}

	// An end in the past is a 400 whose body says why.
	_, err = c.CreateSilence(ctx, amclient.Silence{Matchers: s.Matchers, StartsAt: now.Add(-2 * time.Hour), EndsAt: now.Add(-time.Hour), CreatedBy: "x", Comment: "x"})
	var se *amclient.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusBadRequest || se.Temporary() || !strings.Contains(se.Body, "past") {
		t.Errorf("create with past end = %v, want a 400 naming the past end", err)
	}
}

func mustMatcher(t *testing.T, name, value string) *labels.Matcher {
	t.Helper()
	m, err := labels.NewMatcher(labels.MatchEqual, name, value)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		call      func(*amclient.Client) error
		wantOK    bool
		wantErr   error
		temporary bool
	}{
		{
			name: "create 5xx", status: 503, body: "overloaded",
			call: func(c *amclient.Client) error {
				_, err := c.CreateSilence(t.Context(), amclient.Silence{})
				return err
			},
			temporary: true,
		},
		{
			name: "create without id", status: 200, body: `{}`,
			call: func(c *amclient.Client) error {
				_, err := c.CreateSilence(t.Context(), amclient.Silence{})
				return err
			},
		},
		{
			name: "expire already expired (0.25)", status: 500, body: `"silence 1 already expired"`,
			call:   func(c *amclient.Client) error { return c.ExpireSilence(t.Context(), "1") },
			wantOK: true,
		},
		{
			name: "expire unknown", status: 404, body: ``,
			call:    func(c *amclient.Client) error { return c.ExpireSilence(t.Context(), "1") },
			wantErr: amclient.ErrNotFound,
		},
		{
			name: "expire unknown (0.25)", status: 500, body: `"silence not found"`,
			call:    func(c *amclient.Client) error { return c.ExpireSilence(t.Context(), "1") },
			wantErr: amclient.ErrNotFound,
		},
		{
			name: "list malformed", status: 200, body: `{"not":"a list"}`,
			call: func(c *amclient.Client) error {
				_, err := c.ListAlerts(t.Context(), nil)
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			c, err := amclient.New(srv.URL, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(c)
			switch {
			case tt.wantOK && err != nil:
				t.Fatalf("got %v, want success", err)
			case !tt.wantOK && err == nil:
				t.Fatal("got success, want an error")
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			var se *amclient.StatusError
			if errors.As(err, &se) && se.Temporary() != tt.temporary {
				t.Errorf("Temporary() = %v, want %v", se.Temporary(), tt.temporary)
			}
		})
	}
}

func TestTransportErrorHidesCredentials(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := strings.Replace(srv.URL, "http://", "http://admin:hunter2@", 1)
	srv.Close()
	c, err := amclient.New(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = c.ExpireSilence(t.Context(), "1")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("ExpireSilence() = %v, want an error without the password", err)
	}
}

func TestNew(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:9093", "ftp://am", "http://"} {
		if _, err := amclient.New(u, nil); err == nil {
			t.Errorf("New(%q) succeeded, want an error", u)
		}
	}
}

func TestMatcherType(t *testing.T) {
	for _, tc := range []struct {
		m    amclient.Matcher
		want labels.MatchType
	}{
		{amclient.Matcher{IsEqual: true}, labels.MatchEqual},
		{amclient.Matcher{}, labels.MatchNotEqual},
		{amclient.Matcher{IsRegex: true, IsEqual: true}, labels.MatchRegexp},
		{amclient.Matcher{IsRegex: true}, labels.MatchNotRegexp},
	} {
		if got := tc.m.Type(); got != tc.want {
			t.Errorf("%+v.Type() = %s, want %s", tc.m, got, tc.want)
		}
	}
}
