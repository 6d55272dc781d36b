package interact

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	"github.com/amslack/amslack/interact/businesshours"
	"github.com/amslack/amslack/render"
)

// This file reads what people type for a silence: matchers, in the preview
// modal and after /amslack silence and /amslack alerts, and the duration or
// end of the silence. Errors are written for the person who typed it and
// quote the part at fault; they are plain text.

// maxQuoted bounds the text an error quotes.
const maxQuoted = 80

// quote quotes s for an error, cut to maxQuoted characters.
func quote(s string) string { return fmt.Sprintf("%q", render.Clip(s, maxQuoted)) }

// splitMatcherList splits matchers at the commas outside double quotes, as
// Alertmanager's labels.ParseMatchers does, and trims the parts.
func splitMatcherList(s string) []string {
	var (
		parts        []string
		part         strings.Builder
		insideQuotes bool
		escaped      bool
	)
	for _, r := range s {
		switch r {
		case ',':
			if !insideQuotes {
				parts = append(parts, strings.TrimSpace(part.String()))
				part.Reset()
				continue
			}
		case '"':
			if !escaped {
				insideQuotes = !insideQuotes
			} else {
				escaped = false
			}
		case '\\':
			escaped = !escaped
		default:
			escaped = false
		}
		part.WriteRune(r)
	}
	return append(parts, strings.TrimSpace(part.String()))
}

// parseMatcherList reads Alertmanager matchers separated by commas, in
// braces or not: alertname="DiskFull", instance=~"db-.*". Each is read
// with labels.ParseMatcher, Alertmanager's own parser, and an error names
// the first that does not parse. The matchers must not all match the empty
// string: Alertmanager refuses such a silence, which would mute every
// alert.
func parseMatcherList(s string) (labels.Matchers, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	var ms labels.Matchers
	for _, part := range splitMatcherList(s) {
		if part == "" {
			continue
		}
		m, err := labels.ParseMatcher(part)
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid matcher (%s); write label=\"value\", label!=\"value\", label=~\"regex\" or label!~\"regex\"", quote(part), matcherProblem(err))
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil, errors.New(`no matcher given; write label="value", such as alertname="DiskFull"`)
	}
	matchesAll := true
	for _, m := range ms {
		matchesAll = matchesAll && m.Matches("")
	}
	if matchesAll {
		return nil, errors.New("these matchers would silence every alert; at least one must not match the empty string, such as alertname=\"DiskFull\"")
	}
	return ms, nil
}

// matcherProblem says briefly what labels.ParseMatcher found wrong, without
// repeating the matcher, which the caller quotes.
func matcherProblem(err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "bad matcher format"):
		return "no label name and operator"
	case strings.Contains(msg, "unescaped double quote"):
		return "unbalanced or unescaped double quote"
	case strings.Contains(msg, "not valid UTF-8"):
		return "not valid UTF-8"
	}
	// labels.NewMatcher's error: a regular expression that does not
	// compile.
	return render.Clip(msg, 200)
}

// matchersString writes matchers as Alertmanager writes them, separated by
// ", ": the form the preview compares to see whether they changed.
func matchersString(ms labels.Matchers) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, ", ")
}

// Words that name the next business day as a silence's end.
var businessWords = []string{"business", "next business day", render.UntilBusinessValue}

// endLayouts are the forms of an end time, read in the viewer's zone
// unless they name their own offset.
var endLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// clockOnly matches a time of day, H:MM or HH:MM.
var clockOnly = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

// endHelp says what parseSilenceEnd accepts.
const endHelp = "give a duration (45m, 4h, 2d) or an end (18:00, 2025-12-24 18:00)"

// parseSilenceEnd reads when a silence ends, at now, from what someone
// typed: a Prometheus duration (2h, 1d12h); a time of day (18:00), its next
// occurrence; a date and time (2025-12-24 18:00), both in zone (UTC when
// nil); an RFC 3339 time with its own offset; or "business", the start of
// the next business day of hours (nil when the route has none). The end
// must be after now and at most 30 days away.
func parseSilenceEnd(s string, now time.Time, zone *time.Location, hours *businesshours.Hours) (time.Time, error) {
	s = strings.TrimSpace(s)
	if zone == nil {
		zone = time.UTC
	}
	var end time.Time
	switch lower := strings.ToLower(s); {
	case s == "":
		return time.Time{}, errors.New("no duration or end: " + endHelp)
	case containsFold(businessWords, lower):
		if hours == nil {
			return time.Time{}, errors.New("this alert group's route sets no business hours; " + endHelp)
		}
		end = hours.NextStart(now)
	default:
		if d, err := model.ParseDuration(s); err == nil {
			if d <= 0 || time.Duration(d) > maxSilence {
				return time.Time{}, fmt.Errorf("%s is out of range; silences last from 1s to 30d", quote(s))
			}
			return now.Add(time.Duration(d)), nil
		}
		var ok bool
		if end, ok = parseEndTime(s, now, zone); !ok {
			return time.Time{}, fmt.Errorf("%s is not a duration or an end; %s", quote(s), endHelp)
		}
	}
	switch {
	case !end.After(now):
		return time.Time{}, fmt.Errorf("%s is not in the future", quote(s))
	case end.Sub(now) > maxSilence:
		return time.Time{}, fmt.Errorf("%s is more than 30 days away; silences last at most 30d", quote(s))
	}
	return end, nil
}

// parseEndTime reads a time of day, a date and time, or an RFC 3339 time.
// A time of day is its next occurrence after now in zone; wall-clock times
// are built with time.Date so that they keep across daylight-saving
// changes.
func parseEndTime(s string, now time.Time, zone *time.Location) (time.Time, bool) {
	if m := clockOnly.FindStringSubmatch(s); m != nil {
		hh, _ := strconv.Atoi(m[1])
		mm, _ := strconv.Atoi(m[2])
		y, mo, d := now.In(zone).Date()
		t := time.Date(y, mo, d, hh, mm, 0, 0, zone)
		if !t.After(now) {
			t = time.Date(y, mo, d+1, hh, mm, 0, 0, zone)
		}
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, layout := range endLayouts {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func containsFold(list []string, s string) bool {
	for _, w := range list {
		if strings.EqualFold(w, s) {
			return true
		}
	}
	return false
}

// silenceCommand is what follows /amslack silence.
type silenceCommand struct {
	// matchers are the parsed matchers, raw as typed.
	matchers labels.Matchers
	raw      string
	// end is the duration or end as typed, "" for the default.
	end     string
	comment string
}

// token is a word of a command's text: text outside double quotes is
// split at white space, text inside them is kept whole.
type token struct {
	text       string
	start, end int // byte offsets in the text
}

// tokenize splits s into tokens; a backslash escapes the next character
// inside double quotes.
func tokenize(s string) []token {
	var (
		toks         []token
		start        = -1
		insideQuotes bool
		escaped      bool
	)
	for i, r := range s {
		switch {
		case start < 0 && unicode.IsSpace(r):
			continue
		case start < 0:
			start = i
		}
		switch {
		case escaped:
			escaped = false
		case r == '\\' && insideQuotes:
			escaped = true
		case r == '"':
			insideQuotes = !insideQuotes
		case unicode.IsSpace(r) && !insideQuotes:
			toks = append(toks, token{text: s[start:i], start: start, end: i})
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, token{text: s[start:], start: start, end: len(s)})
	}
	return toks
}

// operatorChars are the characters of matcher operators.
const operatorChars = "=!~"

// hasOperator reports whether t holds a matcher operator outside double
// quotes.
func hasOperator(t string) bool {
	insideQuotes, escaped := false, false
	for _, r := range t {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && insideQuotes:
			escaped = true
		case r == '"':
			insideQuotes = !insideQuotes
		case !insideQuotes && strings.ContainsRune(operatorChars, r):
			return true
		}
	}
	return false
}

// joinMatcher returns the matchers text joined with the word t, and
// whether t belongs to them: it completes a matcher cut at white space
// (alertname = "DiskFull"), follows a comma, or is a further matcher, which
// a comma then separates from the ones before.
func joinMatcher(joined, t string) (string, bool) {
	parts := splitMatcherList(strings.TrimPrefix(joined, "{"))
	last := parts[len(parts)-1]
	lastRune, _ := utf8.DecodeLastRuneInString(joined)
	firstRune, _ := utf8.DecodeRuneInString(t)
	switch {
	case lastRune == ',' || lastRune == '{':
		return joined + " " + t, true
	case strings.ContainsRune(operatorChars, lastRune):
		// alertname= "DiskFull"
		return joined + " " + t, true
	case strings.ContainsRune(operatorChars, firstRune) && !hasOperator(last):
		// alertname ="DiskFull", alertname = "DiskFull"
		return joined + " " + t, true
	case firstRune == ',' || firstRune == '}':
		return joined + t, true
	case hasOperator(t):
		if _, err := labels.ParseMatcher(last); err == nil {
			return joined + ", " + t, true
		}
	}
	return joined, false
}

// Keywords of /amslack silence.
const (
	keywordFor   = "for"
	keywordUntil = "until"
)

// labelName matches a label name as Alertmanager's matchers write it.
var labelName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// dateOnly matches a date, YYYY-MM-DD.
var dateOnly = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// parseSilenceCommand reads the text after /amslack silence:
//
//	<matchers> [for <duration> | until <time>] [comment]
//
// The matchers run up to for, until, or the first word that is not part of
// a matcher; they may be quoted and hold spaces (alertname="Disk full",
// cluster=~"prod|staging"), and may be separated by white space alone. An until time may be a date and a time of day in
// two words. What follows is the comment. The duration or end is checked
// when the preview computes it, against the viewer's time zone.
func parseSilenceCommand(text string) (silenceCommand, error) {
	toks := tokenize(text)
	if len(toks) == 0 {
		return silenceCommand{}, errors.New(`give the matchers of the silence, such as /amslack silence alertname="DiskFull" for 2h`)
	}
	n, joined := 1, toks[0].text
	for ; n < len(toks); n++ {
		t := toks[n].text
		if strings.EqualFold(t, keywordFor) || strings.EqualFold(t, keywordUntil) {
			break
		}
		var ok bool
		if joined, ok = joinMatcher(joined, t); ok {
			continue
		}
		// A label name whose operator follows after white space:
		// cluster = "prod".
		if n+1 < len(toks) && labelName.MatchString(t) && strings.ContainsRune(operatorChars, rune(toks[n+1].text[0])) {
			joined += ", " + t
			continue
		}
		break
	}
	var cmd silenceCommand
	cmd.raw = joined
	ms, err := parseMatcherList(cmd.raw)
	if err != nil {
		return silenceCommand{}, err
	}
	cmd.matchers = ms
	rest := toks[n:]
	if len(rest) > 0 {
		switch kw := strings.ToLower(rest[0].text); kw {
		case keywordFor, keywordUntil:
			if len(rest) < 2 {
				if kw == keywordFor {
					return silenceCommand{}, errors.New("for needs a duration, such as for 2h")
				}
				return silenceCommand{}, errors.New("until needs an end, such as until 18:00 or until 2025-12-24 18:00")
			}
			cmd.end, rest = rest[1].text, rest[2:]
			if kw == keywordFor {
				if _, err := model.ParseDuration(cmd.end); err != nil {
					return silenceCommand{}, fmt.Errorf("%s is not a duration; use forms such as 45m, 4h or 2d", quote(cmd.end))
				}
			} else if dateOnly.MatchString(cmd.end) && len(rest) > 0 && clockOnly.MatchString(rest[0].text) {
				cmd.end, rest = cmd.end+" "+rest[0].text, rest[1:]
			}
		}
	}
	if len(rest) > 0 {
		cmd.comment = strings.TrimSpace(text[rest[0].start:])
		if r := []rune(cmd.comment); len(r) > maxComment {
			cmd.comment = string(r[:maxComment])
		}
	}
	return cmd, nil
}
