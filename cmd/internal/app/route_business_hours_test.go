package app

import (
	"slices"
	"testing"
	"time"

	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// TestRouteBusinessHours checks that a route's business hours reach the
// silence select (as the option until the next business day) and the
// interaction handler (as hours it computes the end with), reloads
// included, and that a route without them offers durations only.
func TestRouteBusinessHours(t *testing.T) {
	a, reload := reloadingApp(t, func(start string) string {
		return `slack: {api_url: 'http://127.0.0.1:1/api/', bot_token: xoxb-x, signing_secret: s}
routes:
  - name: db
    channel: C0DB000001
    business_hours: {time_zone: Europe/Berlin, start: "` + start + `", end: "18:00", days: [mon, tue, wed, thu, fri], holidays: ["2025-12-25"]}
  - {name: web, channel: C0WEB00001}
`
	}, "09:00")
	selectValues := func(route string) []string {
		var values []string
		for _, c := range interact.Controls(alertgroup.State{}, a.routeOptions(route).Render) {
			if c.ActionID == interact.ActionSilence {
				for _, o := range c.Options {
					values = append(values, o.Value)
				}
			}
		}
		return values
	}
	// Friday 18:30 in Berlin: the next business day starts on Monday.
	friday := time.Date(2025, 11, 28, 17, 30, 0, 0, time.UTC)
	check := func(start string, want time.Time) {
		t.Helper()
		if got := selectValues("db"); !slices.Contains(got, render.UntilBusinessValue) {
			t.Errorf("db's silence select = %v, want %q among them", got, render.UntilBusinessValue)
		}
		if got := a.routeOptions("db").Render.BusinessDay; got != start+" Europe/Berlin" {
			t.Errorf("db's business day = %q", got)
		}
		h := a.routeBusinessHours("db")
		if h == nil {
			t.Fatal("no business hours for db")
		}
		if got := h.NextStart(friday); !got.Equal(want) {
			t.Errorf("NextStart(Friday 18:30 Berlin) = %v, want %v", got, want)
		}
	}
	check("09:00", time.Date(2025, 12, 1, 8, 0, 0, 0, time.UTC))
	if got := selectValues("web"); slices.Contains(got, render.UntilBusinessValue) {
		t.Errorf("web's silence select = %v, want durations only", got)
	}
	if a.routeBusinessHours("web") != nil {
		t.Error("web has business hours")
	}

	reload("10:30")
	check("10:30", time.Date(2025, 12, 1, 9, 30, 0, 0, time.UTC))
}
