package render

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// ellipsis marks text that was cut. It is one rune.
const ellipsis = "…"

// runes counts what Slack counts: characters, not bytes.
func runes(s string) int { return utf8.RuneCountInString(s) }

// escapedLen is how many runes r takes once escaped for mrkdwn.
func escapedLen(r rune) int {
	switch r {
	case '&':
		return len("&amp;")
	case '<', '>':
		return len("&lt;")
	}
	return 1
}

// writeEscaped writes r escaped for mrkdwn. Slack gives meaning to &, < and
// > only, so those are the only characters that need escaping.
func writeEscaped(b *strings.Builder, r rune) {
	switch r {
	case '&':
		b.WriteString("&amp;")
	case '<':
		b.WriteString("&lt;")
	case '>':
		b.WriteString("&gt;")
	default:
		b.WriteRune(r)
	}
}

// clipEscaped escapes s for mrkdwn and cuts it, on a rune boundary and never
// inside an escape, so that the result has at most limit runes; a cut result
// ends in "…". A limit below 1 gives "".
func clipEscaped(s string, limit int) string {
	if limit < 1 {
		return ""
	}
	total := 0
	for _, r := range s {
		total += escapedLen(r)
	}
	if total <= limit {
		if !strings.ContainsAny(s, "&<>") && utf8.ValidString(s) {
			return s
		}
		limit = total
	} else {
		limit-- // room for the ellipsis
	}
	var b strings.Builder
	b.Grow(min(len(s), limit) + len(ellipsis))
	n := 0
	for _, r := range s {
		l := escapedLen(r)
		if n+l > limit {
			b.WriteString(ellipsis)
			return b.String()
		}
		writeEscaped(&b, r)
		n += l
	}
	return b.String()
}

// escapeMrkdwn escapes s for mrkdwn, like clipEscaped without a limit.
func escapeMrkdwn(s string) string {
	if !strings.ContainsAny(s, "&<>") && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		writeEscaped(&b, r)
	}
	return b.String()
}

// cutMrkdwn cuts mrkdwn that a template wrote to at most limit runes,
// ending a cut text in "…". It escapes nothing, and it never cuts inside an
// escape (&amp;, &lt;, &gt;) or inside a <…> link or mention, so that a cut
// text shows what was kept rather than broken markup. On escaped text it
// cuts exactly where clipEscaped does. A limit below 1 gives "".
func cutMrkdwn(s string, limit int) string {
	if limit < 1 {
		return ""
	}
	if runes(s) <= limit {
		return s
	}
	limit-- // room for the ellipsis
	n, end := 0, 0
	for end < len(s) {
		size := markupLen(s[end:])
		c := runes(s[end : end+size])
		if n+c > limit {
			break
		}
		n += c
		end += size
	}
	return s[:end] + ellipsis
}

// markupLen is the length in bytes of the unit that starts s and must not
// be cut: an escape, a <…> link or mention on one line, or one rune.
func markupLen(s string) int {
	switch s[0] {
	case '&':
		for _, e := range []string{"&amp;", "&lt;", "&gt;"} {
			if strings.HasPrefix(s, e) {
				return len(e)
			}
		}
	case '<':
		// Looking no further than the next < or line break keeps the whole
		// cut linear in the length of s.
		if i := strings.IndexAny(s[1:], "<>\n"); i >= 0 && s[1+i] == '>' {
			return i + 2
		}
	}
	_, size := utf8.DecodeRuneInString(s)
	return size
}

// titleCase capitalises the words of s as Alertmanager's template function
// title does.
func titleCase(s string) string {
	// A Caser keeps state: one per call.
	return cases.Title(language.AmericanEnglish).String(s)
}

// clip cuts s to at most limit runes, ending a cut result in "…". It is for
// plain_text, which Slack shows as is and which needs no escaping.
func clip(s string, limit int) string {
	if limit < 1 {
		return ""
	}
	if runes(s) <= limit {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == limit-1 {
			break
		}
		b.WriteRune(r)
		n++
	}
	b.WriteString(ellipsis)
	return b.String()
}

// oneLine replaces line breaks, tabs and other control characters with
// spaces, so that a label value cannot break a one-line layout, and trims
// surrounding space.
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// more is the visible mark for items left out.
func more(n int) string { return fmt.Sprintf("…and %d more", n) }

// plural returns "1 alert" or "2 alerts".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// linkEscaper makes a URL safe inside a mrkdwn link <url|label>: & is
// escaped like any mrkdwn text, and the characters that would end the URL
// early are percent-encoded.
var linkEscaper = strings.NewReplacer(
	"&", "&amp;",
	"<", "%3C",
	">", "%3E",
	"|", "%7C",
	" ", "%20",
)

// webURL returns raw prepared for a mrkdwn link, or "" when raw is not an
// absolute http or https URL or would take more than limit runes. Other
// schemes (javascript:, file:, slack:) are never linked.
func webURL(raw string, limit int) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.IndexFunc(raw, unicode.IsControl) >= 0 {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return ""
	}
	esc := linkEscaper.Replace(raw)
	if runes(esc) > limit {
		return ""
	}
	return esc
}

// link formats a mrkdwn link; u must come from webURL and label must be
// escaped already.
func link(u, label string) string { return "<" + u + "|" + label + ">" }

// plainText is a plain_text text object. Slack shows plain_text as is, so
// it is not escaped.
func plainText(s string) *slack.TextBlockObject {
	return &slack.TextBlockObject{Type: slack.PlainTextType, Text: s}
}

// mrkdwn is a mrkdwn text object; s must be escaped already.
func mrkdwn(s string) *slack.TextBlockObject {
	return &slack.TextBlockObject{Type: slack.MarkdownType, Text: s}
}
