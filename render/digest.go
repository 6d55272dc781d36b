package render

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Block ids of a digest, after its blockHeader.
const (
	blockDigestFiring   = "digest_firing"
	blockDigestResolved = "digest_resolved"
	blockDigestSilences = "digest_silences"
	blockDigestFooter   = "digest_footer"
)

// Caps of a digest's lines, in runes.
const (
	capDigestMatchers  = 300
	capDigestCreatedBy = 60
)

// Digest is what a route's digest lists at Now: its groups that still
// fire, those that resolved since Since (the previous digest's due time),
// and the silences over its groups that end before Next (the next digest's
// due time).
type Digest struct {
	Firing   []DigestGroup
	Resolved []DigestGroup
	Silences []DigestSilence
	// SilencesUnknown is set when Alertmanager's silences could not be
	// read; the digest says so.
	SilencesUnknown bool
	Since, Next     time.Time
	Now             time.Time
}

// DigestGroup is a group in a digest, with the link to its message ("" for
// none).
type DigestGroup struct {
	Group alertgroup.Group
	Link  string
}

// DigestSilence is an Alertmanager silence in a digest.
type DigestSilence struct {
	ID string
	// Matchers are written as Alertmanager writes them; not escaped.
	Matchers  string
	CreatedBy string
	EndsAt    time.Time
	// Covers is a group the silence covers, and Link the link to its
	// message ("" for none).
	Covers alertgroup.Group
	Link   string
}

// Empty reports whether d lists nothing, in which case no digest is posted.
func (d Digest) Empty() bool {
	return len(d.Firing) == 0 && len(d.Resolved) == 0 && len(d.Silences) == 0
}

// DigestMessage renders d: a header that counts what it lists, a section
// per non-empty list, each within a section's 3000 characters and ending
// in "…and N more" when not everything fits, and a footer with the next
// digest's time. Firing groups come most severe first and then oldest
// first, resolved groups and silences in time order.
func DigestMessage(d Digest) Message {
	var counts []string
	if n := len(d.Firing); n > 0 {
		counts = append(counts, fmt.Sprintf("%d firing", n))
	}
	if n := len(d.Resolved); n > 0 {
		counts = append(counts, fmt.Sprintf("%d resolved", n))
	}
	if n := len(d.Silences); n > 0 {
		counts = append(counts, plural(n, "silence", "silences")+" ending")
	}
	summary := "Alert digest"
	if len(counts) > 0 {
		summary += ": " + strings.Join(counts, ", ")
	}
	blocks := []slack.Block{slack.NewHeaderBlock(plainText(clip(summary, maxHeaderText)), slack.HeaderBlockOptionBlockID(blockHeader))}

	firing := slices.Clone(d.Firing)
	slices.SortStableFunc(firing, func(a, b DigestGroup) int {
		return cmp.Or(
			cmp.Compare(SeverityRank(digestSeverity(b.Group)), SeverityRank(digestSeverity(a.Group))),
			a.Group.FirstAt.Compare(b.Group.FirstAt),
		)
	})
	if b := digestSection(blockDigestFiring, fmt.Sprintf("*Still firing* (%d)", len(firing)), len(firing), func(i int) string {
		return firingLine(firing[i], d.Now)
	}); b != nil {
		blocks = append(blocks, b)
	}

	resolved := slices.Clone(d.Resolved)
	slices.SortStableFunc(resolved, func(a, b DigestGroup) int { return a.Group.ResolvedAt.Compare(b.Group.ResolvedAt) })
	title := fmt.Sprintf("*Resolved* (%d)", len(resolved))
	if !d.Since.IsZero() {
		title = fmt.Sprintf("*Resolved since %s* (%d)", slackDate(d.Since), len(resolved))
	}
	if b := digestSection(blockDigestResolved, title, len(resolved), func(i int) string {
		return resolvedLine(resolved[i])
	}); b != nil {
		blocks = append(blocks, b)
	}

	silences := slices.Clone(d.Silences)
	slices.SortStableFunc(silences, func(a, b DigestSilence) int { return a.EndsAt.Compare(b.EndsAt) })
	title = fmt.Sprintf("*Silences ending* (%d)", len(silences))
	if !d.Next.IsZero() {
		title = fmt.Sprintf("*Silences ending before %s* (%d)", slackDate(d.Next), len(silences))
	}
	if b := digestSection(blockDigestSilences, title, len(silences), func(i int) string {
		return silenceLine(silences[i])
	}); b != nil {
		blocks = append(blocks, b)
	}

	var footer []slack.MixedElement
	if d.SilencesUnknown {
		footer = append(footer, mrkdwn("⚠️ Alertmanager's silences could not be read; none are listed."))
	}
	if !d.Next.IsZero() {
		footer = append(footer, mrkdwn("Next digest "+slackDate(d.Next)))
	}
	if len(footer) > 0 {
		blocks = append(blocks, slack.NewContextBlock(blockDigestFooter, footer...))
	}
	return Message{Text: summary, Blocks: slack.Blocks{BlockSet: blocks}}
}

// digestSection is a section with the title and the n lines that line
// writes, as many as fit; nil when n is 0.
func digestSection(id, title string, n int, line func(i int) string) slack.Block {
	if n == 0 {
		return nil
	}
	text := title + "\n" + fitLines(n, line, 0, maxSectionText-runes(title)-1)
	return slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID(id))
}

// digestSeverity is the severity of g's message, "none" without one.
func digestSeverity(g alertgroup.Group) string {
	if g.Message == nil || g.Message.Data == nil {
		return "none"
	}
	return Severity(g.Message.Data)
}

// digestName is g's name as the slash command's answers write it.
func digestName(g alertgroup.Group) string {
	if g.Message == nil || g.Message.Data == nil {
		return "*" + clipEscaped(cmp.Or(oneLine(g.Key.GroupKey), "Alert group"), 80) + "*"
	}
	return commandGroupName(g)
}

// messageLink is " · <url|message>", or "" when url is not a web URL.
func messageLink(url string) string {
	if u := webURL(url, capLinkURL); u != "" {
		return " · " + link(u, "message")
	}
	return ""
}

// firingLine is a firing group's line: severity, name, how long it has
// been firing, who acknowledged it or whether it is silenced, and its
// link.
func firingLine(dg DigestGroup, now time.Time) string {
	g := dg.Group
	var b strings.Builder
	b.WriteString(SeverityIcon(digestSeverity(g)) + " " + digestName(g))
	if !g.FirstAt.IsZero() {
		b.WriteString(" — firing for " + humanDuration(now.Sub(g.FirstAt)))
	}
	switch a, s := g.State.Acked, g.State.Silenced; {
	case a != nil:
		b.WriteString(" · ✋ " + who(a.By))
	case s != nil && (s.Until.IsZero() || s.Until.After(now)):
		b.WriteString(" · 🔕 silenced by " + who(s.By))
	default:
		b.WriteString(" · not acknowledged")
	}
	b.WriteString(messageLink(dg.Link))
	return b.String()
}

// resolvedLine is a resolved group's line: name, when it resolved, how long
// it fired, and its link.
func resolvedLine(dg DigestGroup) string {
	g := dg.Group
	var b strings.Builder
	b.WriteString("✅ " + digestName(g))
	if !g.ResolvedAt.IsZero() {
		b.WriteString(" — resolved " + slackDate(g.ResolvedAt))
		if !g.FirstAt.IsZero() && !g.ResolvedAt.Before(g.FirstAt) {
			b.WriteString(" after " + humanDuration(g.ResolvedAt.Sub(g.FirstAt)))
		}
	}
	b.WriteString(messageLink(dg.Link))
	return b.String()
}

// silenceLine is a silence's line: its matchers, when it ends, who created
// it, the group it covers and that group's link.
func silenceLine(s DigestSilence) string {
	// Backticks would end the code span early.
	ms := clipEscaped(strings.ReplaceAll(oneLine(s.Matchers), "`", "'"), capDigestMatchers)
	var b strings.Builder
	b.WriteString("🔕 `" + ms + "` ends " + slackDate(s.EndsAt))
	if by := oneLine(s.CreatedBy); by != "" {
		b.WriteString(" · by " + clipEscaped(by, capDigestCreatedBy))
	}
	if s.Covers.Message != nil || s.Covers.Key.GroupKey != "" {
		b.WriteString(" · covers " + digestName(s.Covers))
	}
	b.WriteString(messageLink(s.Link))
	return b.String()
}
