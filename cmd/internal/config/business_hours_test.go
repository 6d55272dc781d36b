package config

import (
	"slices"
	"strings"
	"testing"
)

func TestBusinessHours(t *testing.T) {
	const route = "{channel: C0123456789, business_hours: "
	tests := []struct {
		name     string
		route    string
		days     []string
		holidays []string
		wantErr  []string
	}{
		{
			name:     "documented example",
			route:    route + `{time_zone: Europe/Berlin, start: "09:00", end: "18:00", days: [mon, tue, wed, thu, fri], holidays: ["2025-12-25", "2025-12-26"]}}`,
			days:     []string{"mon", "tue", "wed", "thu", "fri"},
			holidays: []string{"2025-12-25", "2025-12-26"},
		},
		{name: "default days", route: route + `{time_zone: UTC, start: "8:30", end: "24:00"}}`, days: DefaultBusinessDays},
		{name: "any case", route: route + `{time_zone: UTC, start: "09:00", end: "17:00", days: [Sat, SUN]}}`, days: []string{"Sat", "SUN"}},
		{name: "no zone", route: route + `{start: "09:00", end: "18:00"}}`, wantErr: []string{`routes[0].business_hours.time_zone: must be set`}},
		{name: "unknown zone", route: route + `{time_zone: Mars/Olympus, start: "09:00", end: "18:00"}}`, wantErr: []string{`routes[0].business_hours.time_zone: unknown time zone "Mars/Olympus"`}},
		{name: "local zone", route: route + `{time_zone: Local, start: "09:00", end: "18:00"}}`, wantErr: []string{`routes[0].business_hours.time_zone: must name a time zone`}},
		{name: "no start", route: route + `{time_zone: UTC, end: "18:00"}}`, wantErr: []string{`routes[0].business_hours.start: must be set`}},
		{name: "bad start", route: route + `{time_zone: UTC, start: "9am", end: "18:00"}}`, wantErr: []string{`routes[0].business_hours.start: must be a time of day as HH:MM from 00:00 to 23:59, got "9am"`}},
		{name: "start 24:00", route: route + `{time_zone: UTC, start: "24:00", end: "24:00"}}`, wantErr: []string{`routes[0].business_hours.start: must be a time of day`}},
		{name: "bad end", route: route + `{time_zone: UTC, start: "09:00", end: "18:60"}}`, wantErr: []string{`routes[0].business_hours.end: must be a time of day as HH:MM from 00:00 to 24:00, got "18:60"`}},
		{name: "end before start", route: route + `{time_zone: UTC, start: "18:00", end: "09:00"}}`, wantErr: []string{`routes[0].business_hours.end: "09:00" is not after start "18:00"`}},
		{name: "bad day", route: route + `{time_zone: UTC, start: "09:00", end: "18:00", days: [mon, mond]}}`, wantErr: []string{`routes[0].business_hours.days[1]: "mond" is not a day (mon tue wed thu fri sat sun)`}},
		{name: "day twice", route: route + `{time_zone: UTC, start: "09:00", end: "18:00", days: [mon, Mon]}}`, wantErr: []string{`routes[0].business_hours.days[1]: "Mon" is listed twice`}},
		{name: "bad holiday", route: route + `{time_zone: UTC, start: "09:00", end: "18:00", holidays: ["2025-12-25", "25.12.2025"]}}`, wantErr: []string{`routes[0].business_hours.holidays[1]: "25.12.2025" is not a date (YYYY-MM-DD)`}},
		{name: "unknown key", route: route + `{time_zone: UTC, start: "09:00", end: "18:00", weekdays: [mon]}}`, wantErr: []string{`routes[0].business_hours.weekdays: unknown key;`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseRoute(t, tt.route, tt.wantErr)
			if c == nil {
				return
			}
			b := c.Routes[0].BusinessHours
			if b.Location == nil || b.Location.String() != b.TimeZone {
				t.Errorf("location = %v, want %s", b.Location, b.TimeZone)
			}
			if !slices.Equal(b.Days, tt.days) || !slices.Equal(b.Holidays, tt.holidays) {
				t.Errorf("days %v, holidays %v; want %v, %v", b.Days, b.Holidays, tt.days, tt.holidays)
			}
		})
	}
}

// TestBusinessHoursProblemLine checks that a problem of the business hours
// names its key and line.
func TestBusinessHoursProblemLine(t *testing.T) {
	doc := "slack: {bot_token: xoxb-1}\nroutes:\n  - channel: C0123456789\n    business_hours:\n      time_zone: Europe/Berlin\n      start: \"09:00\"\n      end: \"18:00\"\n      days:\n        - mon\n        - fry\n"
	err := wantProblemAt(t, doc, "routes[0].business_hours.days[1]", 10)
	if !strings.HasPrefix(err.Error(), "line 10: routes[0].business_hours.days[1]: \"fry\" is not a day") {
		t.Errorf("error = %q", err)
	}
}
