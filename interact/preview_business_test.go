package interact

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/interact/businesshours"
	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
	"github.com/amslack/amslack/render"
)

// berlinHours are business hours in Berlin, from Monday to Friday, with
// Monday 1 December 2025 a holiday.
func berlinHours(t *testing.T) *businesshours.Hours {
	t.Helper()
	h, err := businesshours.Parse("Europe/Berlin", "09:00", "18:00", []string{"mon", "tue", "wed", "thu", "fri"}, []string{"2025-12-01"})
	if err != nil {
		t.Fatal(err)
	}
	return &h
}

// silenceValues returns the option values of the silence select among cs.
func silenceValues(cs []render.Control) []string {
	var values []string
	for _, c := range cs {
		if c.ActionID == ActionSilence {
			for _, o := range c.Options {
				values = append(values, o.Value)
			}
		}
	}
	return values
}

// TestSilenceUntilBusinessDay checks the silence select's option until the
// next business day: offered only on routes with business hours; chosen on
// Friday 18:30 in Berlin before a Monday holiday, it silences the group
// until Tuesday 09:00 in Berlin, and tells the clicker, who is in New York,
// when that is on their clock.
func TestSilenceUntilBusinessDay(t *testing.T) {
	if got := silenceValues(Controls(alertgroup.State{}, render.Options{BusinessDay: "09:00 Europe/Berlin"})); !slices.Contains(got, UntilBusiness) {
		t.Errorf("select of a route with business hours = %v, want %q among them", got, UntilBusiness)
	}
	if got := silenceValues(Controls(alertgroup.State{}, render.Options{})); slices.Contains(got, UntilBusiness) || len(got) == 0 {
		t.Errorf("select of a route without business hours = %v, want durations only", got)
	}

	friday := time.Date(2025, 11, 28, 17, 30, 0, 0, time.UTC) // 18:30 in Berlin
	tuesday := time.Date(2025, 12, 2, 8, 0, 0, 0, time.UTC)   // 09:00 in Berlin
	hours := berlinHours(t)
	am := &fakeAM{}
	p := newPreviewEnv(t, Options{
		Silences: am,
		Now:      func() time.Time { return friday },
		BusinessHours: func(route string) *businesshours.Hours {
			if route == "default" {
				return hours
			}
			return nil
		},
	})
	p.fake.SetUser(slackfake.User{ID: "U0002BOB", Name: "bob", TZ: "America/New_York"})
	seedGroup(t, p.groups.Groups, nil)

	p.post(t, clickSpec{action: ActionSilence, value: UntilBusiness, user: "U0002BOB", name: "bob", responseURL: p.sink.url("business")})
	if got, want := p.sink.next(t), "Silenced until Tue 09:00 Europe/Berlin · 03:00 your time (silence silence-1)."; got != want {
		t.Errorf("reply = %q, want %q", got, want)
	}
	cs := am.creates()
	if len(cs) != 1 || !cs[0].EndsAt.Equal(tuesday) || !cs[0].StartsAt.Equal(friday) {
		t.Fatalf("silences created = %+v, want one from Friday 18:30 to Tuesday 09:00 Berlin", cs)
	}
	if got := matcherMap(cs[0]); len(got) != 2 || got["cluster"] != "prod" {
		t.Errorf("matchers = %v, want the group's", got)
	}
	if m := getGroup(t, p.groups).State.Silenced; m == nil || !m.Until.Equal(tuesday) || m.SilenceID != "silence-1" {
		t.Errorf("silenced mark = %+v", m)
	}

	// The preview reads "business" as the same end.
	v := p.open(t, ActionSilenceCustom, CustomSilence)
	if hint := string(v.Raw); !strings.Contains(hint, `\"business\" for the next business day`) {
		t.Errorf("the preview does not offer business: %s", v.Raw)
	}
	v = p.edit(t, v, inputs{render.PreviewMatchersID: `alertname="DiskFull", cluster="prod"`, render.PreviewEndID: "business"}, render.PreviewEndID)
	if got := viewBlocks(t, v)["preview_ends"]; !strings.HasPrefix(got, "*Ends* Tue 2 Dec 2025 03:00 America/New_York (your time)") {
		t.Errorf("end = %q, want Tuesday 09:00 Berlin on the New York clock", got)
	}
}

// TestSilenceUntilBusinessDayWithoutHours checks that the option, clicked
// on a message whose route lost its business hours, silences nothing.
func TestSilenceUntilBusinessDayWithoutHours(t *testing.T) {
	am := &fakeAM{}
	e := newEnv(t, Options{Silences: am, BusinessHours: func(string) *businesshours.Hours { return nil }})
	seedGroup(t, e.groups.Groups, nil)
	e.post(t, clickSpec{action: ActionSilence, value: UntilBusiness, responseURL: e.sink.url("b")})
	if got := e.sink.next(t); !strings.Contains(got, "route has no business hours") {
		t.Errorf("reply = %q", got)
	}
	if n := len(am.creates()); n != 0 {
		t.Errorf("%d silences created", n)
	}
}
