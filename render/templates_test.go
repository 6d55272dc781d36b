package render

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	texttemplate "text/template"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/template"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// loadTemplates parses template files as amslack's configuration does:
// Alertmanager's templates first, then the globs, with amslack's functions.
func loadTemplates(t testing.TB, globs ...string) *texttemplate.Template {
	t.Helper()
	var root *texttemplate.Template
	_, err := template.FromGlobs(globs, AddTemplateFuncs, func(text *texttemplate.Template, _ *htmltemplate.Template) {
		root = text
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// parseTemplates parses template text written in a test.
func parseTemplates(t testing.TB, text string) *texttemplate.Template {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.tmpl")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return loadTemplates(t, path)
}

func mustTemplates(t testing.TB, set *texttemplate.Template, names map[string]string) *Templates {
	t.Helper()
	tm, err := NewTemplates(set, names)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func defaultTemplates(t testing.TB) *Templates {
	return mustTemplates(t, loadTemplates(t, filepath.Join("testdata", "templates", "default.tmpl")), nil)
}

func customTemplates(t testing.TB) *Templates {
	return mustTemplates(t, loadTemplates(t, filepath.Join("testdata", "templates", "custom.tmpl")), nil)
}

// TestExampleTemplatesCopied keeps the copies in testdata equal to the
// examples users read.
func TestExampleTemplatesCopied(t *testing.T) {
	for _, name := range []string{"default.tmpl", "custom.tmpl"} {
		t.Run(name, func(t *testing.T) {
			example, err := os.ReadFile(filepath.Join("..", "examples", "templates", name))
			if err != nil {
				t.Fatal(err)
			}
			copied, err := os.ReadFile(filepath.Join("testdata", "templates", name))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(copied), string(example)); diff != "" {
				t.Errorf("testdata/templates/%s differs from examples/templates/%s; copy it again (-testdata +examples):\n%s", name, name, diff)
			}
		})
	}
}

// builtinInputs are inputs of every kind the tests use: the fixtures, with
// and without state, hand-made groups and hostile ones.
func builtinInputs(t *testing.T) map[string]Input {
	files, err := filepath.Glob(filepath.Join("testdata", "alertmanager", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	ins := map[string]Input{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		ins[name] = inputOf(loadPayload(t, filepath.Base(f)))
		in := inputOf(loadPayload(t, filepath.Base(f)))
		in.State, in.Options = richState(), richOptions(t)
		ins[name+"-state"] = in
	}
	start := testNow().Add(-23 * time.Minute)
	d := &template.Data{
		Status:            "firing",
		GroupLabels:       template.KV{"alertname": "<!channel>"},
		CommonLabels:      template.KV{"alertname": "<!channel>", "severity": "p1-high", "team": "<@U1> & co", "zone": "a\nb", "empty": ""},
		CommonAnnotations: template.KV{"summary": " <https://evil|click> &amp;\nsecond line ", "dashboard_url": "javascript:alert(1)"},
		ExternalURL:       "https://am.example/",
		Alerts: template.Alerts{
			alert("firing", start, "alertname", "<!channel>", "severity", "p1-high", "team", "<@U1> & co", "zone", "a\nb", "x", "<y>"),
			alert("resolved", start, "alertname", "<!channel>", "severity", "p1-high", "team", "<@U1> & co", "zone", "a\nb"),
			alert("firing", time.Time{}),
		},
	}
	d.Alerts[0].GeneratorURL = "http://prom/graph?g0.expr=up&g0.tab=1"
	d.Alerts[2].Annotations["description"] = "no labels"
	ins["escapes"] = Input{Group: d, Now: testNow()}
	ins["nil group"] = Input{}
	ins["only truncated"] = Input{Group: &template.Data{Status: "firing", CommonLabels: template.KV{"alertname": "X", "severity": "PAGE"}}, TruncatedAlerts: 7, GroupKey: "k"}
	for _, n := range []int{0, 1, 50} {
		ins[fmt.Sprintf("hostile-%d", n)] = hostile(n)
	}
	return ins
}

// TestDefaultTemplatesMatchBuiltin renders with the default template set
// and without templates: the two must be the same message. The default set
// is the documented starting point, so it must show what amslack shows.
func TestDefaultTemplatesMatchBuiltin(t *testing.T) {
	tm := defaultTemplates(t)
	for i, name := range tm.names {
		if name == "" {
			t.Fatalf("default.tmpl does not define the %s template", partNames[i])
		}
	}
	for name, in := range builtinInputs(t) {
		t.Run(name, func(t *testing.T) {
			for fn, render := range map[string]func(Input) Message{"Render": Render, "Minimal": Minimal} {
				want := render(withControls(in))
				with := in
				with.Options.Templates = tm
				got := render(withControls(with))
				if len(got.TemplateErrors) > 0 {
					t.Errorf("%s: template errors: %v", fn, got.TemplateErrors)
				}
				if diff := cmp.Diff(string(marshal(t, got)), string(marshal(t, want))); diff != "" {
					t.Errorf("%s with default.tmpl differs from the built-in rendering (-templates +built-in):\n%s", fn, diff)
				}
			}
		})
	}
}

// TestCustomTemplatesGolden renders every fixture with custom.tmpl.
func TestCustomTemplatesGolden(t *testing.T) {
	tm := customTemplates(t)
	files, err := filepath.Glob(filepath.Join("testdata", "alertmanager", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	type tcase struct {
		name string
		in   Input
	}
	var cases []tcase
	for _, f := range files {
		in := inputOf(loadPayload(t, filepath.Base(f)))
		in.Options.Templates = tm
		cases = append(cases, tcase{"custom-" + strings.TrimSuffix(filepath.Base(f), ".json"), in})
	}
	in := inputOf(loadPayload(t, "v035-firing.json"))
	in.State, in.Options = richState(), richOptions(t)
	in.Options.Templates = tm
	cases = append(cases, tcase{"custom-v035-firing-state", in})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Render(withControls(tc.in))
			if len(m.TemplateErrors) > 0 {
				t.Errorf("template errors: %v", m.TemplateErrors)
			}
			if err := Validate(m); err != nil {
				t.Errorf("Validate: %v", err)
			}
			checkGolden(t, tc.name, marshal(t, m))
		})
	}
}

// TestCustomTemplatesParts spells out what custom.tmpl renders for one
// fixture, part by part, so that the golden files have a readable anchor.
func TestCustomTemplatesParts(t *testing.T) {
	in := inputOf(loadPayload(t, "v035-firing.json"))
	in.Options.Templates = customTemplates(t)
	m := Render(withControls(in))
	if got, want := headerText(t, m), "🔥 [PROD] DiskFull — 2 firing"; got != want {
		t.Errorf("header = %q, want %q", got, want)
	}
	if got, want := sectionText(t, m, blockStatus), ":rotating_light: *P1* · Firing since <!date^1795961522^{date_short_pretty} {time}|2026-11-29 14:12 UTC>"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	wantAlerts := strings.Join([]string{
		":red_circle: *db-1* Disk almost full on db-1 — firing for 17m 57s · <http://prometheus.example/graph?g0.expr=disk|graph>",
		":red_circle: *db-2* Disk almost full on db-2 — firing for 17m 57s · <http://prometheus.example/graph?g0.expr=disk|graph>",
	}, "\n")
	if diff := cmp.Diff(sectionText(t, m, blockAlerts), wantAlerts); diff != "" {
		t.Errorf("alerts (-got +want):\n%s", diff)
	}
	ctx, ok := blockByID(m, blockContext).(*slack.SectionBlock)
	if !ok {
		t.Fatal("no context block")
	}
	var fields []string
	for _, f := range ctx.Fields {
		fields = append(fields, f.Text)
	}
	if diff := cmp.Diff(fields, []string{"*cluster*\nprod", "*Since*\nSun 15:12 CET", "*Receiver*\nsink"}); diff != "" {
		t.Errorf("context fields (-got +want):\n%s", diff)
	}
	wantLinks := []string{
		":book: <https://runbooks.example/disk|Runbook>",
		":bar_chart: <https://grafana.example.com/d/alerts/alerts?var-alertname=DiskFull&amp;var-cluster=prod|Grafana>",
		`:no_bell: <http://127.0.0.1:19093/#/silences/new?filter=%7Balertname%3D%22DiskFull%22%2C%20cluster%3D%22prod%22%7D|Silence>`,
	}
	if diff := cmp.Diff(contextTexts(m, blockLinks), wantLinks); diff != "" {
		t.Errorf("links (-got +want):\n%s", diff)
	}
	if got, want := m.Text, "2 firing: [PROD] DiskFull — Disk almost full on db-1, db-2"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
}

func TestNewTemplates(t *testing.T) {
	set := parseTemplates(t, `
{{ define "amslack.title" }}conventional{{ end }}
{{ define "team.title" }}chosen{{ end }}
{{ define "team.text" }}text{{ end }}`)
	tests := []struct {
		name    string
		set     *texttemplate.Template
		names   map[string]string
		want    [numParts]string
		wantErr string
	}{
		{name: "conventional names", set: set, want: [numParts]string{partTitle: "amslack.title"}},
		{name: "route picks a template", set: set, names: map[string]string{"title": "team.title", "text": "team.text"},
			want: [numParts]string{partTitle: "team.title", partText: "team.text"}},
		{name: "Alertmanager's own templates", set: set, names: map[string]string{"text": "slack.default.title"},
			want: [numParts]string{partTitle: "amslack.title", partText: "slack.default.title"}},
		{name: "no set", want: [numParts]string{}},
		{name: "unknown part", set: set, names: map[string]string{"titel": "team.title", "body": "x"}, wantErr: "unknown part \"body\"\nunknown part \"titel\""},
		{name: "undefined template", set: set, names: map[string]string{"links": "team.links"}, wantErr: `links: template "team.links" is not defined`},
		{name: "undefined without a set", names: map[string]string{"title": "amslack.title"}, wantErr: `title: template "amslack.title" is not defined`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewTemplates(tc.set, tc.names)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got.names, tc.want); diff != "" {
				t.Errorf("names (-got +want):\n%s", diff)
			}
		})
	}
}

func TestParts(t *testing.T) {
	want := []string{"title", "severity", "context", "action_hint", "links", "alert_line", "text"}
	p := Parts()
	if diff := cmp.Diff(p, want); diff != "" {
		t.Errorf("Parts (-got +want):\n%s", diff)
	}
	p[0] = "changed"
	if Parts()[0] != "title" {
		t.Error("Parts returns shared state")
	}
}

// TestTemplateFailureFallsBack breaks one part at a time: that part falls
// back to the built-in rendering, so the message is the built-in one, and
// the failure is reported once for the part.
func TestTemplateFailureFallsBack(t *testing.T) {
	tests := []struct {
		part, body, wantErr string
	}{
		{"title", `{{ .NoSuchField }}`, `can't evaluate field NoSuchField`},
		{"title", `{{ "  " }}`, "rendered no text"},
		{"severity", `{{ index .Alerts 99 }}`, "index out of range"},
		{"context", `{{ template "undefined.elsewhere" . }}`, `template "undefined.elsewhere" not defined`},
		{"action_hint", `{{ base64decode "!!!" }}`, "illegal base64"},
		{"links", `{{ mustToDate "2006" "never" }}`, "cannot parse"},
		// Fails for db-1 only: db-2 keeps its template line, which is the
		// built-in one, so the whole list equals the built-in list.
		{"alert_line", `{{ if eq .Labels.instance "db-1" }}{{ mustToDate "2006" "db-1" }}{{ end }}{{ template "amslack.default_alert_line" . }}`, `cannot parse "db-1"`},
		{"text", `{{ range 100000 }}{{ "0123456789" }}{{ end }}`, "output longer than 65536 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.part+" "+tc.wantErr, func(t *testing.T) {
			def, err := os.ReadFile(filepath.Join("testdata", "templates", "default.tmpl"))
			if err != nil {
				t.Fatal(err)
			}
			// The default line under another name, for the alert_line case.
			text := strings.Replace(string(def), `define "amslack.alert_line"`, `define "amslack.default_alert_line"`, 1)
			text += fmt.Sprintf(`{{ define "broken" }}%s{{ end }}`, tc.body)
			tm := mustTemplates(t, parseTemplates(t, text), map[string]string{tc.part: "broken"})

			in := inputOf(loadPayload(t, "v035-firing.json"))
			want := Render(withControls(in))
			in.Options.Templates = tm
			got := Render(withControls(in))
			if err := Validate(got); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if diff := cmp.Diff(string(marshal(t, got)), string(marshal(t, want))); diff != "" {
				t.Errorf("message differs from the built-in one (-got +want):\n%s", diff)
			}
			if len(got.TemplateErrors) != 1 {
				t.Fatalf("TemplateErrors = %v, want one", got.TemplateErrors)
			}
			te := got.TemplateErrors[0]
			if te.Part != tc.part || !strings.Contains(te.Error(), tc.wantErr) {
				t.Errorf("TemplateError = %q for part %q, want part %q and %q", te, te.Part, tc.part, tc.wantErr)
			}
			if !strings.HasPrefix(te.Error(), tc.part+" template: ") || errors.Unwrap(te) == nil {
				t.Errorf("TemplateError %q does not name the part or wrap the cause", te)
			}
		})
	}
}

// TestTemplateErrorsEveryPart fails every part at once, each one reported
// once, alert_line included although it runs per alert.
func TestTemplateErrorsEveryPart(t *testing.T) {
	var b strings.Builder
	for _, p := range Parts() {
		fmt.Fprintf(&b, `{{ define "amslack.%s" }}{{ .Nope }}{{ end }}`, p)
	}
	in := inputOf(loadPayload(t, "v035-firing.json"))
	want := Render(withControls(in))
	in.Options.Templates = mustTemplates(t, parseTemplates(t, b.String()), nil)
	got := Render(withControls(in))
	if diff := cmp.Diff(string(marshal(t, got)), string(marshal(t, want))); diff != "" {
		t.Errorf("message differs from the built-in one (-got +want):\n%s", diff)
	}
	var parts []string
	for _, e := range got.TemplateErrors {
		parts = append(parts, e.Part)
	}
	// In the order Render builds the message: header, status, hint,
	// context, links, alert list, text.
	want2 := []string{"title", "severity", "action_hint", "context", "links", "alert_line", "text"}
	if diff := cmp.Diff(parts, want2); diff != "" {
		t.Errorf("parts that failed (-got +want):\n%s", diff)
	}
	if m := Minimal(withControls(in)); len(m.TemplateErrors) != 3 {
		t.Errorf("Minimal: TemplateErrors = %v, want title, severity and text", m.TemplateErrors)
	}
}

// TestTemplateOutput covers how template output becomes blocks: nothing
// is escaped, lines become fields and links, empty output leaves a block
// or an alert out, and long output is cut.
func TestTemplateOutput(t *testing.T) {
	start := testNow().Add(-90 * time.Minute)
	d := &template.Data{
		Status:       "firing",
		CommonLabels: template.KV{"alertname": "Down", "job": "api"},
		RouteLabels:  template.KV{"team": "web"},
		Alerts: template.Alerts{
			alert("firing", start, "alertname", "Down", "job", "api", "instance", "a"),
			alert("resolved", start, "alertname", "Down", "job", "api", "instance", "b"),
			alert("firing", start.Add(time.Hour), "alertname", "Down", "job", "api", "instance", "c"),
		},
	}
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name  string
		tmpl  string
		check func(t *testing.T, m Message)
	}{
		{
			name: "mrkdwn kept as written",
			tmpl: `{{ define "amslack.severity" }}<!here> *{{ .Severity }}* & <https://x|y>{{ end }}
{{ define "amslack.text" }}<!channel> {{ .Title }} for {{ routeLabels "team" }}{{ end }}`,
			check: func(t *testing.T, m Message) {
				if got, want := sectionText(t, m, blockStatus), "<!here> *none* & <https://x|y> · Firing since <!date^1795957200^{date_short_pretty} {time}|2026-11-29 13:00 UTC>"; got != want {
					t.Errorf("status = %q, want %q", got, want)
				}
				if got, want := m.Text, "<!channel> Down for web"; got != want {
					t.Errorf("text = %q, want %q", got, want)
				}
			},
		},
		{
			name: "title on one line, cut",
			tmpl: `{{ define "amslack.title" }}  first
second {{ printf "%0200d" 1 }}{{ end }}`,
			check: func(t *testing.T, m Message) {
				got := headerText(t, m)
				if !strings.HasPrefix(got, "🔥 first second 0000") || !strings.HasSuffix(got, "0… — 2 firing") || runes(got) != maxHeaderText {
					t.Errorf("header = %q", got)
				}
			},
		},
		{
			name: "context lines",
			tmpl: `{{ define "amslack.context" }}
job: {{ .CommonLabels.job }}
free text, no field name
 empty:
: no name
{{ range 12 }}n{{ . }}: v
{{ end }}{{ end }}`,
			check: func(t *testing.T, m Message) {
				b := blockByID(m, blockContext).(*slack.SectionBlock)
				var got []string
				for _, f := range b.Fields {
					got = append(got, f.Text)
				}
				want := []string{"*job*\napi", "free text, no field name", "*empty*\n", ": no name", "*n0*\nv", "*n1*\nv", "*n2*\nv", "*n3*\nv", "*n4*\nv", "…and 7 more"}
				if diff := cmp.Diff(got, want); diff != "" {
					t.Errorf("fields (-got +want):\n%s", diff)
				}
			},
		},
		{
			name: "long context field cut",
			tmpl: `{{ define "amslack.context" }}k: {{ .CommonLabels.job }}` + long + `{{ end }}`,
			check: func(t *testing.T, m Message) {
				f := blockByID(m, blockContext).(*slack.SectionBlock).Fields[0].Text
				if runes(f) != capContextField || !strings.HasPrefix(f, "*k*\napix") || !strings.HasSuffix(f, "x…") {
					t.Errorf("field = %q", f)
				}
			},
		},
		{
			name: "empty parts leave blocks out",
			tmpl: `{{ define "amslack.context" }} {{ end }}{{ define "amslack.action_hint" }}
{{ end }}{{ define "amslack.links" }}{{ end }}{{ define "amslack.alert_line" }}{{ end }}`,
			check: func(t *testing.T, m Message) {
				if diff := cmp.Diff(blockIDs(m), []string{"header", "status", "actions"}); diff != "" {
					t.Errorf("blocks (-got +want):\n%s", diff)
				}
			},
		},
		{
			name: "alerts left out are not counted",
			tmpl: `{{ define "amslack.alert_line" }}{{ if eq .Status "firing" }}{{ .Labels.instance }} {{ since .StartsAt }} of {{ len .Group.Alerts }}{{ end }}{{ end }}`,
			check: func(t *testing.T, m Message) {
				if got, want := sectionText(t, m, blockAlerts), "a 1h30m0s of 3\nc 30m0s of 3"; got != want {
					t.Errorf("alerts = %q, want %q", got, want)
				}
			},
		},
		{
			name: "long alert lines cut",
			tmpl: `{{ define "amslack.alert_line" }}{{ .Labels.instance }}` + long + `{{ end }}`,
			check: func(t *testing.T, m Message) {
				text := sectionText(t, m, blockAlerts)
				lines := strings.Split(text, "\n")
				if len(lines) != 3 || runes(lines[0]) != capAlertLine || !strings.HasSuffix(lines[2], "x…") {
					t.Errorf("alerts = %d lines: %.100q…", len(lines), text)
				}
			},
		},
		{
			name: "links",
			tmpl: `{{ define "amslack.links" }}
{{ link "ok" "https://ok.example/?a=1&b=<2>" }}
{{ link "bad" "javascript:alert(1)" }}
{{ range 12 }}<https://x.example/{{ . }}|{{ . }}>
{{ end }}{{ end }}`,
			check: func(t *testing.T, m Message) {
				got := contextTexts(m, blockLinks)
				if len(got) != maxContextElements || got[0] != "<https://ok.example/?a=1&amp;b=%3C2%3E|ok>" || got[9] != "<https://x.example/8|8>" {
					t.Errorf("links = %q", got)
				}
			},
		},
		{
			name: "a link too long for the budget is left out, not cut",
			tmpl: `{{ define "amslack.links" }}<https://x.example/` + long + `|long>
<https://x.example/short|short>{{ end }}`,
			check: func(t *testing.T, m Message) {
				if diff := cmp.Diff(contextTexts(m, blockLinks), []string{"<https://x.example/short|short>"}); diff != "" {
					t.Errorf("links (-got +want):\n%s", diff)
				}
			},
		},
		{
			name: "hint and text cut without breaking markup",
			tmpl: `{{ define "amslack.action_hint" }}{{ printf "%0995d" 0 }} <https://x.example/|link>{{ end }}
{{ define "amslack.text" }}{{ range 1000 }}&amp;{{ end }}{{ end }}`,
			check: func(t *testing.T, m Message) {
				if got, want := sectionText(t, m, blockHint), strings.Repeat("0", 995)+" …"; got != want {
					t.Errorf("hint = %q, want %q", got, want)
				}
				if want := strings.Repeat("&amp;", 799) + "…"; m.Text != want {
					t.Errorf("text = %.40q… (%d runes), want %d &amp; and …", m.Text, runes(m.Text), 799)
				}
			},
		},
		{
			name: "now is the time of rendering",
			tmpl: `{{ define "amslack.action_hint" }}{{ now | date "2006-01-02 15:04" }} {{ now | tz "Asia/Tokyo" | date "15:04 MST" }}{{ end }}`,
			check: func(t *testing.T, m Message) {
				if got, want := sectionText(t, m, blockHint), "2026-11-29 14:30 23:30 JST"; got != want {
					t.Errorf("hint = %q, want %q", got, want)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm := mustTemplates(t, parseTemplates(t, tc.tmpl), nil)
			m := Render(withControls(Input{Group: d, Now: testNow(), Options: Options{Templates: tm}}))
			if len(m.TemplateErrors) > 0 {
				t.Errorf("TemplateErrors: %v", m.TemplateErrors)
			}
			if err := Validate(m); err != nil {
				t.Errorf("Validate: %v", err)
			}
			tc.check(t, m)
		})
	}
}

// TestTemplatesHostile renders the hostile input with templates that write
// far too much everywhere: the message must still keep every limit.
func TestTemplatesHostile(t *testing.T) {
	var b strings.Builder
	for _, p := range Parts() {
		fmt.Fprintf(&b, `{{ define "amslack.%s" }}{{ range 30 }}<!here> &amp; {{ printf "%%0900d" 0 }} <https://x.example/|x>
{{ end }}{{ end }}`, p)
	}
	tm := mustTemplates(t, parseTemplates(t, b.String()), nil)
	for _, n := range []int{0, 1, 50, 1000} {
		in := hostile(n)
		in.Options.Templates = tm
		for name, m := range map[string]Message{"Render": Render(withControls(in)), "Minimal": Minimal(withControls(in))} {
			if len(m.TemplateErrors) > 0 {
				t.Errorf("alerts=%d %s: TemplateErrors: %v", n, name, m.TemplateErrors)
			}
			if err := Validate(m); err != nil {
				t.Errorf("alerts=%d %s: %v", n, name, err)
			}
		}
	}
}

// TestTemplatesConcurrent renders with one Templates from many goroutines,
// for the race detector.
func TestTemplatesConcurrent(t *testing.T) {
	tm := customTemplates(t)
	in := inputOf(loadPayload(t, "v035-firing.json"))
	in.Options.Templates = tm
	want := marshal(t, Render(withControls(in)))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			in := in
			in.Now = testNow().Add(time.Duration(i%2) * time.Hour)
			for range 20 {
				got := marshal(t, Render(withControls(in)))
				if i%2 == 0 && !bytes.Equal(got, want) {
					t.Errorf("concurrent rendering differs:\n%s", cmp.Diff(string(got), string(want)))
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkRenderTemplates(b *testing.B) {
	tm := customTemplates(b)
	for _, n := range []int{1, 50, 1000} {
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			in := hostile(0)
			in.State, in.Options = alertgroup.State{}, Options{Templates: tm}
			start := testNow().Add(-time.Hour)
			in.Group = &template.Data{Status: "firing", CommonLabels: template.KV{"alertname": "DiskFull", "cluster": "prod"}, ExternalURL: "http://am.example"}
			for i := range n {
				in.Group.Alerts = append(in.Group.Alerts, template.Alert{
					Status:      "firing",
					Labels:      template.KV{"alertname": "DiskFull", "cluster": "prod", "instance": fmt.Sprintf("db-%d", i)},
					Annotations: template.KV{"summary": fmt.Sprintf("Disk almost full on db-%d", i)},
					StartsAt:    start,
				})
			}
			in.TruncatedAlerts = 0
			b.ReportAllocs()
			for b.Loop() {
				Render(withControls(in))
			}
		})
	}
}
