// Package render owns how an alert group looks in Slack: it turns the group
// as Alertmanager sent it, what people did to it through Slack and the
// route's options into a Block Kit message that keeps every Block Kit limit,
// with a plain-text fallback, shaped by the route's Alertmanager-style
// templates where it has them; it writes the thread summaries of what
// changed between two notifications; and it checks messages against Slack's
// limits. It writes everything else amslack shows in Slack as well: thread
// notes and replies to the clicker (Mrkdwnf), slash command answers, the
// reply to a mention and the custom silence dialog. All text from outside
// goes through one mrkdwn escape.
//
// The package does no I/O and reads no clock: the time comes in as data, so
// every output is a pure function of its input and golden files can pin it.
// Templates see that time too, through now and since; only the time zones
// that a template's tz asks for are loaded.
package render

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Block ids. They are stable so that the interaction side can find the
// actions block, and unique as Slack requires within a message.
const (
	blockHeader  = "header"
	blockStatus  = "status"
	blockContext = "context"
	blockHint    = "hint"
	blockAlerts  = "alerts"
	blockLinks   = "links"
	blockState   = "state"
	blockActions = "actions"
)

// buttonValue is the value of every button that sets none of its own
// (Control.Value). Interactions find their group
// by channel and message ts, so the value only names the format, leaving
// room to change it later; it stays far below the 2000-character limit.
const buttonValue = "v1"

// Rune budgets of the blocks. Their sum stays below maxBlockText with room
// for at least minAlertsText of alert list, which takes what is left. The
// budgets are per block, so that one long annotation cannot crowd out the
// buttons.
const (
	budgetStatus  = 500
	budgetActions = 4000
	budgetSelect  = 1000 // a select's options, within budgetActions
	budgetState   = 1500
	budgetHint    = 1000
	budgetContext = 1500
	budgetLinks   = 2000
	minAlertsText = 1000
)

// The budgets must leave room for the alert list: this constant overflows,
// failing the build, if they do not.
const _ = uint(maxBlockText - maxHeaderText - budgetStatus - budgetActions -
	budgetState - budgetHint - budgetContext - budgetLinks - minAlertsText)

// Per-item caps, in runes, that keep one long label or annotation from
// taking a whole block.
const (
	capLabelName    = 30
	capFieldValue   = 110
	capLineValue    = 60
	capIdent        = 200
	capAlertSummary = 200
	capLinkURL      = 500
	capStateLine    = 600
	capUserName     = 40
	capSeverity     = 40
	capMention      = 300
	capTitle        = maxHeaderText
	capTextSummary  = 1000
	maxUsersShown   = 10
	// Caps of what templates write. The built-in rendering stays within
	// them too: a context field takes at most 2+capLabelName+1+capFieldValue
	// runes, an alert line at most 2+capIdent+3+capAlertSummary+3+capLinkURL+9.
	capContextField = budgetContext / maxSectionFields
	capSeverityText = 100
	capAlertLine    = 920
)

// Label names and annotation keys with a meaning for the rendering.
const (
	labelAlertname  = "alertname"
	labelSeverity   = "severity"
	annotActionHint = "action_hint"
	annotSummary    = "summary"
	annotDesc       = "description"
	annotRunbook    = "runbook_url"
	annotDashboard  = "dashboard_url"
)

// Render renders an alert group as a Slack message. The message passes
// Validate whatever the input: long values are cut by runes with a visible
// "…" and lists end in "…and N more". The parts that the route's Templates
// define are rendered from them; a part whose template fails falls back to
// the built-in rendering and is listed in the message's TemplateErrors.
func Render(in Input) Message {
	g := newGroup(in)
	header := headerBlock(g)
	status := statusBlock(g, "")
	var actions slack.Block
	if !g.resolved {
		actions = actionsBlock(g)
	}
	state := stateBlock(g)
	hint := hintBlock(g)
	context := contextBlock(g)
	links := linksBlock(g)

	used := 0
	for _, b := range []slack.Block{header, status, actions, state, hint, context, links} {
		used += blockText(b)
	}
	alerts := alertsBlock(g, min(maxSectionText, maxBlockText-used))

	var blocks []slack.Block
	for _, b := range []slack.Block{header, status, context, hint, alerts, links, state, actions} {
		if b != nil {
			blocks = append(blocks, b)
		}
	}
	return Message{Text: fallbackText(g), Blocks: slack.Blocks{BlockSet: blocks}, TemplateErrors: g.tx.errors()}
}

// Minimal renders a small message for an alert group: the header, one status
// section and the actions. It is what to send when Slack rejects the full
// rendering with invalid_blocks or msg_blocks_too_long. It uses the title,
// severity and text templates as Render does.
func Minimal(in Input) Message {
	g := newGroup(in)
	n := len(g.data.Alerts) + int(min(g.truncated, uint64(maxInt)))
	note := plural(n, "alert", "alerts") + "; details left out"
	blocks := []slack.Block{headerBlock(g), statusBlock(g, note)}
	if !g.resolved {
		if actions := actionsBlock(g); actions != nil {
			blocks = append(blocks, actions)
		}
	}
	return Message{Text: fallbackText(g), Blocks: slack.Blocks{BlockSet: blocks}, TemplateErrors: g.tx.errors()}
}

// maxInt bounds counts taken from uint64 input.
const maxInt = 1<<31 - 1

// group is what the blocks are built from: the input and what is derived
// from it once.
type group struct {
	in        Input
	data      *template.Data // never nil
	truncated uint64
	resolved  bool
	title     string // one line, not escaped
	severity  string // lower case, "none" when unknown
	firing    int    // firing alerts in the list
	start     time.Time
	end       time.Time
	// order lists the indexes of the alerts in the order of the alert
	// list: firing first, then by labels.
	order []int
	// hint is the built-in action hint (hintText), not escaped; shared is
	// hint on one line when every alert it sums up says just that, else "".
	hint, shared string
	tx           *templateRun // nil without templates
}

func newGroup(in Input) *group {
	g := &group{in: in, data: in.Group, truncated: in.TruncatedAlerts}
	if g.data == nil {
		g.data = &template.Data{}
	}
	g.resolved = g.data.Status == "resolved"
	g.title = groupTitle(g.data, in.GroupKey)
	g.severity = groupSeverity(g.data)
	for _, a := range g.data.Alerts {
		if a.Status == "firing" {
			g.firing++
		}
		if !a.StartsAt.IsZero() && (g.start.IsZero() || a.StartsAt.Before(g.start)) {
			g.start = a.StartsAt
		}
		if !a.EndsAt.IsZero() && a.EndsAt.After(g.end) {
			g.end = a.EndsAt
		}
	}
	g.order = listOrder(g.data.Alerts)
	var all bool
	g.hint, all = hintText(g)
	if all {
		g.shared = oneLine(g.hint)
	}
	// The title template sees the built-in title; every later part sees the
	// title as the message shows it.
	g.tx = newTemplateRun(g)
	if t, ok := g.tx.title(); ok {
		g.title = t
	}
	return g
}

// groupTitle names the group: its alertname, else the group key.
func groupTitle(d *template.Data, groupKey string) string {
	for _, s := range []string{d.GroupLabels[labelAlertname], d.CommonLabels[labelAlertname], groupKey} {
		if s = oneLine(s); s != "" {
			return s
		}
	}
	return "Alert group"
}

// SeverityRank orders the severities amslack knows, most urgent highest;
// unknown ones rank lowest.
func SeverityRank(s string) int {
	switch s {
	case "critical":
		return 5
	case "error":
		return 4
	case "warning":
		return 3
	case "info":
		return 2
	case "none":
		return 1
	}
	return 0
}

// Severity returns an alert group's severity as its message shows it: the
// common severity label, else the highest severity among the alerts, else
// "none".
func Severity(d *template.Data) string { return groupSeverity(d) }

// SeverityIcon returns the icon a message shows for a severity.
func SeverityIcon(s string) string {
	if icon, ok := severityIcons[s]; ok {
		return icon
	}
	return "⚪"
}

// EscapeMrkdwn escapes what Slack's mrkdwn gives a meaning to in text that
// comes from outside: &, < and >.
func EscapeMrkdwn(s string) string { return escapeMrkdwn(s) }

// Mention names u in mrkdwn: a mention, which Slack shows with the current
// name, when u.ID has the shape of a Slack user ID; otherwise u's name,
// escaped and on one line.
func Mention(u alertgroup.User) string { return who(u) }

// severityIcons are the icons of the severities amslack knows.
var severityIcons = map[string]string{
	"critical": "🔴", "error": "🟠", "warning": "🟡", "info": "🔵", "none": "⚪",
}

// groupSeverity is the common severity label, else the highest severity
// among the alerts.
func groupSeverity(d *template.Data) string {
	if s := normSeverity(d.CommonLabels[labelSeverity]); s != "" {
		return s
	}
	best := ""
	for _, a := range d.Alerts {
		s := normSeverity(a.Labels[labelSeverity])
		if s == "" {
			continue
		}
		if best == "" || SeverityRank(s) > SeverityRank(best) ||
			SeverityRank(s) == SeverityRank(best) && s < best {
			best = s
		}
	}
	if best == "" {
		return "none"
	}
	return best
}

func normSeverity(s string) string { return strings.ToLower(oneLine(s)) }

// severityLabel is the icon and bold word shown for a severity, escaped.
// Severities without an icon of their own are title-cased the way
// Alertmanager's template function title does it, so that a template can
// write the same label.
func severityLabel(s string) string {
	if icon, ok := severityIcons[s]; ok {
		return icon + " *" + titleCase(s) + "*"
	}
	return "⚪ *" + clipEscaped(titleCase(s), capSeverity) + "*"
}

// headerBlock shows the title and the state of the group: firing,
// handled (acknowledged or silenced, which change the icon and the words so
// that a handled group reads as such at a glance) or resolved. A header is
// plain_text, which shows no mentions and no date tokens: people are named
// by name and times are in UTC.
func headerBlock(g *group) slack.Block {
	prefix, suffix := "🔥 ", " — firing"
	st := g.in.State
	switch {
	case g.resolved:
		prefix, suffix = "✅ ", " — resolved"
	case st.Acked != nil:
		prefix, suffix = "👀 ", " — acknowledged"
		if n := plainName(st.Acked.By); n != "" {
			suffix = " — " + n + " is on it"
		}
		if st.Silenced != nil {
			suffix += ", silenced" + at(" until ", st.Silenced.Until, g.in.Now)
		}
	case st.Silenced != nil:
		prefix, suffix = "🔕 ", " — silenced"
		if n := plainName(st.Silenced.By); n != "" {
			suffix += " by " + n
		}
		suffix += at(" until ", st.Silenced.Until, g.in.Now)
	case g.firing > 0:
		suffix = fmt.Sprintf(" — %d firing", g.firing)
	}
	title := clip(g.title, capTitle-runes(prefix)-runes(suffix))
	return slack.NewHeaderBlock(plainText(prefix+title+suffix), slack.HeaderBlockOptionBlockID(blockHeader))
}

// handled reports whether someone has acknowledged or silenced the group.
func handled(st alertgroup.State) bool { return st.Acked != nil || st.Silenced != nil }

// statusText says since when the group has been firing, or how long it
// fired. The start is a date token rather than a duration, which would be
// wrong as soon as it was posted.
func statusText(g *group) string {
	if g.resolved {
		if g.start.IsZero() || g.end.IsZero() || g.end.Before(g.start) {
			return "Resolved"
		}
		return "Resolved after " + humanDuration(g.end.Sub(g.start))
	}
	if g.start.IsZero() {
		return "Firing"
	}
	return "Firing since " + slackDate(g.start)
}

// slackDate writes t as Slack's date token, which each reader's client
// shows in their own time zone ("today 14:12", "Nov 28 09:00"), and clients
// that cannot read it as the fallback, t in UTC
// (https://api.slack.com/reference/surfaces/formatting#date-formatting).
// A time before 1970 has no token and is written in UTC.
func slackDate(t time.Time) string {
	fallback := t.UTC().Format("2006-01-02 15:04 UTC")
	if t.Unix() < 0 {
		return fallback
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), fallback)
}

// slackAgo writes how long ago t was as Slack's {ago} date token ("42
// minutes ago"), which each reader's client keeps current, with t in UTC as
// the fallback (https://api.slack.com/reference/surfaces/formatting#date-formatting).
func slackAgo(t time.Time, now time.Time) string {
	fallback := strings.TrimPrefix(at(" ", t, now), " ")
	if t.Unix() < 0 {
		return fallback
	}
	return fmt.Sprintf("<!date^%d^{ago}|%s>", t.Unix(), fallback)
}

// statusBlock shows severity, status and the mention the route configures
// for the severity. The mention calls people to a new alert, so only the
// first post of a group that is firing and not handled has it. note, if
// any, goes on a second line.
func statusBlock(g *group, note string) slack.Block {
	label, ok := g.tx.severity()
	if !ok {
		label = severityLabel(g.severity)
	}
	s := label + " · " + statusText(g)
	if m := oneLine(g.in.Options.Mentions[g.severity]); m != "" && !g.resolved && !g.in.Update && !handled(g.in.State) {
		// Mentions come from configuration and are mrkdwn on purpose
		// (<!here>, <!subteam^…>), so they are cut but not escaped.
		s += " " + clip(m, capMention)
	}
	if note != "" {
		s += "\n" + clipEscaped(note, capMention)
	}
	return slack.NewSectionBlock(mrkdwn(s), nil, nil, slack.SectionBlockOptionBlockID(blockStatus))
}

// labelRank orders the labels that tell groups apart best first.
func labelRank(name string) int {
	switch name {
	case labelAlertname:
		return 0
	case "service":
		return 1
	case "env":
		return 2
	case "environment":
		return 3
	case "region":
		return 4
	case "cluster":
		return 5
	case "namespace":
		return 6
	case "job":
		return 7
	case "instance":
		return 8
	}
	return 9
}

// orderedNames returns the names of kv for which keep is true, the
// preferred ones first, then the rest sorted.
func orderedNames(kv template.KV, keep func(name, value string) bool) []string {
	names := make([]string, 0, len(kv))
	for k, v := range kv {
		if keep(k, v) {
			names = append(names, k)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(labelRank(a), labelRank(b)), strings.Compare(a, b))
	})
	return names
}

// contextNames are the common labels that the context shows: all but the
// name and severity, which the header and status show already.
func contextNames(d *template.Data) []string {
	return orderedNames(d.CommonLabels, func(k, _ string) bool {
		return k != labelAlertname && k != labelSeverity
	})
}

// contextBlock shows the group's context as section fields: the context
// template's fields, else the common labels of contextNames.
func contextBlock(g *group) slack.Block {
	if fields, ok := g.tx.context(); ok {
		return fieldsBlock(len(fields), func(i int) string { return fields[i] })
	}
	common := g.data.CommonLabels
	names := contextNames(g.data)
	// Each field takes at most 2+capLabelName+1+capFieldValue runes, within
	// capContextField.
	return fieldsBlock(len(names), func(i int) string {
		k := names[i]
		return "*" + clipEscaped(oneLine(k), capLabelName) + "*\n" + clipEscaped(oneLine(common[k]), capFieldValue)
	})
}

// fieldsBlock is the context section holding field(0) … field(n-1), or
// nil for none. Past Slack's ten fields, the tenth says how many are left
// out. Fields of at most capContextField runes keep ten within
// budgetContext and far below Slack's 2000 per field.
func fieldsBlock(n int, field func(i int) string) slack.Block {
	if n == 0 {
		return nil
	}
	shown := n
	if shown > maxSectionFields {
		shown = maxSectionFields - 1 // the last field says how many are left out
	}
	fields := make([]*slack.TextBlockObject, 0, shown+1)
	for i := range shown {
		fields = append(fields, mrkdwn(field(i)))
	}
	if shown < n {
		fields = append(fields, mrkdwn(more(n-shown)))
	}
	return slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID(blockContext))
}

// annotation is the first non-blank of keys among the common annotations,
// else among the first alert's.
func annotation(d *template.Data, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(d.CommonAnnotations[k]); v != "" {
			return v
		}
	}
	if len(d.Alerts) > 0 {
		for _, k := range keys {
			if v := strings.TrimSpace(d.Alerts[0].Annotations[k]); v != "" {
				return v
			}
		}
	}
	return ""
}

// hintText is the built-in action hint, not escaped: the first of the
// action_hint, summary and description annotations that is common to the
// group; else what the alerts say, each by the first of those annotations
// it has, joined by joinHints. While alerts fire, only firing ones are
// summed up. all reports whether every one of them says the hint.
func hintText(g *group) (hint string, all bool) {
	keys := []string{annotActionHint, annotSummary, annotDesc}
	for _, k := range keys {
		if v := strings.TrimSpace(g.data.CommonAnnotations[k]); v != "" {
			return v, true
		}
	}
	alerts := g.data.Alerts
	onlyFiring := !g.resolved && g.firing > 0
	var hints []string
	n := 0
	for _, i := range g.order {
		a := &alerts[i]
		if onlyFiring && a.Status != "firing" {
			continue
		}
		n++
		for _, k := range keys {
			if v := strings.TrimSpace(a.Annotations[k]); v != "" {
				hints = append(hints, v)
				break
			}
		}
	}
	same := len(hints) == n && !slices.ContainsFunc(hints, func(h string) bool { return h != hints[0] })
	return joinHints(n, hints), same && n > 0
}

// joinHints summarizes what n alerts say, hints in the order of the alert
// list, so that it names every alert rather than the first:
//
//	Disk almost full on db-1                 (all say the same)
//	Disk almost full on db-1, db-2           (they differ in one word)
//	3 alerts: Disk 91% full; Disk 95% full   (otherwise)
//
// Past maxNamesListed different words or hints, it ends in "…and N more".
func joinHints(n int, hints []string) string {
	var distinct []string
	seen := map[string]bool{}
	for _, h := range hints {
		if !seen[h] {
			seen[h] = true
			distinct = append(distinct, h)
		}
	}
	switch len(distinct) {
	case 0:
		return ""
	case 1:
		return distinct[0]
	}
	listed := func(items []string, sep string) string {
		if len(items) <= maxNamesListed {
			return strings.Join(items, sep)
		}
		return strings.Join(items[:maxNamesListed], sep) + " " + more(len(items)-maxNamesListed)
	}
	if prefix, words, suffix, ok := oneWordApart(distinct); ok {
		return strings.TrimSpace(prefix + " " + listed(words, ", ") + " " + suffix)
	}
	for i, h := range distinct {
		distinct[i] = clip(oneLine(h), capAlertSummary)
	}
	return plural(n, "alert", "alerts") + ": " + listed(distinct, "; ")
}

// oneWordApart reports whether the texts have the same number of words, at
// least two, and differ in the word at one place only; it returns the words
// before that place, the word of each text and the words after.
func oneWordApart(texts []string) (prefix string, words []string, suffix string, ok bool) {
	split := make([][]string, len(texts))
	for i, t := range texts {
		split[i] = strings.Fields(t)
		if len(split[i]) != len(split[0]) || len(split[i]) < 2 {
			return "", nil, "", false
		}
	}
	first := split[0]
	diff := -1
	for w := range first {
		for _, ws := range split[1:] {
			if ws[w] != first[w] {
				if diff >= 0 && diff != w {
					return "", nil, "", false
				}
				diff = w
			}
		}
	}
	if diff < 0 {
		return "", nil, "", false
	}
	words = make([]string, len(split))
	for i, ws := range split {
		words[i] = clip(ws[diff], capLineValue)
	}
	return strings.Join(first[:diff], " "), words, strings.Join(first[diff+1:], " "), true
}

// hintBlock shows what to do about the group, or what it is about.
func hintBlock(g *group) slack.Block {
	h, ok := g.tx.hint()
	if !ok {
		h = clipEscaped(g.hint, budgetHint)
	}
	if h == "" {
		return nil
	}
	return slack.NewSectionBlock(mrkdwn(h), nil, nil, slack.SectionBlockOptionBlockID(blockHint))
}

// alertIdent names an alert by the labels that set it apart from the
// group's common labels, not escaped; "" when none do.
func alertIdent(a *template.Alert, common template.KV) string {
	names := orderedNames(a.Labels, func(k, v string) bool {
		cv, ok := common[k]
		return !ok || cv != v
	})
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(clip(oneLine(k), capLabelName))
		b.WriteByte('=')
		b.WriteString(clip(oneLine(a.Labels[k]), capLineValue))
		if b.Len() > 4*capIdent {
			break // long enough to be cut below; stop copying labels
		}
	}
	return clip(b.String(), capIdent)
}

// alertName names an alert when no label sets it apart, not escaped.
func alertName(a *template.Alert) string {
	for _, s := range []string{a.Labels[labelAlertname], a.Fingerprint} {
		if s = oneLine(s); s != "" {
			return clip(s, capIdent)
		}
	}
	return "alert"
}

func alertSummary(a *template.Alert) string {
	for _, k := range []string{annotSummary, annotDesc} {
		if v := oneLine(a.Annotations[k]); v != "" {
			return v
		}
	}
	return ""
}

// listSummary is the summary that the alert list shows for a: its summary,
// or "" when the group's hint says just that for every alert.
func (g *group) listSummary(a *template.Alert) string {
	if s := alertSummary(a); s != g.shared {
		return s
	}
	return ""
}

// alertLine is one alert in the list: status, what sets it apart, its
// summary as listSummary has it, and a link to its source. It is at most
// about 920 runes.
func alertLine(g *group, a *template.Alert) string {
	var b strings.Builder
	if a.Status == "firing" {
		b.WriteString("🔥 ")
	} else {
		b.WriteString("✅ ")
	}
	ident := alertIdent(a, g.data.CommonLabels)
	sum := g.listSummary(a)
	if ident == "" && sum == "" {
		ident = alertName(a)
	}
	b.WriteString(clipEscaped(ident, capIdent))
	if sum != "" {
		if ident != "" {
			b.WriteString(" — ")
		}
		b.WriteString(clipEscaped(sum, capAlertSummary))
	}
	if u := webURL(a.GeneratorURL, capLinkURL); u != "" {
		b.WriteString(" · ")
		b.WriteString(link(u, "source"))
	}
	return b.String()
}

// alertsBlock lists the alerts, firing first, within limit runes.
func alertsBlock(g *group, limit int) slack.Block {
	alerts, order := g.data.Alerts, g.order
	if len(alerts) == 0 && g.truncated == 0 {
		return nil
	}
	var text string
	if g.tx.defines(partAlertLine) {
		sorted := make([]*template.Alert, len(order))
		for k, i := range order {
			sorted[k] = &alerts[i]
		}
		lines := g.tx.alertLines(sorted)
		text = fitLines(len(lines), func(i int) string { return lines[i] }, g.truncated, limit)
	} else {
		text = fitLines(len(order), func(i int) string {
			return alertLine(g, &alerts[order[i]])
		}, g.truncated, limit)
	}
	if text == "" {
		return nil
	}
	return slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID(blockAlerts))
}

// listOrder returns the indexes of alerts in the order of the alert list:
// firing first, then by labels, then by fingerprint.
func listOrder(alerts template.Alerts) []int {
	type entry struct {
		i      int
		firing bool
		key    string
	}
	entries := make([]entry, len(alerts))
	for i := range alerts {
		entries[i] = entry{i: i, firing: alerts[i].Status == "firing", key: labelsKey(alerts[i].Labels)}
	}
	slices.SortStableFunc(entries, func(a, b entry) int {
		if a.firing != b.firing {
			if a.firing {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(a.key, b.key), strings.Compare(alerts[a.i].Fingerprint, alerts[b.i].Fingerprint))
	})
	order := make([]int, len(entries))
	for k, e := range entries {
		order[k] = e.i
	}
	return order
}

// labelsKey writes labels sorted by name, for ordering alerts. It is
// cheaper than KV.String, which matters with a thousand alerts.
func labelsKey(kv template.KV) string {
	names := make([]string, 0, len(kv))
	size := 0
	for k, v := range kv {
		names = append(names, k)
		size += len(k) + len(v) + 2
	}
	slices.Sort(names)
	var b strings.Builder
	b.Grow(size)
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(kv[k])
		b.WriteByte(0)
	}
	return b.String()
}

// fitLines joins line(0) … line(n-1) with newlines, as many as fit in limit
// runes, and ends with "…and N more" for the lines left out plus hidden
// items that are not in the list at all. Lines are computed only as far as
// they can be shown.
func fitLines(n int, line func(i int) string, hidden uint64, limit int) string {
	var b strings.Builder
	// ends[i] and used[i] are the byte length and rune count of the text
	// holding the first i lines.
	ends, used := []int{0}, []int{0}
	for i := range n {
		l := line(i)
		cost := runes(l)
		if i > 0 {
			cost++
		}
		if used[i]+cost > limit {
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
		ends, used = append(ends, b.Len()), append(used, used[i]+cost)
	}
	shown := len(ends) - 1
	if shown == n && hidden == 0 {
		return b.String()
	}
	// Take lines back until the tail fits after them.
	for ; shown >= 0; shown-- {
		t := moreU(uint64(n-shown) + hidden)
		if shown > 0 {
			t = "\n" + t
		}
		if used[shown]+runes(t) <= limit {
			return b.String()[:ends[shown]] + t
		}
	}
	return ""
}

func moreU(n uint64) string { return fmt.Sprintf("…and %d more", n) }

// linksBlock shows the links: the links template's lines, else links to
// the runbook, the dashboard, the alert's source and Alertmanager's pages
// for the group. A link that would break Slack's ten elements or
// budgetLinks is left out, never cut: a cut URL would lead elsewhere.
func linksBlock(g *group) slack.Block {
	lines, ok := g.tx.links()
	if !ok {
		lines = builtinLinks(g.data)
	}
	var elems []slack.MixedElement
	used := 0
	for _, s := range lines {
		if len(elems) == maxContextElements {
			break
		}
		if used+runes(s) > budgetLinks {
			continue
		}
		elems = append(elems, mrkdwn(s))
		used += runes(s)
	}
	if len(elems) == 0 {
		return nil
	}
	return slack.NewContextBlock(blockLinks, elems...)
}

// builtinLinks are the built-in link lines, icon and link each.
func builtinLinks(d *template.Data) []string {
	var lines []string
	add := func(icon, label, raw string) {
		if s := linkTo(label, raw); s != "" {
			lines = append(lines, icon+" "+s)
		}
	}
	add("📖", "Runbook", annotation(d, annotRunbook))
	add("📊", "Dashboard", annotation(d, annotDashboard))
	for _, a := range d.Alerts {
		if s := linkTo("Source", a.GeneratorURL); s != "" {
			lines = append(lines, "🔎 "+s)
			break
		}
	}
	filter := matcherString(d.GroupLabels)
	add("🔕", "Silence in Alertmanager", alertmanagerURL(d.ExternalURL, "silences/new", filter))
	add("🚨", "Alertmanager", alertmanagerURL(d.ExternalURL, "alerts", filter))
	return lines
}

// linkTo is a mrkdwn link to raw labelled label, or "" when raw is not an
// http(s) URL that fits capLinkURL. label is used as it is.
func linkTo(label, raw string) string {
	u := webURL(raw, capLinkURL)
	if u == "" {
		return ""
	}
	return link(u, label)
}

// alertmanagerURL is a page of Alertmanager's web UI filtered by the
// matchers, or unfiltered when the filter makes its link too long; "" when
// the external URL is not an http(s) URL. The URL is not escaped for
// mrkdwn: linkTo does that.
func alertmanagerURL(external, page, filter string) string {
	base := strings.TrimRight(strings.TrimSpace(external), "/")
	if webURL(base, capLinkURL) == "" {
		return ""
	}
	base += "/#/" + page
	if filter != "" {
		q := strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
		if u := base + "?filter=" + q; webURL(u, capLinkURL) != "" {
			return u
		}
	}
	if webURL(base, capLinkURL) == "" {
		return ""
	}
	return base
}

// matcherString writes labels as Alertmanager matchers:
// {alertname="DiskFull", cluster="prod"}; "" for no labels.
func matcherString(kv template.KV) string {
	if len(kv) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range kv.SortedPairs() {
		if i > 0 {
			b.WriteString(", ")
		}
		if model.LegacyValidation.IsValidLabelName(p.Name) {
			b.WriteString(p.Name)
		} else {
			b.WriteString(quoteMatcher(p.Name))
		}
		b.WriteByte('=')
		b.WriteString(quoteMatcher(p.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// quoteMatcher quotes s as Alertmanager's matcher parser reads it.
func quoteMatcher(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// fallbackText is the top-level text: notifications, screen readers and
// clients that cannot show blocks use it. The text template writes it if
// there is one. Slack reads it as mrkdwn, so the built-in text is escaped: a
// label such as <!channel> must not notify anyone.
func fallbackText(g *group) string {
	if s, ok := g.tx.text(); ok {
		return s
	}
	var b strings.Builder
	if g.resolved {
		b.WriteString("[RESOLVED] ")
	} else if g.firing == 0 {
		b.WriteString("[FIRING] ")
	} else {
		fmt.Fprintf(&b, "[FIRING:%d] ", g.firing)
	}
	b.WriteString(clip(g.title, capTitle))
	if g.severity != "none" {
		b.WriteString(" (" + clip(g.severity, capSeverity) + ")")
	}
	if h := oneLine(g.hint); h != "" {
		b.WriteString(" — " + clip(h, capTextSummary))
	}
	return clipEscaped(b.String(), maxText)
}

// humanDuration writes d the short way: 45s, 23m, 2h 5m, 3d 4h.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 24*time.Hour:
		h, m := d/time.Hour, d%time.Hour/time.Minute
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days, h := d/(24*time.Hour), d%(24*time.Hour)/time.Hour
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}
