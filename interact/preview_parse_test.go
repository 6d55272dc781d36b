package interact

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/pkg/labels"
)

func TestParseMatcherList(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: `alertname="DiskFull"`, want: `alertname="DiskFull"`},
		{in: `{alertname="DiskFull", cluster=~"prod|staging"}`, want: `alertname="DiskFull", cluster=~"prod|staging"`},
		{in: `alertname=DiskFull,instance!~"db-(1|2)"`, want: `alertname="DiskFull", instance!~"db-(1|2)"`},
		{in: `summary="a, b", x!="y"`, want: `summary="a, b", x!="y"`},
		{in: `alertname="DiskFull",`, want: `alertname="DiskFull"`},
		{in: ``, wantErr: "no matcher given"},
		{in: `DiskFull`, wantErr: `"DiskFull" is not a valid matcher (no label name and operator)`},
		{in: `alertname="DiskFull", cluster=~"prod("`, wantErr: `"cluster=~\"prod(\"" is not a valid matcher (error parsing regexp`},
		{in: `alertname="Disk"Full"`, wantErr: `"alertname=\"Disk\"Full\"" is not a valid matcher (unbalanced or unescaped double quote)`},
		{in: `env=~".*"`, wantErr: "these matchers would silence every alert"},
		{in: `env!="prod"`, wantErr: "these matchers would silence every alert"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ms, err := parseMatcherList(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("parseMatcherList(%q) = %v, %v; want error %q", tc.in, ms, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := matchersString(ms); got != tc.want {
				t.Errorf("parseMatcherList(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseSilenceEnd(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(y int, mo time.Month, d, h, m int) time.Time { return time.Date(y, mo, d, h, m, 0, 0, time.UTC) }
	hours := berlinHours(t)
	for _, tc := range []struct {
		name    string
		in      string
		now     time.Time
		zone    *time.Location
		want    time.Time
		wantErr string
	}{
		{name: "duration", in: "90m", now: utc(2025, 11, 28, 10, 0), want: utc(2025, 11, 28, 11, 30)},
		{name: "days", in: "2d", now: utc(2025, 11, 28, 10, 0), want: utc(2025, 11, 30, 10, 0)},
		{name: "time later today", in: "18:00", now: utc(2025, 11, 28, 10, 0), zone: berlin, want: utc(2025, 11, 28, 17, 0)},
		{name: "time tomorrow", in: "9:30", now: utc(2025, 11, 28, 10, 0), zone: berlin, want: utc(2025, 11, 29, 8, 30)},
		{name: "time in UTC without a zone", in: "18:00", now: utc(2025, 11, 28, 10, 0), want: utc(2025, 11, 28, 18, 0)},
		{name: "date and time", in: "2025-12-24 18:00", now: utc(2025, 11, 28, 10, 0), zone: berlin, want: utc(2025, 12, 24, 17, 0)},
		{name: "RFC 3339", in: "2025-11-28T20:00:00+01:00", now: utc(2025, 11, 28, 10, 0), zone: berlin, want: utc(2025, 11, 28, 19, 0)},
		// Clocks go forward on 29 March 2026 in Berlin: 18:00 the next day
		// is 21 hours after 20:00, not 22.
		{name: "across March's change", in: "18:00", now: utc(2026, 3, 28, 19, 0), zone: berlin, want: utc(2026, 3, 29, 16, 0)},
		// 02:30 does not exist that night; time.Date moves it to 03:30.
		{name: "into March's gap", in: "02:30", now: utc(2026, 3, 28, 22, 0), zone: berlin, want: utc(2026, 3, 29, 1, 30)},
		// Clocks go back on 25 October 2026: 23 hours.
		{name: "across October's change", in: "18:00", now: utc(2026, 10, 24, 18, 0), zone: berlin, want: utc(2026, 10, 25, 17, 0)},
		{name: "business on Friday evening", in: "business", now: utc(2025, 11, 28, 17, 30), want: utc(2025, 12, 2, 8, 0)},
		{name: "business across March's change", in: "Business", now: utc(2026, 3, 27, 18, 0), want: utc(2026, 3, 30, 7, 0)},
		{name: "until:business", in: "until:business", now: utc(2025, 11, 27, 7, 0), want: utc(2025, 11, 27, 8, 0)},
		{name: "empty", in: " ", now: utc(2025, 11, 28, 10, 0), wantErr: "no duration or end"},
		{name: "word", in: "eventually", now: utc(2025, 11, 28, 10, 0), wantErr: `"eventually" is not a duration or an end`},
		{name: "past", in: "2025-11-01 10:00", now: utc(2025, 11, 28, 10, 0), wantErr: `"2025-11-01 10:00" is not in the future`},
		{name: "too far", in: "2026-01-28 10:00", now: utc(2025, 11, 28, 10, 0), wantErr: "more than 30 days away"},
		{name: "too long", in: "31d", now: utc(2025, 11, 28, 10, 0), wantErr: `"31d" is out of range`},
		{name: "zero", in: "0s", now: utc(2025, 11, 28, 10, 0), wantErr: `"0s" is out of range`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hours
			if tc.name == "empty" {
				h = nil
			}
			got, err := parseSilenceEnd(tc.in, tc.now, tc.zone, h)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("parseSilenceEnd(%q) = %v, %v; want error %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Errorf("parseSilenceEnd(%q) = %v, %v; want %v", tc.in, got.UTC(), err, tc.want)
			}
		})
	}
	if _, err := parseSilenceEnd("business", time.Now(), nil, nil); err == nil || !strings.Contains(err.Error(), "sets no business hours") {
		t.Errorf("business without hours: %v", err)
	}
}

func TestParseSilenceCommand(t *testing.T) {
	for _, tc := range []struct {
		text                   string
		matchers, end, comment string
		wantErr                string
	}{
		{text: `alertname="DiskFull"`, matchers: `alertname="DiskFull"`},
		{text: `alertname="DiskFull" for 4h disk swap in progress`, matchers: `alertname="DiskFull"`, end: "4h", comment: "disk swap in progress"},
		{text: `alertname="Disk full", cluster=~"prod|staging" until 18:00`, matchers: `alertname="Disk full", cluster=~"prod|staging"`, end: "18:00"},
		{text: `{alertname="DiskFull"} until 2025-12-24 18:00 "holidays"`, matchers: `alertname="DiskFull"`, end: "2025-12-24 18:00", comment: `"holidays"`},
		{text: `alertname = "DiskFull" cluster="prod" FOR 2d`, matchers: `alertname="DiskFull", cluster="prod"`, end: "2d"},
		{text: `alertname= DiskFull ,instance="db-1" noisy`, matchers: `alertname="DiskFull", instance="db-1"`, comment: "noisy"},
		{text: `alertname="DiskFull" until business`, matchers: `alertname="DiskFull"`, end: "business"},
		{text: `alertname="DiskFull" cluster = "prod" for 4h swap`, matchers: `alertname="DiskFull", cluster="prod"`, end: "4h", comment: "swap"},
		{text: ``, wantErr: "give the matchers of the silence"},
		{text: `DiskFull for 2h`, wantErr: `"DiskFull" is not a valid matcher`},
		{text: `alertname="DiskFull", cluster=~"prod(" for 2h`, wantErr: `"cluster=~\"prod(\"" is not a valid matcher`},
		{text: `alertname="DiskFull" for`, wantErr: "for needs a duration"},
		{text: `alertname="DiskFull" until`, wantErr: "until needs an end"},
		{text: `alertname="DiskFull" for soon`, wantErr: `"soon" is not a duration`},
		{text: `env!="prod" for 2h`, wantErr: "would silence every alert"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			got, err := parseSilenceCommand(tc.text)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("parseSilenceCommand(%q) = %+v, %v; want error %q", tc.text, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m := matchersString(got.matchers); m != tc.matchers || got.end != tc.end || got.comment != tc.comment {
				t.Errorf("parseSilenceCommand(%q) = matchers %s, end %q, comment %q; want %s, %q, %q", tc.text, m, got.end, got.comment, tc.matchers, tc.end, tc.comment)
			}
		})
	}
}

// FuzzSilenceCommand checks that the text after /amslack silence, which
// anyone in the workspace may type, never panics the parser, and that
// what it accepts is a silence Alertmanager takes: matchers that parse
// again as written and do not all match the empty string, and a comment
// of valid text within the limit.
func FuzzSilenceCommand(f *testing.F) {
	for _, s := range []string{
		`alertname="DiskFull" for 4h disk swap`,
		`{alertname="Disk full", cluster=~"prod|staging"} until 2025-12-24 18:00 holidays`,
		`alertname = "DiskFull" cluster="prod" until business`,
		`alertname="a\"b\\" for 1h "quoted comment"`,
		`cluster=~"prod(" for 2h`,
		`DiskFull`,
		`env!="prod"`,
		"alertname=\"\xff\" for 2h",
		`"unterminated`,
		`=`,
		`a=b,,,c=d until`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := parseSilenceCommand(text)
		if err != nil {
			if err.Error() == "" {
				t.Errorf("parseSilenceCommand(%q) gave an empty error", text)
			}
			return
		}
		if len(cmd.matchers) == 0 {
			t.Fatalf("parseSilenceCommand(%q) accepted no matcher", text)
		}
		again, err := parseMatcherList(matchersString(cmd.matchers))
		if err != nil || matchersString(again) != matchersString(cmd.matchers) {
			t.Errorf("matchers %s of %q do not parse back: %v", matchersString(cmd.matchers), text, err)
		}
		allEmpty := true
		for _, m := range cmd.matchers {
			allEmpty = allEmpty && m.Matches("")
		}
		if allEmpty {
			t.Errorf("parseSilenceCommand(%q) accepted matchers that silence every alert", text)
		}
		if _, err := labels.ParseMatchers(matchersString(cmd.matchers)); err != nil {
			t.Errorf("Alertmanager's parser refuses %s: %v", matchersString(cmd.matchers), err)
		}
		if !utf8.ValidString(cmd.comment) && utf8.ValidString(text) {
			t.Errorf("comment %q of valid text is not valid", cmd.comment)
		}
		if n := utf8.RuneCountInString(cmd.comment); n > maxComment {
			t.Errorf("comment of %d characters, limit %d", n, maxComment)
		}
		_, _ = parseSilenceEnd(cmd.end, time.Unix(1764425522, 0), time.UTC, nil)
	})
}
