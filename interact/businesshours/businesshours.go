// Package businesshours computes when a route's business hours next begin,
// so that a silence can last "until next business day 09:00".
//
// The package reads no clock: every instant comes in as an argument. Wall
// clock times are built with time.Date in the business hours' Location,
// never by adding 24 hours, so that 09:00 stays 09:00 local across
// daylight-saving changes.
//
// A start that falls in a daylight-saving gap (02:30 in Europe/Berlin on the
// last Sunday of March, when clocks jump from 02:00 to 03:00) resolves as
// time.Date resolves it: with the offset in force before the gap, which
// normalises it forward to 03:30 local; that day's hours are shorter, and
// empty if End comes before the resolved start. A start that occurs twice
// (02:30 on the last Sunday of October) also resolves as time.Date does,
// which Go documents as not guaranteed; Go 1.26 picks the second
// occurrence (02:30 CET), and the tests check it.
package businesshours

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Clock is a time of day in minutes since midnight, from 0 (00:00) to
// 1440 (24:00, the end of the day).
type Clock int

// String formats c as HH:MM.
func (c Clock) String() string {
	return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60)
}

// Date is a calendar date without a time or a time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// addDays returns the date n days after d. Dates are counted in UTC, which
// has no daylight saving, so every day has 24 hours.
func (d Date) addDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// weekday returns the day of the week of d.
func (d Date) weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()
}

// Hours are the business hours of a route: from Start to End on each of
// Days that is not one of Holidays, in Location. Build them with Parse,
// which checks what the methods rely on.
type Hours struct {
	// Location is the zone of Start, End, Days and Holidays, such as
	// Europe/Berlin.
	Location *time.Location
	// Start and End bound a business day; End is after Start.
	Start, End Clock
	// Days are the business days, indexed by time.Weekday.
	Days [7]bool
	// Holidays are dates in Location that are not business days.
	Holidays map[Date]bool
}

// dayKeys are the accepted names of days, indexed by time.Weekday.
var dayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// dayList lists dayKeys from Monday, for error messages.
const dayList = "mon tue wed thu fri sat sun"

// Parse builds Hours from the strings of a route's business_hours
// configuration: tz is an IANA time zone name, start and end are times of
// day as HH:MM (end may be 24:00), days are names from mon to sun in any
// case, and holidays are dates as YYYY-MM-DD. Errors name the key and the
// value that is wrong, as in
//
//	business_hours.days: "mond" is not a day (mon tue wed thu fri sat sun)
//
// Parse loads the zone with time.LoadLocation, which reads the system's
// time zone database or the one embedded by importing time/tzdata.
func Parse(tz, start, end string, days, holidays []string) (Hours, error) {
	var h Hours
	var err error
	if h.Location, err = parseZone(tz); err != nil {
		return Hours{}, err
	}
	if h.Start, err = parseClock("start", start, false); err != nil {
		return Hours{}, err
	}
	if h.End, err = parseClock("end", end, true); err != nil {
		return Hours{}, err
	}
	if h.End <= h.Start {
		return Hours{}, fmt.Errorf("business_hours.end: %q is not after start %q", end, start)
	}
	if h.Days, err = parseDays(days); err != nil {
		return Hours{}, err
	}
	if h.Holidays, err = parseHolidays(holidays); err != nil {
		return Hours{}, err
	}
	return h, nil
}

// parseZone loads an IANA time zone. "Local" is refused because it would
// make the hours depend on the machine that runs amslack.
func parseZone(tz string) (*time.Location, error) {
	if tz == "" || tz == "Local" {
		return nil, fmt.Errorf("business_hours.time_zone: %q is not a time zone name (such as Europe/Berlin)", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("business_hours.time_zone: %q is not a known time zone (such as Europe/Berlin)", tz)
	}
	return loc, nil
}

// parseClock parses H:MM or HH:MM from 00:00 to 23:59, and 24:00 when
// endOfDay is set.
func parseClock(key, s string, endOfDay bool) (Clock, error) {
	bad := func() (Clock, error) {
		limit := "23:59"
		if endOfDay {
			limit = "24:00"
		}
		return 0, fmt.Errorf("business_hours.%s: %q is not a time of day (HH:MM, 00:00 to %s)", key, s, limit)
	}
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 || !digits(hh) || !digits(mm) {
		return bad()
	}
	h, _ := strconv.Atoi(hh)
	m, _ := strconv.Atoi(mm)
	c := Clock(h*60 + m)
	if m > 59 || c > 24*60 || (c == 24*60 && !endOfDay) {
		return bad()
	}
	return c, nil
}

// digits reports whether s is made of ASCII digits only.
func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// parseDays parses day names; at least one is required and none may repeat.
func parseDays(days []string) ([7]bool, error) {
	var set [7]bool
	for _, s := range days {
		d, ok := parseDay(s)
		if !ok {
			return set, fmt.Errorf("business_hours.days: %q is not a day (%s)", s, dayList)
		}
		if set[d] {
			return set, fmt.Errorf("business_hours.days: %q is listed twice", s)
		}
		set[d] = true
	}
	if set == [7]bool{} {
		return set, fmt.Errorf("business_hours.days: no business day is listed (%s)", dayList)
	}
	return set, nil
}

// parseDay looks a day name up in dayKeys, ignoring case.
func parseDay(s string) (time.Weekday, bool) {
	for d, key := range dayKeys {
		if strings.EqualFold(s, key) {
			return time.Weekday(d), true
		}
	}
	return 0, false
}

// parseHolidays parses YYYY-MM-DD dates. A date listed twice counts once.
func parseHolidays(holidays []string) (map[Date]bool, error) {
	set := make(map[Date]bool, len(holidays))
	for _, s := range holidays {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, fmt.Errorf("business_hours.holidays: %q is not a date (YYYY-MM-DD)", s)
		}
		set[DateOf(t)] = true
	}
	return set, nil
}

// businessDay reports whether d is one of h's days and not a holiday.
func (h Hours) businessDay(d Date) bool {
	return h.Days[d.weekday()] && !h.Holidays[d]
}

// at returns the instant of the wall clock time c on date d in h's
// Location. A time in a daylight-saving gap or overlap resolves as
// time.Date resolves it; 24:00 is midnight at the end of d.
func (h Hours) at(d Date, c Clock) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(c)/60, int(c)%60, 0, 0, h.Location)
}

// NextStart returns the start of the first business day whose start is
// after now: today's start when now is before it on a business day,
// otherwise the start of the next business day, skipping days that are not
// in Days and Holidays. The result is in h's Location. It returns the zero
// Time if h has no business day, which Parse does not allow.
func (h Hours) NextStart(now time.Time) time.Time {
	d := DateOf(now.In(h.Location))
	// Any 7 consecutive days hold one day of Days, so the 7*(n+1) days
	// after today hold n+1 of them, and n holidays cannot cover them all.
	for range 7*(len(h.Holidays)+1) + 1 {
		if h.businessDay(d) {
			if start := h.at(d, h.Start); start.After(now) {
				return start
			}
		}
		d = d.addDays(1)
	}
	return time.Time{}
}

// Open reports whether now is within business hours: on a business day, at
// or after that day's start and before its end.
func (h Hours) Open(now time.Time) bool {
	d := DateOf(now.In(h.Location))
	if !h.businessDay(d) {
		return false
	}
	return !now.Before(h.at(d, h.Start)) && now.Before(h.at(d, h.End))
}

// MaxLabelLength is the longest label that Label returns, in characters:
// Slack's limit for the text of an option object
// (https://api.slack.com/reference/block-kit/composition-objects#option).
const MaxLabelLength = 75

// Label returns the text of the silence menu option that ends at
// h.NextStart(now), such as
//
//	Until Mon 09:00 (Europe/Berlin)
//
// and, when the wall clock in the viewer's zone shows another time at that
// instant,
//
//	Until Mon 09:00 Europe/Berlin · 08:00 your time
//
// with the viewer's weekday when the viewer's date differs. A start a week
// or more away also shows its date (Until Mon 4 Jan 09:00), since its
// weekday alone would be ambiguous. When the zone's name would make the
// label longer than MaxLabelLength characters, the zone's abbreviation
// (CET) takes its place, and a label still too long is cut. A nil viewer
// omits the viewer's time; Hours without a business day give "".
func (h Hours) Label(now time.Time, viewer *time.Location) string {
	start := h.NextStart(now)
	if start.IsZero() {
		return ""
	}
	when := start.Format("Mon 15:04")
	if daysBetween(DateOf(now.In(h.Location)), DateOf(start)) >= 7 {
		when = start.Format("Mon 2 Jan 15:04")
	}
	var label string
	for _, zone := range []string{h.Location.String(), start.Format("MST")} {
		label = "Until " + when + " (" + zone + ")"
		if yours := viewerTime(start, viewer); yours != "" {
			label = "Until " + when + " " + zone + " · " + yours + " your time"
		}
		if utf8.RuneCountInString(label) <= MaxLabelLength {
			return label
		}
	}
	return string([]rune(label)[:MaxLabelLength-1]) + "…"
}

// viewerTime formats start on the viewer's wall clock, with the weekday
// when the viewer's date differs from the date in start's location. It
// returns "" when viewer is nil or its wall clock shows the same date and
// time.
func viewerTime(start time.Time, viewer *time.Location) string {
	if viewer == nil {
		return ""
	}
	v := start.In(viewer)
	switch {
	case DateOf(v) != DateOf(start):
		return v.Format("Mon 15:04")
	case v.Hour() != start.Hour() || v.Minute() != start.Minute():
		return v.Format("15:04")
	}
	return ""
}

// daysBetween returns the number of calendar days from a to b.
func daysBetween(a, b Date) int {
	ta := time.Date(a.Year, a.Month, a.Day, 0, 0, 0, 0, time.UTC)
	tb := time.Date(b.Year, b.Month, b.Day, 0, 0, 0, 0, time.UTC)
	return int(tb.Sub(ta) / (24 * time.Hour))
}
