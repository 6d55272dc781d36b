package render

import (
	"strings"
	"testing"
	"time"
)

func TestClipEscaped(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"", 10, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"a&b", 7, "a&amp;b"},
		{"a&b", 6, "a…"}, // never cut inside &amp;
		{"<>", 8, "&lt;&gt;"},
		{"<>", 7, "&lt;…"},
		{"🔥🔥🔥", 2, "🔥…"},
		{"x", 0, ""},
		{"\xff", 1, "\uFFFD"},
	}
	for _, tc := range tests {
		if got := clipEscaped(tc.in, tc.limit); got != tc.want {
			t.Errorf("clipEscaped(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
		if got := clipEscaped(tc.in, tc.limit); runes(got) > max(tc.limit, 0) {
			t.Errorf("clipEscaped(%q, %d) has %d runes", tc.in, tc.limit, runes(got))
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"日本語テキスト", 4, "日本語…"},
		{"a&b", 3, "a&b"},
		{"abc", 1, "…"},
		{"abc", 0, ""},
	}
	for _, tc := range tests {
		if got := clip(tc.in, tc.limit); got != tc.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	if got, want := oneLine(" a\nb\tc\r\n "), "a b c"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
}

func TestWebURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://x/y?a=1&b=2", "https://x/y?a=1&amp;b=2"},
		{"HTTP://x/a b|c<d>", "HTTP://x/a%20b%7Cc%3Cd%3E"},
		{"javascript:alert(1)", ""},
		{"ftp://x/", ""},
		{"/relative", ""},
		{"http://", ""},
		{"http://x/\n", "http://x/"},
		{"http://x/\x00", ""},
		{"http://x/" + strings.Repeat("a", 100), ""},
	}
	for _, tc := range tests {
		if got := webURL(tc.in, 50); got != tc.want {
			t.Errorf("webURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFitLines(t *testing.T) {
	lines := []string{"aaaa", "bbbb", "cccc", "dddd"}
	line := func(i int) string { return lines[i] }
	tests := []struct {
		hidden uint64
		limit  int
		want   string
	}{
		{0, 100, "aaaa\nbbbb\ncccc\ndddd"},
		{0, 19, "aaaa\nbbbb\ncccc\ndddd"},
		{0, 18, "aaaa\n…and 3 more"},
		{0, 15, "…and 4 more"},
		{0, 5, ""},
		{4, 100, "aaaa\nbbbb\ncccc\ndddd\n…and 4 more"},
		{4, 19, "aaaa\n…and 7 more"},
	}
	for _, tc := range tests {
		got := fitLines(len(lines), line, tc.hidden, tc.limit)
		if got != tc.want {
			t.Errorf("fitLines(hidden %d, limit %d) = %q, want %q", tc.hidden, tc.limit, got, tc.want)
		}
		if runes(got) > tc.limit {
			t.Errorf("fitLines(hidden %d, limit %d) has %d runes", tc.hidden, tc.limit, runes(got))
		}
	}
}

func TestDurations(t *testing.T) {
	tests := []struct {
		d                 time.Duration
		human, value, txt string
	}{
		{-time.Second, "0s", "-1s", "-1s"},
		{45 * time.Second, "45s", "45s", "45 seconds"},
		{23*time.Minute + 59*time.Second, "23m", "23m59s", "23 minutes 59 seconds"},
		{time.Hour, "1h", "1h", "1 hour"},
		{90 * time.Minute, "1h 30m", "1h30m", "1 hour 30 minutes"},
		{4 * time.Hour, "4h", "4h", "4 hours"},
		{24 * time.Hour, "1d", "24h", "1 day"},
		{50*time.Hour + 5*time.Minute, "2d 2h", "50h5m", "2 days 2 hours"},
	}
	for _, tc := range tests {
		if got := humanDuration(tc.d); got != tc.human {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.human)
		}
		if got := durationValue(tc.d); got != tc.value {
			t.Errorf("durationValue(%v) = %q, want %q", tc.d, got, tc.value)
		}
		if got := durationText(tc.d); got != tc.txt {
			t.Errorf("durationText(%v) = %q, want %q", tc.d, got, tc.txt)
		}
		if d, err := time.ParseDuration(durationValue(tc.d)); err != nil || d != tc.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", durationValue(tc.d), d, err, tc.d)
		}
	}
}

func TestCutMrkdwn(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"<!here> hello", 13, "<!here> hello"},
		{"<!here> hello", 12, "<!here> hel…"},
		{"<!here> hello", 7, "…"}, // never inside the mention
		{"ab <https://x|link>", 10, "ab …"},
		{"a < b > c", 8, "a < b >…"}, // a < … > without a break is one unit
		{"a < b\n> c", 8, "a < b\n>…"},
		{"<<<<x>", 4, "<<<…"},
		{"x&amp;y&lt;z", 7, "x&amp;…"},
		{"x&amp;y&lt;z", 6, "x…"},
		{"& and", 4, "& a…"},
		{"🔥🔥🔥", 2, "🔥…"},
		{"x", 0, ""},
	}
	for _, tc := range tests {
		got := cutMrkdwn(tc.in, tc.limit)
		if got != tc.want {
			t.Errorf("cutMrkdwn(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
		if runes(got) > max(tc.limit, 0) {
			t.Errorf("cutMrkdwn(%q, %d) has %d runes", tc.in, tc.limit, runes(got))
		}
	}
}

func TestEscapeMrkdwn(t *testing.T) {
	if got, want := escapeMrkdwn("<!channel> & co"), "&lt;!channel&gt; &amp; co"; got != want {
		t.Errorf("escapeMrkdwn = %q, want %q", got, want)
	}
}

// FuzzCutMrkdwn checks that cutting escaped text is clipEscaped, which the
// default templates rely on to render what the built-in code renders, and
// that a cut never exceeds its limit.
func FuzzCutMrkdwn(f *testing.F) {
	f.Add("a&b<c>d", 5)
	f.Add("<!here> &amp; <https://x|y>", 12)
	f.Add("日本語 🔥 \xff", 3)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit %= 64
		if got, want := cutMrkdwn(escapeMrkdwn(s), limit), clipEscaped(s, limit); got != want {
			t.Errorf("cutMrkdwn(escapeMrkdwn(%q), %d) = %q, clipEscaped = %q", s, limit, got, want)
		}
		got := cutMrkdwn(s, limit)
		if runes(got) > max(limit, 0) {
			t.Errorf("cutMrkdwn(%q, %d) has %d runes", s, limit, runes(got))
		}
		if kept := strings.TrimSuffix(got, ellipsis); !strings.HasPrefix(s, kept) {
			t.Errorf("cutMrkdwn(%q, %d) = %q, not a prefix and …", s, limit, got)
		}
	})
}
