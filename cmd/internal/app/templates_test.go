package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/template"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/cmd/internal/config"
	"github.com/amslack/amslack/render"
)

// writeConfig writes the configuration and the files beside it into a new
// directory and returns the configuration's path.
func writeConfig(t *testing.T, config string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "amslack.yml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// reloadingApp writes the configuration that config returns for v to a
// file and creates an App on it. It returns the App and reload, which
// writes the configuration for another v and reloads the App. The App's
// storage is closed when the test ends.
func reloadingApp(t *testing.T, config func(v string) string, v string) (a *App, reload func(v string)) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	write := func(v string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(config(v)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(v)
	a, err := New(Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.closeStorage() })
	return a, func(v string) {
		t.Helper()
		write(v)
		if err := a.Reload(); err != nil {
			t.Fatal(err)
		}
	}
}

// testGroup is a small firing alert group.
func testGroup() render.Input {
	start := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
	return render.Input{
		Group: &template.Data{
			Status:       "firing",
			GroupLabels:  template.KV{"alertname": "DiskFull"},
			CommonLabels: template.KV{"alertname": "DiskFull", "severity": "critical", "env": "prod"},
			Alerts: template.Alerts{{
				Status: "firing", Labels: template.KV{"alertname": "DiskFull", "severity": "critical", "env": "prod"}, StartsAt: start,
			}},
		},
		Now: start.Add(5 * time.Minute),
	}
}

func TestTemplateErrors(t *testing.T) {
	good := `{{ define "amslack.title" }}{{ .Title }}{{ end }}`
	tests := []struct {
		name   string
		config string
		files  map[string]string
		want   string
	}{
		{
			name:   "unknown part",
			config: "routes: [{channel: C0123456789}, {channel: C0123456780, templates: {titel: amslack.title}}]",
			want:   `routes[1].templates: unknown part "titel" (parts: title, severity, context, action_hint, links, alert_line, text)`,
		},
		{
			name:   "empty template name",
			config: "routes: [{channel: C0123456789, templates: {title: ''}}]",
			want:   `routes[0].templates.title: empty template name`,
		},
		{
			name:   "undefined template",
			config: "templates: [t/*.tmpl]\nroutes: [{channel: C0123456789, templates: {title: my.title, text: amslack.title}}]",
			files:  map[string]string{"t/a.tmpl": good},
			want:   `routes[0].templates.title: template "my.title" is not defined`,
		},
		{
			name:   "undefined template without template files",
			config: "routes: [{channel: C0123456789, templates: {links: team.links}}]",
			want:   `routes[0].templates.links: template "team.links" is not defined`,
		},
		{
			name:   "parse error names file and line",
			config: "templates: [t/good.tmpl, t/bad*.tmpl]\nroutes: [{channel: C0123456789}]",
			files: map[string]string{
				"t/good.tmpl": good,
				"t/bad.tmpl":  "{{/* Broken on line 3. */}}\n{{ define \"amslack.title\" }}\n{{ .Title | nosuchfunc }}\n{{ end }}\n",
			},
			want: `templates[1]: template: bad.tmpl:3: function "nosuchfunc" not defined`,
		},
		{
			name:   "unclosed action",
			config: "templates: [t/*.tmpl]\nroutes: [{channel: C0123456789}]",
			files:  map[string]string{"t/a.tmpl": "\n\n{{ define \"amslack.title\" }}{{ .Title }\n{{ end }}"},
			want:   `templates[0]: template: a.tmpl:3: unexpected "}" in operand`,
		},
		{
			name:   "glob matches nothing",
			config: "templates: [missing/*.tmpl]\nroutes: [{channel: C0123456789}]",
			want:   `templates[0]: "missing/*.tmpl" matches no files`,
		},
		{
			name:   "bad glob",
			config: "templates: ['t/[.tmpl']\nroutes: [{channel: C0123456789}]",
			want:   `templates[0]: "t/[.tmpl": syntax error in pattern`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.config, tc.files)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Errorf("error %q does not name the configuration file", err)
			}
		})
	}
}

func TestTemplatesRelativeToConfig(t *testing.T) {
	path := writeConfig(t, `
templates: [templates/*.tmpl]
routes:
  - {name: team, channel: C0123456789, templates: {title: team.title, text: slack.default.title}}
  - {name: other, channel: C0123456780}
`, map[string]string{
		"templates/a.tmpl": `{{ define "amslack.title" }}[{{ .CommonLabels.env | toUpper }}] {{ .Title }}{{ end }}`,
		"templates/b.tmpl": `{{ define "team.title" }}{{ .Title }} for the team{{ end }}`,
	})
	// The working directory is not the configuration's: relative globs must
	// not depend on it.
	t.Chdir(t.TempDir())
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.templates == nil || c.templates.Lookup("team.title") == nil {
		t.Fatal("the compiled templates do not hold the files' templates")
	}
	render1 := func(tm *render.Templates) (header, text string) {
		t.Helper()
		in := testGroup()
		in.Options.Templates = tm
		m := render.Render(in)
		if len(m.TemplateErrors) > 0 {
			t.Errorf("TemplateErrors: %v", m.TemplateErrors)
		}
		return m.Blocks.BlockSet[0].(*slack.HeaderBlock).Text.Text, m.Text
	}
	tests := []struct {
		name         string
		route        *config.Route
		header, text string
	}{
		{"route names templates", c.Routes[0], "🔥 DiskFull for the team — 1 firing", "[FIRING:1] DiskFull (prod critical)"},
		{"conventional names", c.Routes[1], "🔥 [PROD] DiskFull — 1 firing", "[FIRING:1] [PROD] DiskFull (critical)"},
		{"route made up by the caller", &config.Route{Templates: map[string]string{"title": "nowhere"}}, "🔥 [PROD] DiskFull — 1 firing", "[FIRING:1] [PROD] DiskFull (critical)"},
		{"no route", nil, "🔥 [PROD] DiskFull — 1 firing", "[FIRING:1] [PROD] DiskFull (critical)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header, text := render1(c.routeTemplates(tc.route))
			if diff := cmp.Diff([]string{header, text}, []string{tc.header, tc.text}); diff != "" {
				t.Errorf("header and text (-got +want):\n%s", diff)
			}
		})
	}
}

func TestNoTemplates(t *testing.T) {
	parsed, err := config.Parse([]byte("routes: [{channel: C0123456789}]"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newConfig(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if c.templates != nil || c.routeTemplates(c.Routes[0]) != nil {
		t.Error("templates compiled for a configuration that names none")
	}
}

// TestExampleTemplates loads the example template files through the
// configuration: the default set renders what amslack renders without
// templates, and the custom set renders without errors.
func TestExampleTemplates(t *testing.T) {
	examples, err := filepath.Abs(filepath.Join("..", "..", "..", "examples", "templates"))
	if err != nil {
		t.Fatal(err)
	}
	want := render.Render(testGroup())
	for _, file := range []string{"default.tmpl", "custom.tmpl"} {
		t.Run(file, func(t *testing.T) {
			path := writeConfig(t, "templates: ['"+filepath.Join(examples, file)+"']\nroutes: [{channel: C0123456789}]", nil)
			c, err := LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			in := testGroup()
			in.Options.Templates = c.routeTemplates(c.Routes[0])
			got := render.Render(in)
			if len(got.TemplateErrors) > 0 {
				t.Errorf("TemplateErrors: %v", got.TemplateErrors)
			}
			if err := render.Validate(got); err != nil {
				t.Error(err)
			}
			if file != "default.tmpl" {
				return
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(want)
			if diff := cmp.Diff(string(gotJSON), string(wantJSON)); diff != "" {
				t.Errorf("default.tmpl renders differently from the built-in rendering (-got +want):\n%s", diff)
			}
		})
	}
}
