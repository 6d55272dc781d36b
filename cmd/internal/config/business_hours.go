package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BusinessHours are a route's business hours: its silence menu then offers
// a silence until the start of the next business day. The checks here
// follow those of amslack's businesshours package, which the wiring builds
// the hours with; this package imports no behaviour package.
type BusinessHours struct {
	// TimeZone is the IANA name of the zone of the other keys, such as
	// Europe/Berlin; business days keep their wall-clock times across
	// daylight-saving changes.
	TimeZone string `yaml:"time_zone"`
	// Start and End bound a business day, as HH:MM; End may be 24:00.
	Start string `yaml:"start"`
	End   string `yaml:"end"`
	// Days are the business days, from mon to sun (default
	// DefaultBusinessDays).
	Days []string `yaml:"days,omitempty"`
	// Holidays are dates, as YYYY-MM-DD, that are not business days.
	Holidays []string `yaml:"holidays,omitempty"`

	// Location is the loaded TimeZone.
	Location *time.Location `yaml:"-"`
}

// DefaultBusinessDays are business_hours.days when they are not set.
var DefaultBusinessDays = []string{"mon", "tue", "wed", "thu", "fri"}

// weekDays are the names of the days business_hours.days accepts, from
// Monday.
var weekDays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// dayClock matches H:MM and HH:MM.
var dayClock = regexp.MustCompile(`^([0-9]{1,2}):([0-9]{2})$`)

// clockMinutes returns the minutes since midnight of s, as HH:MM from
// 00:00 to 23:59, or 24:00 when endOfDay is set.
func clockMinutes(s string, endOfDay bool) (int, bool) {
	m := dayClock.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mm, _ := strconv.Atoi(m[2])
	c := h*60 + mm
	if mm > 59 || c > 24*60 || (c == 24*60 && !endOfDay) {
		return 0, false
	}
	return c, true
}

// namedZone loads the IANA time zone name. It refuses Local: the machine's
// zone would change with where amslack runs.
func namedZone(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errors.New(`must name a time zone such as "Europe/Berlin", not "Local"`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf(`unknown time zone %q: use an IANA name such as "Europe/Berlin" or "America/New_York"`, name)
	}
	return loc, nil
}

// validateBusinessHours fills in the defaults of the route's business hours
// and checks them.
func (r *Route) validateBusinessHours(key string) []error {
	b := r.BusinessHours
	if b == nil {
		return nil
	}
	key += ".business_hours"
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch b.TimeZone {
	case "":
		bad(key+".time_zone", `must be set, as an IANA time zone name such as "Europe/Berlin"`)
	default:
		var err error
		if b.Location, err = namedZone(b.TimeZone); err != nil {
			bad(key+".time_zone", "%v", err)
		}
	}
	start, startOK := clockMinutes(b.Start, false)
	end, endOK := clockMinutes(b.End, true)
	switch {
	case b.Start == "":
		bad(key+".start", `must be set, as HH:MM (such as "09:00")`)
	case !startOK:
		bad(key+".start", `must be a time of day as HH:MM from 00:00 to 23:59, got %q`, b.Start)
	}
	switch {
	case b.End == "":
		bad(key+".end", `must be set, as HH:MM (such as "18:00")`)
	case !endOK:
		bad(key+".end", `must be a time of day as HH:MM from 00:00 to 24:00, got %q`, b.End)
	case startOK && end <= start:
		bad(key+".end", "%q is not after start %q", b.End, b.Start)
	}
	if len(b.Days) == 0 {
		b.Days = slices.Clone(DefaultBusinessDays)
	}
	seen := map[string]bool{}
	for i, d := range b.Days {
		name := strings.ToLower(d)
		switch {
		case !slices.Contains(weekDays, name):
			bad(fmt.Sprintf("%s.days[%d]", key, i), "%q is not a day (%s)", d, strings.Join(weekDays, " "))
		case seen[name]:
			bad(fmt.Sprintf("%s.days[%d]", key, i), "%q is listed twice", d)
		}
		seen[name] = true
	}
	for i, h := range b.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			bad(fmt.Sprintf("%s.holidays[%d]", key, i), "%q is not a date (YYYY-MM-DD)", h)
		}
	}
	return errs
}
