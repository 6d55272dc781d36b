package interact

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Bounds of Digest.Every.
const (
	MinDigestEvery = time.Hour
	MaxDigestEvery = 7 * 24 * time.Hour
)

const day = 24 * time.Hour

// Digest is a route's digest: a message to Channel at set times that lists
// the route's groups still firing, those resolved since the last digest,
// and the silences over them that end before the next one.
//
// Its due times are wall-clock times in Location: At after midnight and
// then every Every, each day, when Every divides a day (1h, 6h, 12h, 24h);
// At on every Every/24h-th day, counted from 1970-01-01, when Every is a
// whole number of days. Wall-clock times keep a daily digest at 09:00
// across changes of daylight saving time, so that the day of the change
// is an hour shorter or longer. A time that a change skips (02:30 on the
// day clocks go from 02:00 to 03:00) is taken as Go's time.Date takes it,
// and one that a change repeats happens once.
type Digest struct {
	// Route names the route whose groups the digest lists.
	Route   string
	Channel string
	Every   time.Duration
	// At is the time of day of the first due time, after midnight.
	At       time.Duration
	Location *time.Location
}

// Validate checks d's schedule.
func (d Digest) Validate() error {
	var errs []error
	switch {
	case d.Every < MinDigestEvery || d.Every > MaxDigestEvery:
		errs = append(errs, fmt.Errorf("every: must be between %s and %s, got %s", MinDigestEvery, MaxDigestEvery, d.Every))
	case d.Every%time.Minute != 0 || (day%d.Every != 0 && d.Every%day != 0):
		errs = append(errs, fmt.Errorf("every: must divide a day (such as 6h or 12h) or be a whole number of days (such as 24h or 168h), got %s", d.Every))
	}
	if d.At < 0 || d.At >= day || d.At%time.Minute != 0 {
		errs = append(errs, fmt.Errorf("at: must be a time of day to the minute, got %s", d.At))
	}
	if d.Location == nil {
		errs = append(errs, errors.New("time zone: missing"))
	}
	if d.Channel == "" {
		errs = append(errs, errors.New("channel: missing"))
	}
	return errors.Join(errs...)
}

// days is how many days lie between due times, or 1 when there are several
// a day.
func (d Digest) days() int {
	if d.Every >= day {
		return int(d.Every / day)
	}
	return 1
}

// dueOn returns the due times on the day y-m-dd in d's location, in order.
func (d Digest) dueOn(y int, m time.Month, dd int) []time.Time {
	if d.Every <= 0 || d.Location == nil {
		return nil
	}
	if d.Every >= day {
		// Days since 1970-01-01, counted on the calendar, not in hours,
		// which changes of daylight saving time would make uneven.
		n := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Unix() / int64(day/time.Second)
		if n%int64(d.days()) != 0 {
			return nil
		}
		return []time.Time{d.wallClock(y, m, dd, d.At)}
	}
	var out []time.Time
	for k := range day / d.Every {
		out = append(out, d.wallClock(y, m, dd, (d.At+k*d.Every)%day))
	}
	// Times that wrapped past midnight come before the others.
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// wallClock is the time of day tod on the day y-m-dd in d's location.
func (d Digest) wallClock(y int, m time.Month, dd int, tod time.Duration) time.Time {
	return time.Date(y, m, dd, int(tod/time.Hour), int(tod%time.Hour/time.Minute), 0, 0, d.Location)
}

// Last returns the latest due time at or before t, or the zero time when
// d's schedule is not valid.
func (d Digest) Last(t time.Time) time.Time {
	if d.Location == nil {
		return time.Time{}
	}
	y, m, dd := t.In(d.Location).Date()
	// The day of t, and enough days before it to hold one due time.
	for back := 0; back <= d.days()+1; back++ {
		var last time.Time
		for _, due := range d.dueOn(y, m, dd-back) {
			if !due.After(t) {
				last = due
			}
		}
		if !last.IsZero() {
			return last
		}
	}
	return time.Time{}
}

// Next returns the earliest due time after t, or the zero time when d's
// schedule is not valid.
func (d Digest) Next(t time.Time) time.Time {
	if d.Location == nil {
		return time.Time{}
	}
	y, m, dd := t.In(d.Location).Date()
	// The day of t, and enough days after it to hold one due time.
	for fwd := 0; fwd <= d.days()+1; fwd++ {
		for _, due := range d.dueOn(y, m, dd+fwd) {
			if due.After(t) {
				return due
			}
		}
	}
	return time.Time{}
}
