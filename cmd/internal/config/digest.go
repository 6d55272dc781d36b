package config

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// Digest is a route's digest: one message to the route's channel at each
// due time, listing the route's groups still firing (with age and
// acknowledgement), those resolved since the last digest, and the
// Alertmanager silences over its groups that end before the next one.
// Nothing is posted when there is nothing to list.
type Digest struct {
	// Every is the time between digests (default DefaultDigestEvery): a
	// divisor of a day (1h, 6h, 12h) or a whole number of days, at least
	// MinDigestEvery and at most MaxDigestEvery.
	Every model.Duration `yaml:"every,omitempty"`
	// At is the wall-clock time of the first digest of a day, as HH:MM in
	// TimeZone; later ones follow every Every.
	At string `yaml:"at"`
	// TimeZone is the IANA name of the time zone of At (default UTC),
	// such as Europe/Berlin; digests keep their wall-clock time across
	// changes of daylight saving time.
	TimeZone string `yaml:"time_zone,omitempty"`

	// ParsedAt is At as a time after midnight, and Location the time zone.
	ParsedAt time.Duration  `yaml:"-"`
	Location *time.Location `yaml:"-"`
}

// Defaults and bounds of a route's digest.
const (
	DefaultDigestEvery = model.Duration(24 * time.Hour)
	MinDigestEvery     = time.Hour
	MaxDigestEvery     = 7 * 24 * time.Hour
)

// clockTime matches HH:MM on a 24-hour clock.
var clockTime = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// validateDigest fills in the defaults of the route's digest and checks it.
func (r *Route) validateDigest(key string) []error {
	d := r.Digest
	if d == nil {
		return nil
	}
	key += ".digest"
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if r.Channel == "" {
		bad(key, "only a route with a channel can have a digest; incoming webhooks cannot link to the messages")
	}
	if d.Every == 0 {
		d.Every = DefaultDigestEvery
	}
	const day = 24 * time.Hour
	switch every := time.Duration(d.Every); {
	case every < MinDigestEvery || every > MaxDigestEvery:
		bad(key+".every", "must be between %s and %s, got %s", model.Duration(MinDigestEvery), model.Duration(MaxDigestEvery), d.Every)
	case every%time.Minute != 0 || (day%every != 0 && every%day != 0):
		bad(key+".every", "must divide a day (such as 6h or 12h) or be a whole number of days (such as 24h or 7d), got %s", d.Every)
	}
	switch m := clockTime.FindStringSubmatch(d.At); {
	case d.At == "":
		bad(key+".at", `must be set, as HH:MM (such as "09:00")`)
	case m == nil:
		bad(key+".at", `must be a time of day as HH:MM (such as "09:00"), got %q`, d.At)
	default:
		h, _ := strconv.Atoi(m[1])
		mm, _ := strconv.Atoi(m[2])
		d.ParsedAt = time.Duration(h)*time.Hour + time.Duration(mm)*time.Minute
	}
	switch d.TimeZone {
	case "", "UTC":
		d.TimeZone, d.Location = "UTC", time.UTC
	default:
		var err error
		if d.Location, err = namedZone(d.TimeZone); err != nil {
			bad(key+".time_zone", "%v", err)
		}
	}
	return errs
}
