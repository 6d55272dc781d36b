package businesshours

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below resolve on machines without a zone database
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// shown is the layout that tests compare instants in: the weekday, the
// wall clock and the UTC offset pin both the local reading and the instant.
const shown = "Mon 2006-01-02 15:04 -0700 MST"

var weekdays = []string{"mon", "tue", "wed", "thu", "fri"}

// mustParse is Parse for arguments that a test knows to be valid.
func mustParse(t testing.TB, tz, start, end string, days, holidays []string) Hours {
	t.Helper()
	h, err := Parse(tz, start, end, days, holidays)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// at reads "2006-01-02 15:04" as a wall clock time in the zone tz.
func at(t testing.TB, tz, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParse(t *testing.T) {
	h, err := Parse("Europe/Berlin", "9:00", "18:30", []string{"Mon", "TUE", "fri"}, []string{"2026-12-25", "2026-12-26", "2026-12-25"})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Location.String(); got != "Europe/Berlin" {
		t.Errorf("Location = %s", got)
	}
	if h.Start != 9*60 || h.End != 18*60+30 {
		t.Errorf("Start, End = %s, %s; want 09:00, 18:30", h.Start, h.End)
	}
	wantDays := [7]bool{time.Monday: true, time.Tuesday: true, time.Friday: true}
	if diff := cmp.Diff(h.Days, wantDays); diff != "" {
		t.Errorf("Days (-got +want):\n%s", diff)
	}
	wantHolidays := map[Date]bool{{2026, time.December, 25}: true, {2026, time.December, 26}: true}
	if diff := cmp.Diff(h.Holidays, wantHolidays); diff != "" {
		t.Errorf("Holidays (-got +want):\n%s", diff)
	}

	whole, err := Parse("UTC", "00:00", "24:00", []string{"sat", "sun"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if whole.End != 24*60 || whole.End.String() != "24:00" {
		t.Errorf("End = %s, want 24:00", whole.End)
	}
}

func TestParseErrors(t *testing.T) {
	type args struct {
		tz, start, end string
		days, holidays []string
	}
	valid := args{"Europe/Berlin", "09:00", "18:00", weekdays, []string{"2026-12-25"}}
	for _, tc := range []struct {
		name string
		edit func(*args)
		want string
	}{
		{"empty zone", func(a *args) { a.tz = "" }, `business_hours.time_zone: "" is not a time zone name (such as Europe/Berlin)`},
		{"Local zone", func(a *args) { a.tz = "Local" }, `business_hours.time_zone: "Local" is not a time zone name (such as Europe/Berlin)`},
		{"unknown zone", func(a *args) { a.tz = "Europe/Berlim" }, `business_hours.time_zone: "Europe/Berlim" is not a known time zone (such as Europe/Berlin)`},
		{"zone path", func(a *args) { a.tz = "../../etc/passwd" }, `business_hours.time_zone: "../../etc/passwd" is not a known time zone (such as Europe/Berlin)`},
		{"start without colon", func(a *args) { a.start = "0900" }, `business_hours.start: "0900" is not a time of day (HH:MM, 00:00 to 23:59)`},
		{"start one-digit minutes", func(a *args) { a.start = "9:0" }, `business_hours.start: "9:0" is not a time of day (HH:MM, 00:00 to 23:59)`},
		{"start minutes 60", func(a *args) { a.start = "09:60" }, `business_hours.start: "09:60" is not a time of day (HH:MM, 00:00 to 23:59)`},
		{"start 24:00", func(a *args) { a.start = "24:00" }, `business_hours.start: "24:00" is not a time of day (HH:MM, 00:00 to 23:59)`},
		{"start sign", func(a *args) { a.start = "+9:00" }, `business_hours.start: "+9:00" is not a time of day (HH:MM, 00:00 to 23:59)`},
		{"start seconds", func(a *args) { a.start = "09:00:00" }, `business_hours.start: "09:00:00" is not a time of day (HH:MM, 00:00 to 23:59)`},
		{"end 24:01", func(a *args) { a.end = "24:01" }, `business_hours.end: "24:01" is not a time of day (HH:MM, 00:00 to 24:00)`},
		{"end 25:00", func(a *args) { a.end = "25:00" }, `business_hours.end: "25:00" is not a time of day (HH:MM, 00:00 to 24:00)`},
		{"end empty", func(a *args) { a.end = "" }, `business_hours.end: "" is not a time of day (HH:MM, 00:00 to 24:00)`},
		{"end before start", func(a *args) { a.end = "08:00" }, `business_hours.end: "08:00" is not after start "09:00"`},
		{"end equals start", func(a *args) { a.end = "9:00" }, `business_hours.end: "9:00" is not after start "09:00"`},
		{"misspelt day", func(a *args) { a.days = []string{"mon", "mond"} }, `business_hours.days: "mond" is not a day (mon tue wed thu fri sat sun)`},
		{"long day name", func(a *args) { a.days = []string{"monday"} }, `business_hours.days: "monday" is not a day (mon tue wed thu fri sat sun)`},
		{"repeated day", func(a *args) { a.days = []string{"mon", "Mon"} }, `business_hours.days: "Mon" is listed twice`},
		{"all days off", func(a *args) { a.days = nil }, `business_hours.days: no business day is listed (mon tue wed thu fri sat sun)`},
		{"all days off, empty list", func(a *args) { a.days = []string{} }, `business_hours.days: no business day is listed (mon tue wed thu fri sat sun)`},
		{"holiday day out of range", func(a *args) { a.holidays = []string{"2026-02-30"} }, `business_hours.holidays: "2026-02-30" is not a date (YYYY-MM-DD)`},
		{"holiday month 13", func(a *args) { a.holidays = []string{"2026-13-01"} }, `business_hours.holidays: "2026-13-01" is not a date (YYYY-MM-DD)`},
		{"holiday other layout", func(a *args) { a.holidays = []string{"25.12.2026"} }, `business_hours.holidays: "25.12.2026" is not a date (YYYY-MM-DD)`},
		{"holiday with time", func(a *args) { a.holidays = []string{"2026-12-25T00:00:00Z"} }, `business_hours.holidays: "2026-12-25T00:00:00Z" is not a date (YYYY-MM-DD)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := valid
			tc.edit(&a)
			_, err := Parse(a.tz, a.start, a.end, a.days, a.holidays)
			if err == nil {
				t.Fatalf("Parse(%q, %q, %q, %q, %q) = nil error, want %s", a.tz, a.start, a.end, a.days, a.holidays, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error = %s\nwant    %s", got, tc.want)
			}
		})
	}
}

func TestNextStart(t *testing.T) {
	all := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	christmas := []string{"2026-12-24", "2026-12-25", "2026-12-26", "2026-12-31", "2027-01-01"}
	for _, tc := range []struct {
		name           string
		tz, start      string
		days, holidays []string
		now            string // wall clock in tz
		want           string // in the shown layout
	}{
		{"Friday evening to Monday", "Europe/Berlin", "09:00", weekdays, nil, "2026-03-06 18:30", "Mon 2026-03-09 09:00 +0100 CET"},
		{"before today's start", "Europe/Berlin", "09:00", weekdays, nil, "2026-03-09 08:00", "Mon 2026-03-09 09:00 +0100 CET"},
		{"after today's start", "Europe/Berlin", "09:00", weekdays, nil, "2026-03-09 10:00", "Tue 2026-03-10 09:00 +0100 CET"},
		{"at today's start", "Europe/Berlin", "09:00", weekdays, nil, "2026-03-09 09:00", "Tue 2026-03-10 09:00 +0100 CET"},
		{"just after midnight", "Europe/Berlin", "09:00", weekdays, nil, "2026-03-10 00:00", "Tue 2026-03-10 09:00 +0100 CET"},
		{"Saturday", "Europe/Berlin", "09:00", weekdays, nil, "2026-03-07 12:00", "Mon 2026-03-09 09:00 +0100 CET"},
		{"Sunday evening", "Europe/Berlin", "09:00", weekdays, nil, "2026-03-08 23:59", "Mon 2026-03-09 09:00 +0100 CET"},
		{"UTC date already the next day", "America/Los_Angeles", "20:00", weekdays, nil, "2026-03-09 19:00", "Mon 2026-03-09 20:00 -0700 PDT"},
		{"one business day a week", "Europe/Berlin", "09:00", []string{"wed"}, nil, "2026-03-11 09:30", "Wed 2026-03-18 09:00 +0100 CET"},

		// Clocks go forward in Berlin at 02:00 on Sunday 29 March 2026.
		{"weekend of the March change", "Europe/Berlin", "09:00", weekdays, nil, "2026-03-27 18:30", "Mon 2026-03-30 09:00 +0200 CEST"},
		{"day after the March change", "Europe/Berlin", "09:00", all, nil, "2026-03-29 10:00", "Mon 2026-03-30 09:00 +0200 CEST"},
		{"day of the March change", "Europe/Berlin", "09:00", all, nil, "2026-03-28 09:30", "Sun 2026-03-29 09:00 +0200 CEST"},
		{"start in the March gap", "Europe/Berlin", "02:30", all, nil, "2026-03-28 12:00", "Sun 2026-03-29 03:30 +0200 CEST"},
		{"after the start in the March gap", "Europe/Berlin", "02:30", all, nil, "2026-03-29 03:45", "Mon 2026-03-30 02:30 +0200 CEST"},

		// Clocks go back in Berlin at 03:00 on Sunday 25 October 2026.
		{"weekend of the October change", "Europe/Berlin", "09:00", weekdays, nil, "2026-10-23 18:30", "Mon 2026-10-26 09:00 +0100 CET"},
		{"day of the October change", "Europe/Berlin", "09:00", all, nil, "2026-10-24 09:30", "Sun 2026-10-25 09:00 +0100 CET"},
		{"start in the October overlap", "Europe/Berlin", "02:30", all, nil, "2026-10-24 12:00", "Sun 2026-10-25 02:30 +0100 CET"},

		{"holiday on Monday", "Europe/Berlin", "09:00", weekdays, []string{"2026-04-06"}, "2026-04-03 18:30", "Tue 2026-04-07 09:00 +0200 CEST"},
		{"holiday today", "Europe/Berlin", "09:00", weekdays, []string{"2026-04-06"}, "2026-04-06 07:00", "Tue 2026-04-07 09:00 +0200 CEST"},
		{"holiday on a weekend", "Europe/Berlin", "09:00", weekdays, []string{"2026-03-07"}, "2026-03-06 18:30", "Mon 2026-03-09 09:00 +0100 CET"},
		{"Christmas", "Europe/Berlin", "09:00", weekdays, christmas, "2026-12-23 18:30", "Mon 2026-12-28 09:00 +0100 CET"},
		{"New Year", "Europe/Berlin", "09:00", weekdays, christmas, "2026-12-30 18:30", "Mon 2027-01-04 09:00 +0100 CET"},
		{"two weeks off", "Europe/Berlin", "09:00", weekdays, []string{
			"2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24", "2026-12-25",
			"2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01",
		}, "2026-12-18 18:30", "Mon 2027-01-04 09:00 +0100 CET"},

		// Clocks go back in Sydney at 03:00 on Sunday 5 April 2026 and
		// forward at 02:00 on Sunday 4 October 2026.
		{"Sydney, weekend of the April change", "Australia/Sydney", "09:00", weekdays, nil, "2026-04-03 18:30", "Mon 2026-04-06 09:00 +1000 AEST"},
		{"Sydney, weekend of the October change", "Australia/Sydney", "09:00", weekdays, nil, "2026-10-02 18:30", "Mon 2026-10-05 09:00 +1100 AEDT"},
		{"Sydney, day of the October change", "Australia/Sydney", "09:00", all, nil, "2026-10-03 09:30", "Sun 2026-10-04 09:00 +1100 AEDT"},
		{"Sydney, start in the October gap", "Australia/Sydney", "02:30", all, nil, "2026-10-03 12:00", "Sun 2026-10-04 03:30 +1100 AEDT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mustParse(t, tc.tz, tc.start, "23:00", tc.days, tc.holidays)
			now := at(t, tc.tz, tc.now)
			if got := h.NextStart(now).Format(shown); got != tc.want {
				t.Errorf("NextStart(%s) = %s, want %s", now.Format(shown), got, tc.want)
			}
			// The zone that now comes in does not change the instant.
			if got := h.NextStart(now.UTC()).Format(shown); got != tc.want {
				t.Errorf("NextStart(%s) = %s, want %s", now.UTC().Format(shown), got, tc.want)
			}
		})
	}
}

// TestNextStartAcrossChanges checks that the UTC offset of the result
// follows the zone, and that the time between consecutive starts is not
// a whole number of days across a change.
func TestNextStartAcrossChanges(t *testing.T) {
	h := mustParse(t, "Europe/Berlin", "09:00", "18:00", weekdays, nil)
	for _, tc := range []struct {
		name       string
		now        string
		wantUTC    string
		wantOffset time.Duration
		wantGap    time.Duration // from the previous Friday's start
	}{
		{"March", "2026-03-27 18:30", "2026-03-30T07:00:00Z", 2 * time.Hour, 3*24*time.Hour - time.Hour},
		{"October", "2026-10-23 18:30", "2026-10-26T08:00:00Z", time.Hour, 3*24*time.Hour + time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := h.NextStart(at(t, "Europe/Berlin", tc.now))
			if s := got.UTC().Format(time.RFC3339); s != tc.wantUTC {
				t.Errorf("NextStart = %s, want %s", s, tc.wantUTC)
			}
			if _, off := got.Zone(); time.Duration(off)*time.Second != tc.wantOffset {
				t.Errorf("offset = %ds, want %s", off, tc.wantOffset)
			}
			friday := at(t, "Europe/Berlin", tc.now[:len("2006-01-02")]+" 09:00")
			if gap := got.Sub(friday); gap != tc.wantGap {
				t.Errorf("from Friday's start = %s, want %s", gap, tc.wantGap)
			}
		})
	}
}

// TestNextStartYear checks every half hour of 2026 in two hemispheres: the
// result is after now, at 09:00 local on a business day, no more than
// three days on, and no business day starts in between.
func TestNextStartYear(t *testing.T) {
	for _, tz := range []string{"Europe/Berlin", "Australia/Sydney", "America/New_York"} {
		h := mustParse(t, tz, "09:00", "18:00", weekdays, nil)
		from := at(t, tz, "2026-01-01 00:00")
		for now := from; now.Year() == 2026; now = now.Add(30 * time.Minute) {
			got := h.NextStart(now)
			local := got.In(h.Location)
			switch {
			case !got.After(now):
				t.Fatalf("%s: NextStart(%s) = %s, not after now", tz, now, got)
			case local.Hour() != 9 || local.Minute() != 0:
				t.Fatalf("%s: NextStart(%s) = %s, not 09:00 local", tz, now, got)
			case local.Weekday() == time.Saturday || local.Weekday() == time.Sunday:
				t.Fatalf("%s: NextStart(%s) = %s, on a weekend", tz, now, got)
			case got.Sub(now) > 3*24*time.Hour+time.Hour:
				t.Fatalf("%s: NextStart(%s) = %s, too far", tz, now, got)
			}
			if h.Open(now) && DateOf(local) == DateOf(now.In(h.Location)) {
				t.Fatalf("%s: NextStart(%s) = %s, today while open", tz, now, got)
			}
		}
	}
}

func TestNextStartWithoutBusinessDay(t *testing.T) {
	h := Hours{Location: time.UTC, Start: 9 * 60, End: 18 * 60}
	if got := h.NextStart(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)); !got.IsZero() {
		t.Errorf("NextStart = %s, want the zero Time", got)
	}
	if got := h.Label(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC), nil); got != "" {
		t.Errorf("Label = %q, want empty", got)
	}
}

func TestOpen(t *testing.T) {
	all := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	for _, tc := range []struct {
		name, tz, start, end string
		days, holidays       []string
		now                  string // wall clock in tz
		want                 bool
	}{
		{"before start", "Europe/Berlin", "09:00", "18:00", weekdays, nil, "2026-03-09 08:59", false},
		{"at start", "Europe/Berlin", "09:00", "18:00", weekdays, nil, "2026-03-09 09:00", true},
		{"during", "Europe/Berlin", "09:00", "18:00", weekdays, nil, "2026-03-09 12:00", true},
		{"before end", "Europe/Berlin", "09:00", "18:00", weekdays, nil, "2026-03-09 17:59", true},
		{"at end", "Europe/Berlin", "09:00", "18:00", weekdays, nil, "2026-03-09 18:00", false},
		{"weekend", "Europe/Berlin", "09:00", "18:00", weekdays, nil, "2026-03-07 12:00", false},
		{"holiday", "Europe/Berlin", "09:00", "18:00", weekdays, []string{"2026-03-09"}, "2026-03-09 12:00", false},
		{"day after the March change", "Europe/Berlin", "09:00", "18:00", weekdays, nil, "2026-03-30 09:00", true},
		{"whole day", "UTC", "00:00", "24:00", all, nil, "2026-03-09 23:59", true},
		{"whole day, midnight", "UTC", "00:00", "24:00", all, nil, "2026-03-09 00:00", true},
		// With a start in the March gap, the day starts at 03:30, as
		// NextStart says.
		{"March gap, before the resolved start", "Europe/Berlin", "02:30", "18:00", all, nil, "2026-03-29 03:15", false},
		{"March gap, at the resolved start", "Europe/Berlin", "02:30", "18:00", all, nil, "2026-03-29 03:30", true},
		{"Sydney Monday morning", "Australia/Sydney", "09:00", "18:00", weekdays, nil, "2026-03-09 10:00", true},
		{"Sydney Saturday morning", "Australia/Sydney", "09:00", "18:00", weekdays, nil, "2026-03-07 10:00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mustParse(t, tc.tz, tc.start, tc.end, tc.days, tc.holidays)
			now := at(t, tc.tz, tc.now)
			if got := h.Open(now); got != tc.want {
				t.Errorf("Open(%s) = %v, want %v", now.Format(shown), got, tc.want)
			}
			// In UTC, Sydney's Monday morning is still Sunday.
			if got := h.Open(now.UTC()); got != tc.want {
				t.Errorf("Open(%s) = %v, want %v", now.UTC().Format(shown), got, tc.want)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	berlin := mustParse(t, "Europe/Berlin", "09:00", "18:00", weekdays, []string{
		"2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24", "2026-12-25",
		"2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01",
	})
	long := mustParse(t, "America/Argentina/ComodRivadavia", "09:00", "18:00", weekdays, []string{
		"2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24", "2026-12-25",
	})
	for _, tc := range []struct {
		name   string
		h      Hours
		now    string // wall clock in h's zone
		viewer string // "" for none
		want   string
	}{
		{"no viewer", berlin, "2026-03-06 18:30", "", "Until Mon 09:00 (Europe/Berlin)"},
		{"viewer in the same zone", berlin, "2026-03-06 18:30", "Europe/Berlin", "Until Mon 09:00 (Europe/Berlin)"},
		{"viewer on the same wall clock", berlin, "2026-03-06 18:30", "Europe/Paris", "Until Mon 09:00 (Europe/Berlin)"},
		{"viewer an hour behind", berlin, "2026-03-06 18:30", "Europe/London", "Until Mon 09:00 Europe/Berlin · 08:00 your time"},
		{"viewer on the next day", berlin, "2026-03-06 18:30", "Australia/Sydney", "Until Mon 09:00 Europe/Berlin · 19:00 your time"},
		{"viewer on the day before", berlin, "2026-03-06 18:30", "Pacific/Honolulu", "Until Mon 09:00 Europe/Berlin · Sun 22:00 your time"},
		{"viewer after the March change", berlin, "2026-03-27 18:30", "Europe/London", "Until Mon 09:00 Europe/Berlin · 08:00 your time"},
		{"viewer whose change comes first", berlin, "2026-03-13 18:30", "America/New_York", "Until Mon 09:00 Europe/Berlin · 04:00 your time"},
		{"two weeks off", berlin, "2026-12-18 18:30", "", "Until Mon 4 Jan 09:00 (Europe/Berlin)"},
		{"two weeks off, viewer", berlin, "2026-12-18 18:30", "Pacific/Honolulu", "Until Mon 4 Jan 09:00 Europe/Berlin · Sun 22:00 your time"},
		{"long zone name", long, "2026-03-06 18:30", "America/Argentina/Buenos_Aires", "Until Mon 09:00 (America/Argentina/ComodRivadavia)"},
		{"long zone name, viewer", long, "2026-03-06 18:30", "America/North_Dakota/New_Salem", "Until Mon 09:00 America/Argentina/ComodRivadavia · 07:00 your time"},
		{"long zone name and date, viewer", long, "2026-12-18 18:30", "Pacific/Kiritimati", "Until Mon 28 Dec 09:00 -03 · Tue 02:00 your time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var viewer *time.Location
			if tc.viewer != "" {
				var err error
				if viewer, err = time.LoadLocation(tc.viewer); err != nil {
					t.Fatal(err)
				}
			}
			got := tc.h.Label(at(t, tc.h.Location.String(), tc.now), viewer)
			if got != tc.want {
				t.Errorf("Label = %q\nwant    %q", got, tc.want)
			}
			if n := utf8.RuneCountInString(got); n > MaxLabelLength {
				t.Errorf("Label has %d characters, more than %d", n, MaxLabelLength)
			}
		})
	}
}

// TestLabelFits checks the limit with the longest zone names, each way
// round, and with a start a week away so that the date shows.
func TestLabelFits(t *testing.T) {
	zones := []string{
		"America/Argentina/ComodRivadavia", "America/Argentina/Buenos_Aires",
		"America/North_Dakota/New_Salem", "America/Indiana/Indianapolis",
		"Antarctica/DumontDUrville", "Pacific/Kiritimati", "Pacific/Pago_Pago",
		"Asia/Kathmandu", "Europe/Berlin", "UTC",
	}
	for _, tz := range zones {
		h := mustParse(t, tz, "23:30", "24:00", []string{"wed"}, nil)
		for _, v := range append(zones, "") {
			var viewer *time.Location
			if v != "" {
				viewer, _ = time.LoadLocation(v)
			}
			for _, now := range []string{"2026-03-11 23:45", "2026-10-07 23:45", "2026-06-10 00:00"} {
				got := h.Label(at(t, tz, now), viewer)
				if n := utf8.RuneCountInString(got); n > MaxLabelLength || !strings.HasPrefix(got, "Until ") {
					t.Errorf("%s, viewer %s, now %s: Label = %q (%d characters)", tz, v, now, got, n)
				}
			}
		}
	}

	// A zone whose name and abbreviation are both too long is cut.
	name := strings.Repeat("Z", 80)
	h := Hours{Location: time.FixedZone(name, 0), Start: 9 * 60, End: 18 * 60, Days: [7]bool{time.Monday: true}}
	got := h.Label(time.Date(2026, 3, 6, 18, 30, 0, 0, time.UTC), time.UTC)
	if n := utf8.RuneCountInString(got); n != MaxLabelLength || !strings.HasSuffix(got, "…") {
		t.Errorf("Label = %q (%d characters), want %d ending in …", got, n, MaxLabelLength)
	}
}

func FuzzParse(f *testing.F) {
	spring := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC).Unix()
	f.Add("Europe/Berlin", "09:00", "18:00", "mon,tue,wed,thu,fri", "2026-12-25,2026-12-26", spring)
	f.Add("Australia/Sydney", "9:00", "17:30", "MON,Wed,fri", "", int64(1790000000))
	f.Add("UTC", "00:00", "24:00", "sat,sun", "2028-02-29", int64(0))
	f.Add("Europe/Berlin", "02:30", "03:00", "sun", "2026-03-29", spring)
	f.Add("Local", "09:00", "08:00", "mond", "25.12.2026", int64(-1))
	f.Add("../etc/passwd", "24:00", "24:01", "", "2026-13-01", int64(1))
	f.Add("America/Argentina/ComodRivadavia", "23:59", "24:00", "mon,mon", "", spring)
	f.Fuzz(func(t *testing.T, tz, start, end, days, holidays string, unix int64) {
		h, err := Parse(tz, start, end, split(days), split(holidays))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "business_hours.") {
				t.Fatalf("error does not name its key: %v", err)
			}
			return
		}
		if h.Start < 0 || h.End <= h.Start || h.End > 24*60 || h.Days == [7]bool{} {
			t.Fatalf("Parse accepted %+v", h)
		}
		// Any instant from 1770 to 2170.
		const span = 400 * 365 * 24 * 60 * 60
		now := time.Unix(spring+unix%(span/2), 0)
		next := h.NextStart(now)
		if !next.After(now) {
			t.Fatalf("NextStart(%s) = %s, not after now", now, next)
		}
		// Unless a daylight-saving gap moved it, the start is at Start
		// local, and business hours are open then.
		if local := next.In(h.Location); Clock(local.Hour()*60+local.Minute()) == h.Start && !h.Open(next) {
			t.Fatalf("NextStart(%s) = %s, but not open then", now, next)
		}
		if label := h.Label(now, time.UTC); utf8.RuneCountInString(label) > MaxLabelLength || label == "" {
			t.Fatalf("Label = %q", label)
		}
	})
}

// split splits a comma-separated fuzz input into a list, empty for "".
func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
