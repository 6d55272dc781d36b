package render

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// actionsBlock holds the controls of a firing group: those the caller chose
// for the group's state, in order, then the runbook actions whose matchers
// fit the group. It stays within budgetActions runes and Slack's 25
// elements; a control that does not fit is left out. It is nil when there
// is no control.
func actionsBlock(g *group) slack.Block {
	var elems []slack.BlockElement
	used := 0
	add := func(e slack.BlockElement) {
		c := elementText(e)
		if len(elems) == maxActionElements || used+c > budgetActions {
			return
		}
		elems = append(elems, e)
		used += c
	}
	// Slack wants action_ids unique within the block; the interaction side
	// tells actions apart by them.
	taken := map[string]bool{}
	for _, c := range g.in.Controls {
		if c.ActionID == "" || runes(c.ActionID) > maxID || taken[c.ActionID] {
			continue
		}
		if c.Alerts {
			if c.Options = AlertOptions(g.data); len(c.Options) == 0 {
				continue
			}
		}
		taken[c.ActionID] = true
		add(controlElement(c))
	}
	common := labelSet(g.data.CommonLabels)
	for _, a := range g.in.Options.Actions {
		if a.ID == "" || runes(a.ID) > maxID || taken[a.ID] || !matches(a, common) {
			continue
		}
		taken[a.ID] = true
		add(actionButton(a))
	}
	if len(elems) == 0 {
		// Slack rejects an actions block without elements.
		return nil
	}
	return slack.NewActionBlock(blockActions, elems...)
}

func labelSet(kv map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(kv))
	for k, v := range kv {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// matches reports whether the action's matchers all match the group's
// common labels, as Alertmanager matches a route. An action without
// matchers fits every group.
func matches(a Action, common model.LabelSet) bool {
	if slices.Contains(a.Matchers, nil) {
		return false
	}
	return a.Matchers.Matches(common)
}

// controlsBlock is the actions block of a reply's controls, in order. It
// leaves out a control without an action_id, with one longer than Slack
// allows or taken by an earlier control, and those past Slack's 25
// elements. It is nil when no control is left.
func controlsBlock(cs []Control) slack.Block {
	var elems []slack.BlockElement
	taken := map[string]bool{}
	for _, c := range cs {
		if c.ActionID == "" || runes(c.ActionID) > maxID || taken[c.ActionID] || len(elems) == maxActionElements {
			continue
		}
		taken[c.ActionID] = true
		elems = append(elems, controlElement(c))
	}
	if len(elems) == 0 {
		// Slack rejects an actions block without elements.
		return nil
	}
	return slack.NewActionBlock(blockActions, elems...)
}

// controlElement is c's button, or its static select when c has options.
func controlElement(c Control) slack.BlockElement {
	if len(c.Options) > 0 {
		return selectElement(c)
	}
	b := slack.NewButtonBlockElement(c.ActionID, cmp.Or(c.Value, buttonValue), plainText(clip(oneLine(c.Text), maxButtonText)))
	if s := slack.Style(c.Style); s == slack.StylePrimary || s == slack.StyleDanger {
		b.Style = s
	}
	b.Confirm = confirmObject(c.Confirm, c.Text)
	return b
}

// selectElement is c's static select. It keeps the first of options with
// the same value, at most Slack's 100 options, each text cut to 75
// characters, and stays within budgetSelect runes.
func selectElement(c Control) slack.BlockElement {
	var opts []*slack.OptionBlockObject
	used := 0
	seen := map[string]bool{}
	for _, o := range c.Options {
		if o.Value == "" || seen[o.Value] || len(opts) == maxSelectOptions {
			continue
		}
		text := clip(o.Text, maxOptionText)
		if used+runes(text) > budgetSelect {
			continue
		}
		seen[o.Value] = true
		used += runes(text)
		opts = append(opts, slack.NewOptionBlockObject(o.Value, plainText(text), nil))
	}
	return slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText(c.Placeholder), c.ActionID, opts...)
}

// DurationOptions are the choices of a select of durations, in order, with
// non-positive and repeated durations left out. Option values are Go
// durations (1h, 30m) that time.ParseDuration reads back; texts are for
// people ("1 hour 30 minutes").
func DurationOptions(durations []time.Duration) []Option {
	var opts []Option
	seen := map[time.Duration]bool{}
	for _, d := range durations {
		if d <= 0 || seen[d] {
			continue
		}
		seen[d] = true
		opts = append(opts, Option{Text: durationText(d), Value: durationValue(d)})
	}
	return opts
}

// durationValue writes d as a Go duration without zero units: 1h, 1h30m,
// 30m.
func durationValue(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// durationText writes d for people, in its two largest units: "1 hour",
// "1 hour 30 minutes", "2 days".
func durationText(d time.Duration) string {
	units := []struct {
		size      time.Duration
		one, many string
	}{
		{24 * time.Hour, "day", "days"},
		{time.Hour, "hour", "hours"},
		{time.Minute, "minute", "minutes"},
		{time.Second, "second", "seconds"},
	}
	var parts []string
	for _, u := range units {
		if n := d / u.size; n > 0 {
			parts = append(parts, plural(int(min(n, maxInt)), u.one, u.many))
			d -= n * u.size
		}
		if len(parts) == 2 {
			break
		}
	}
	if len(parts) == 0 {
		return d.String()
	}
	return strings.Join(parts, " ")
}

// actionButton is a runbook action's button, its texts cut to Slack's
// limits (button text 75, confirm title 100, text 300, confirm and deny 30).
func actionButton(a Action) slack.BlockElement {
	label := oneLine(a.Label)
	if label == "" {
		label = oneLine(a.ID)
	}
	b := slack.NewButtonBlockElement(a.ID, buttonValue, plainText(clip(label, maxButtonText)))
	if s := slack.Style(a.Style); s == slack.StylePrimary || s == slack.StyleDanger {
		b.Style = s
	}
	b.Confirm = confirmObject(a.Confirm, label)
	return b
}

// confirmObject is c's dialog, its texts cut to Slack's limits, or nil for
// no dialog. label names the control in the default question.
func confirmObject(c *Confirm, label string) *slack.ConfirmationBlockObject {
	if c == nil {
		return nil
	}
	return slack.NewConfirmationBlockObject(
		plainText(clip(cmp.Or(oneLine(c.Title), "Are you sure?"), maxConfirmTitle)),
		plainText(clip(cmp.Or(strings.TrimSpace(c.Text), label+"?"), maxConfirmText)),
		plainText(clip(cmp.Or(oneLine(c.Confirm), "Yes"), maxConfirmButton)),
		plainText(clip(cmp.Or(oneLine(c.Deny), "Cancel"), maxConfirmButton)),
	)
}

// stateBlock shows what people did to the group: acknowledgement, silence,
// approvals so far and the last action results, newest first.
func stateBlock(g *group) slack.Block {
	st := g.in.State
	now := g.in.Now
	var lines []string
	if m := st.Acked; m != nil {
		// How long ago, kept current by Slack: an acknowledgement hours
		// old should not read as fresh.
		line := "👀 Acknowledged by " + who(m.By)
		if !m.At.IsZero() {
			line += " · " + slackAgo(m.At, now)
		}
		lines = append(lines, line)
	}
	if m := st.Silenced; m != nil {
		lines = append(lines, "🔕 Silenced by "+who(m.By)+at(" until ", m.Until, now))
	} else if n, total := silencedAlerts(g.data, st, now); n > 0 {
		lines = append(lines, fmt.Sprintf("🔕 %d of %d silenced", n, total))
	}
	if n := len(st.Escalated); n > 0 {
		// The last step that fired says who is being called now.
		e := st.Escalated[n-1]
		line := "📣 Escalated to " + e.Mention
		if !e.At.IsZero() {
			line += " · " + slackAgo(e.At, now)
		}
		lines = append(lines, line)
	}
	approvals, expires := currentApprovals(st, now)
	for _, id := range approvalOrder(approvals, g.in.Options.Actions) {
		users := approvals[id]
		a := findAction(g.in.Options.Actions, id)
		progress := plural(len(users), "approval", "approvals")
		if a.Approvals > 0 {
			progress = fmt.Sprintf("%d/%d approvals", len(users), a.Approvals)
		}
		names := make([]string, 0, min(len(users), maxUsersShown)+1)
		for _, u := range users[:min(len(users), maxUsersShown)] {
			names = append(names, who(u))
		}
		if len(users) > maxUsersShown {
			names = append(names, fmt.Sprintf("+%d", len(users)-maxUsersShown))
		}
		lines = append(lines, actionLabel(a, id)+": "+progress+" ("+strings.Join(names, ", ")+")"+at(", expires ", expires[id], now))
	}
	for _, r := range slices.Backward(st.Results) {
		icon, detail := "✅", "ok"
		if !r.OK {
			icon, detail = "❌", "failed"
		}
		if d := oneLine(r.Detail); d != "" {
			detail = d
		}
		a := findAction(g.in.Options.Actions, r.Action)
		by := r.Approvers
		if len(by) == 0 {
			by = []alertgroup.User{r.By}
		}
		lines = append(lines, icon+" "+actionLabel(a, r.Action)+" by "+whoList(by)+": "+clipEscaped(detail, capStateLine/2))
	}
	if len(lines) == 0 {
		return nil
	}
	text := fitLines(len(lines), func(i int) string { return lines[i] }, 0, min(budgetState, maxTextObject))
	if text == "" {
		return nil
	}
	return slack.NewContextBlock(blockState, mrkdwn(text))
}

// currentApprovals returns the approvals of st that still count at now,
// and per action when the first of them stops counting. An approval without
// a recorded end counts and adds no end; with a zero now, every approval
// counts.
func currentApprovals(st alertgroup.State, now time.Time) (map[string][]alertgroup.User, map[string]time.Time) {
	if len(st.ApprovalsUntil) == 0 {
		return st.Approvals, nil
	}
	approvals := make(map[string][]alertgroup.User, len(st.Approvals))
	expires := map[string]time.Time{}
	for id, users := range st.Approvals {
		ends := st.ApprovalsUntil[id]
		for _, u := range users {
			end, ok := ends[u.ID]
			if !ok {
				approvals[id] = append(approvals[id], u)
				continue
			}
			if !now.IsZero() && !end.After(now) {
				continue
			}
			approvals[id] = append(approvals[id], u)
			if e := expires[id]; e.IsZero() || end.Before(e) {
				expires[id] = end
			}
		}
	}
	return approvals, expires
}

// approvalOrder lists the actions with approvals: configured ones in
// configuration order, then any others by id.
func approvalOrder(approvals map[string][]alertgroup.User, actions []Action) []string {
	var ids, rest []string
	seen := map[string]bool{}
	for _, a := range actions {
		if len(approvals[a.ID]) > 0 && !seen[a.ID] {
			ids = append(ids, a.ID)
			seen[a.ID] = true
		}
	}
	for id, users := range approvals {
		if len(users) > 0 && !seen[id] {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	return append(ids, rest...)
}

func findAction(actions []Action, id string) Action {
	for _, a := range actions {
		if a.ID == id {
			return a
		}
	}
	return Action{ID: id}
}

// actionLabel names an action for state lines, escaped.
func actionLabel(a Action, id string) string {
	return clipEscaped(cmp.Or(oneLine(a.Label), oneLine(id), "action"), maxButtonText)
}

// who mentions a Slack user by id when the id looks like one, so Slack
// shows the current name; otherwise it writes the name, escaped.
func who(u alertgroup.User) string {
	if isUserID(u.ID) {
		return "<@" + u.ID + ">"
	}
	return clipEscaped(cmp.Or(oneLine(u.Name), oneLine(u.ID), "someone"), capUserName)
}

// whoList names users as who does, "a, b and c", the first maxUsersShown
// of them and then how many more.
func whoList(users []alertgroup.User) string {
	names := make([]string, 0, min(len(users), maxUsersShown))
	for _, u := range users[:min(len(users), maxUsersShown)] {
		names = append(names, who(u))
	}
	if len(users) > maxUsersShown {
		return strings.Join(names, ", ") + " and " + fmt.Sprint(len(users)-maxUsersShown) + " more"
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// plainName names u in plain_text, which shows no mentions: u's name, else
// an id that is not a Slack user id and that who would show as a name; ""
// when there is neither.
func plainName(u alertgroup.User) string {
	if n := oneLine(u.Name); n != "" {
		return clip(n, capUserName)
	}
	if id := oneLine(u.ID); id != "" && !isUserID(id) {
		return clip(id, capUserName)
	}
	return ""
}

// isUserID reports whether s has the shape of a Slack user id (U0123ABCD,
// W0123ABCD): upper-case letters and digits.
func isUserID(s string) bool {
	if len(s) < 2 || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// at writes prefix and t's UTC clock time, with the date when t is not on
// now's day; "" for the zero time.
func at(prefix string, t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	layout := "15:04 UTC"
	if !now.IsZero() {
		ny, nm, nd := now.UTC().Date()
		if y, m, d := t.Date(); y != ny || m != nm || d != nd {
			layout = "2006-01-02 15:04 UTC"
		}
	}
	return prefix + t.Format(layout)
}
