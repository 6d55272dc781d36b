package render

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/prometheus/alertmanager/template"

	// The tz template function loads time zones; minimal container images
	// have no zoneinfo of their own.
	_ "time/tzdata"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Parts of a message that templates can render, in the order of the
// message. A template named "amslack." followed by the part's name renders
// the part unless a route names another template for it.
const (
	partTitle = iota
	partSeverity
	partContext
	partActionHint
	partLinks
	partAlertLine
	partText
	numParts
)

// partNames are the names of the parts, as configuration and metrics use
// them.
var partNames = [numParts]string{"title", "severity", "context", "action_hint", "links", "alert_line", "text"}

// templatePrefix starts the name of the template that renders a part by
// convention: amslack.title, amslack.alert_line, …
const templatePrefix = "amslack."

// Parts returns the names of the parts that templates can render, in the
// order of the message: title, severity, context, action_hint, links,
// alert_line and text. They are the keys of a route's templates map and the
// values of TemplateError.Part.
func Parts() []string { return slices.Clone(partNames[:]) }

// maxTemplateOutput bounds, in bytes, what one execution of a template may
// write. Every part is cut far below it; the bound stops a runaway template
// from filling memory before it is cut.
const maxTemplateOutput = 64 << 10

// errTooLong stops a template that writes more than maxTemplateOutput.
var errTooLong = fmt.Errorf("output longer than %d bytes", maxTemplateOutput)

// errEmpty is the failure of a template that writes nothing for a part
// that cannot be empty: title, severity and text.
var errEmpty = errors.New("rendered no text")

// Templates are the message templates of a route: a set of Alertmanager
// templates and, for each part, the name of the template that renders it.
// A Templates is immutable and safe for concurrent use.
//
// A part's template writes the part; amslack escapes none of it and cuts
// it, by characters, to the part's share of Slack's limits:
//
//	title        plain text, made one line; the header shows it between the
//	             state icon and "— N firing", and the built-in text and
//	             Minimal use it too. Cut to 150 characters with the rest.
//	severity     mrkdwn, made one line, that starts the status line in
//	             place of "🔴 *Critical*". At most 100 characters.
//	context      mrkdwn, one section field per non-empty line. A line
//	             "name: value" (or "name:") shows the name in bold above the
//	             value, like the built-in fields; any other line shows as it
//	             is. Fields are cut to 150 characters; past ten lines the
//	             tenth field says how many are left out.
//	action_hint  mrkdwn, any number of lines, at most 1000 characters.
//	links        one context element per non-empty line, usually an icon
//	             and a link <url|text>. At most ten are shown, and a line
//	             that would take the links past 2000 characters is left out
//	             rather than cut.
//	alert_line   mrkdwn, executed once per alert on a TemplateAlert, firing
//	             alerts first; at most 920 characters a line. Empty output
//	             leaves the alert out of the list, and it is not counted in
//	             the list's "…and N more".
//	text         mrkdwn: the top-level text that notifications and screen
//	             readers show. At most 4000 characters.
//
// Every part but alert_line executes on a TemplateData. Empty output leaves
// out the context, action hint, links and alert blocks; it is a failure for
// title, severity and text. A part whose template fails falls back to the
// built-in rendering and is reported in Message.TemplateErrors.
type Templates struct {
	set *texttemplate.Template
	// names holds, per part, the template that renders it; "" leaves the
	// part to the built-in rendering.
	names [numParts]string
}

// NewTemplates returns the templates of a route. set holds the parsed
// templates, with amslack's functions added by AddTemplateFuncs; names maps
// a part (see Parts) to the template that renders it. A part that names
// does not list uses the template "amslack.<part>" if set defines it, and
// the built-in rendering otherwise. It is an error for names to list an
// unknown part, or a template that set does not define. A nil set defines
// nothing.
func NewTemplates(set *texttemplate.Template, names map[string]string) (*Templates, error) {
	var errs []error
	unknown := make([]string, 0, len(names))
	for p := range names {
		if !slices.Contains(partNames[:], p) {
			unknown = append(unknown, p)
		}
	}
	slices.Sort(unknown)
	for _, p := range unknown {
		errs = append(errs, fmt.Errorf("unknown part %q", p))
	}
	t := &Templates{set: set}
	for i, p := range partNames {
		name, named := names[p]
		if !named {
			name = templatePrefix + p
		}
		switch {
		case defined(set, name):
			t.names[i] = name
		case named:
			errs = append(errs, fmt.Errorf("%s: template %q is not defined", p, name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// defined reports whether set defines the template name.
func defined(set *texttemplate.Template, name string) bool {
	if set == nil || name == "" {
		return false
	}
	t := set.Lookup(name)
	return t != nil && t.Tree != nil
}

// TemplateError is a part whose template failed at rendering time; the
// part fell back to the built-in rendering.
type TemplateError struct {
	// Part is one of Parts.
	Part string
	Err  error
}

// Error names the part and says what failed.
func (e TemplateError) Error() string { return e.Part + " template: " + e.Err.Error() }

// Unwrap returns the template's error.
func (e TemplateError) Unwrap() error { return e.Err }

// AddTemplateFuncs adds amslack's template functions to the text and html
// templates of an Alertmanager template set. It is a template.Option: pass
// it to template.FromGlobs, so that templates using the functions parse.
// Alertmanager's own functions (toUpper, title, join, reReplaceAll, since,
// humanizeDuration, tz, …) come with the set. amslack adds:
//
//	escape S          S escaped for Slack mrkdwn (&, < and >)
//	clip N S          S cut to N characters, ending in "…" if cut
//	clipEscaped N S   S escaped, then cut to N characters, never inside an escape
//	oneLine S         S with line breaks and tabs turned into spaces, trimmed
//	link TEXT URL     the mrkdwn link <URL|TEXT>, or "" unless URL is an
//	                  http(s) URL of at most 500 characters; TEXT is used as it is
//
// When a message renders, now returns the rendering's time and since
// measures from it, so that a rendering stays a function of its input;
// routeLabels reads the group's route labels as Alertmanager sent them.
func AddTemplateFuncs(text *texttemplate.Template, html *htmltemplate.Template) {
	funcs := map[string]any{
		"escape":      escapeMrkdwn,
		"clip":        func(n int, s string) string { return clip(s, n) },
		"clipEscaped": func(n int, s string) string { return clipEscaped(s, n) },
		"oneLine":     oneLine,
		"link":        linkTo,
	}
	if text != nil {
		text.Funcs(funcs)
	}
	if html != nil {
		html.Funcs(funcs)
	}
}

// Compile-time check that AddTemplateFuncs is an Alertmanager template
// option.
var _ template.Option = AddTemplateFuncs

// TemplateData is what the templates of the group's parts (all but
// alert_line) execute on. It embeds the alert group as Alertmanager sends
// it, so that what Alertmanager templates write works: .Status,
// .CommonLabels.alertname, .Alerts.Firing, .ExternalURL, … Its methods give
// what the built-in rendering derives from the group.
type TemplateData struct {
	*template.Data
	// GroupKey is the group's key as Alertmanager sent it.
	GroupKey string
	// TruncatedAlerts is how many alerts Alertmanager left out (max_alerts).
	TruncatedAlerts uint64
	// State is what people did to the group in Slack.
	State alertgroup.State

	g *group
}

// Title is the group's title. In the title template it is the built-in
// one: the alertname of the group labels, else of the common labels, else
// the group key, on one line and not escaped. In the other templates it is
// the title as the message shows it.
func (d *TemplateData) Title() string { return d.g.title }

// Severity is the group's severity, lower case: the common severity label,
// else the most severe among the alerts (critical, error, warning, info),
// else "none".
func (d *TemplateData) Severity() string { return d.g.severity }

// Hint is the built-in action hint, not escaped: the first non-blank of the
// action_hint, summary and description annotations among the common
// annotations; else what the alerts (the firing ones, while any fire) say
// by those annotations, naming each: "Disk almost full on db-1, db-2" when
// they differ in one word, "3 alerts: …; …" otherwise.
func (d *TemplateData) Hint() string { return d.g.hint }

// Annotation is the annotation key of the group, trimmed: the common
// annotation, else the first alert's.
func (d *TemplateData) Annotation(key string) string { return annotation(d.g.data, key) }

// ContextLabels are the common labels that the built-in context shows, not
// escaped: all but alertname and severity, the labels that tell groups
// apart best first (service, env, environment, region, cluster, namespace,
// job, instance), then the others by name.
func (d *TemplateData) ContextLabels() template.Pairs {
	names := contextNames(d.g.data)
	pairs := make(template.Pairs, len(names))
	for i, k := range names {
		pairs[i] = template.Pair{Name: k, Value: d.g.data.CommonLabels[k]}
	}
	return pairs
}

// SilenceURL is Alertmanager's new silence form, filled in with the group
// labels, or "" when the external URL is not an http(s) URL.
func (d *TemplateData) SilenceURL() string {
	return alertmanagerURL(d.g.data.ExternalURL, "silences/new", matcherString(d.g.data.GroupLabels))
}

// AlertsURL is Alertmanager's alert list filtered on the group labels, or
// "" when the external URL is not an http(s) URL.
func (d *TemplateData) AlertsURL() string {
	return alertmanagerURL(d.g.data.ExternalURL, "alerts", matcherString(d.g.data.GroupLabels))
}

// TemplateAlert is what the alert_line template executes on, once per
// alert. It embeds the alert as Alertmanager sends it (.Status, .Labels,
// .Annotations, .StartsAt, .GeneratorURL, …), as in Alertmanager's
// {{ range .Alerts }}.
type TemplateAlert struct {
	template.Alert
	// Group is the alert's group.
	Group *TemplateData
}

// Ident is what the built-in alert line names the alert by, not escaped:
// its labels that differ from the group's common labels, as
// "instance=db-1, zone=a", the ones that tell alerts apart best first; ""
// when none differ.
func (a *TemplateAlert) Ident() string { return alertIdent(&a.Alert, a.Group.CommonLabels) }

// Summary is the alert's summary annotation, else its description, on one
// line and not escaped.
func (a *TemplateAlert) Summary() string { return alertSummary(&a.Alert) }

// ListSummary is the summary that the built-in alert line shows: Summary,
// or "" when the group's hint says just that for every alert, so that it is
// not said twice.
func (a *TemplateAlert) ListSummary() string { return a.Group.g.listSummary(&a.Alert) }

// Name names the alert when no label sets it apart: its alertname, else its
// fingerprint, not escaped.
func (a *TemplateAlert) Name() string { return alertName(&a.Alert) }

// templateRun executes a route's templates for one rendering and collects
// their failures. Its methods return ok false when the part has no
// template or its template failed: the caller renders the part itself.
// They are safe to call on a nil *templateRun, which has no templates.
type templateRun struct {
	t    *Templates
	set  *texttemplate.Template // a clone holding this rendering's functions
	data *TemplateData
	// failed marks the parts already in errs: one entry per part is enough
	// to log and count.
	failed [numParts]bool
	errs   []TemplateError
}

func newTemplateRun(g *group) *templateRun {
	t := g.in.Options.Templates
	if t == nil || t.names == [numParts]string{} {
		return nil
	}
	r := &templateRun{t: t, data: &TemplateData{
		Data: g.data, GroupKey: g.in.GroupKey, TruncatedAlerts: g.truncated, State: g.in.State, g: g,
	}}
	set, err := t.set.Clone()
	if err != nil {
		for i := range partNames {
			if t.names[i] != "" {
				r.fail(i, err)
			}
		}
		return r
	}
	// A clone per rendering: the functions that read the time or the
	// group differ between renderings, and the shared set stays untouched.
	now, routeLabels := g.in.Now, g.data.RouteLabels
	r.set = set.Funcs(texttemplate.FuncMap{
		"now":         func() time.Time { return now },
		"since":       func(t time.Time) time.Duration { return now.Sub(t) },
		"routeLabels": func(name string) (string, error) { return routeLabels[name], nil },
	})
	return r
}

// defines reports whether a template renders the part.
func (r *templateRun) defines(part int) bool {
	return r != nil && r.t.names[part] != ""
}

func (r *templateRun) fail(part int, err error) {
	if r.failed[part] {
		return
	}
	r.failed[part] = true
	r.errs = append(r.errs, TemplateError{Part: partNames[part], Err: err})
}

// errors returns the failures so far.
func (r *templateRun) errors() []TemplateError {
	if r == nil {
		return nil
	}
	return r.errs
}

// exec executes the part's template on data.
func (r *templateRun) exec(part int, data any) (string, bool) {
	if !r.defines(part) {
		return "", false
	}
	if r.set == nil {
		return "", false // the clone failed; reported already
	}
	w := limitedBuffer{}
	if err := r.set.ExecuteTemplate(&w, r.t.names[part], data); err != nil {
		r.fail(part, err)
		return "", false
	}
	return w.String(), true
}

// nonEmpty executes a part that cannot be empty, making its output one
// line when oneLineOnly is set and trimming it otherwise. Empty output is a
// failure.
func (r *templateRun) nonEmpty(part int, oneLineOnly bool) (string, bool) {
	if !r.defines(part) {
		return "", false
	}
	out, ok := r.exec(part, r.data)
	if !ok {
		return "", false
	}
	if oneLineOnly {
		out = oneLine(out)
	} else {
		out = strings.TrimSpace(out)
	}
	if out == "" {
		r.fail(part, errEmpty)
		return "", false
	}
	return out, true
}

// title is the title template's output: plain text on one line, cut to
// Slack's header limit.
func (r *templateRun) title() (string, bool) {
	s, ok := r.nonEmpty(partTitle, true)
	return clip(s, capTitle), ok
}

// severity is the severity template's output: mrkdwn on one line, cut to
// capSeverityText.
func (r *templateRun) severity() (string, bool) {
	s, ok := r.nonEmpty(partSeverity, true)
	return cutMrkdwn(s, capSeverityText), ok
}

// text is the text template's output: mrkdwn, cut to the top-level text's
// limit.
func (r *templateRun) text() (string, bool) {
	s, ok := r.nonEmpty(partText, false)
	return cutMrkdwn(s, maxText), ok
}

// hint is the action hint template's output: mrkdwn, cut to budgetHint; ""
// for no hint.
func (r *templateRun) hint() (string, bool) {
	if !r.defines(partActionHint) {
		return "", false
	}
	out, ok := r.exec(partActionHint, r.data)
	return cutMrkdwn(strings.TrimSpace(out), budgetHint), ok
}

// lines executes the part and returns its non-empty lines, trimmed.
func (r *templateRun) lines(part int) ([]string, bool) {
	if !r.defines(part) {
		return nil, false
	}
	out, ok := r.exec(part, r.data)
	if !ok {
		return nil, false
	}
	var lines []string
	for l := range strings.Lines(out) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, true
}

// context is the context template's output as section fields: one per
// non-empty line. A line "name: value" shows as the name in bold above the
// value, like the built-in fields; any other line shows as it is. Fields
// are cut to capContextField.
func (r *templateRun) context() ([]string, bool) {
	lines, ok := r.lines(partContext)
	for i, l := range lines {
		lines[i] = cutMrkdwn(contextField(l), capContextField)
	}
	return lines, ok
}

// contextField turns a context line "name: value" (or "name:") into a
// field with the name in bold above the value; other lines stay as they
// are.
func contextField(line string) string {
	name, value, ok := strings.Cut(line, ": ")
	if !ok {
		name, ok = strings.CutSuffix(line, ":")
	}
	if !ok || name == "" {
		return line
	}
	return "*" + name + "*\n" + strings.TrimSpace(value)
}

// links is the links template's output: one context element per non-empty
// line, each usually an icon and a link <url|text>.
func (r *templateRun) links() ([]string, bool) {
	return r.lines(partLinks)
}

// alertLines executes the alert_line template for each alert, in the
// order of the list. A line is trimmed and cut to capAlertLine; an empty
// one leaves its alert out of the list, uncounted. An alert whose template
// fails gets the built-in line.
func (r *templateRun) alertLines(alerts []*template.Alert) []string {
	lines := make([]string, 0, len(alerts))
	for _, a := range alerts {
		out, ok := r.exec(partAlertLine, &TemplateAlert{Alert: *a, Group: r.data})
		if !ok {
			lines = append(lines, alertLine(r.data.g, a))
			continue
		}
		if l := cutMrkdwn(strings.TrimSpace(out), capAlertLine); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// limitedBuffer is a buffer that fails writes past maxTemplateOutput,
// which stops the template's execution.
type limitedBuffer struct {
	bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxTemplateOutput {
		return 0, errTooLong
	}
	return b.Buffer.Write(p)
}
