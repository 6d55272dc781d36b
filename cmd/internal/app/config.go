package app

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"maps"
	"path/filepath"
	"slices"
	texttemplate "text/template"

	"github.com/prometheus/alertmanager/template"

	"github.com/amslack/amslack/cmd/internal/config"
	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/interact/businesshours"
	"github.com/amslack/amslack/render"
)

// Config is a loaded configuration with what the wiring builds from it
// once, on load and on every reload: the compiled message templates and
// the runbook actions as interact takes them.
type Config struct {
	*config.Config

	// templates is the compiled template set: Alertmanager's own templates
	// and those of the template files, with render's template functions.
	// It is nil when the configuration names no template, so that
	// rendering keeps its built-in path.
	templates *texttemplate.Template
	// actions are the configuration's runbook actions, as interact takes
	// them.
	actions []interact.Action
	// businessHours are the routes' business hours by route name.
	businessHours map[string]*businesshours.Hours
}

// LoadConfig loads and validates the configuration file at path, and
// compiles the message templates it names. Its errors are
// config.Problems, at their lines in the file.
func LoadConfig(path string) (*Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return newConfig(cfg)
}

// newConfig compiles the templates of cfg and converts its actions.
func newConfig(cfg *config.Config) (*Config, error) {
	set, errs := compileTemplates(cfg)
	if len(errs) > 0 {
		return nil, cfg.Locate(errors.Join(errs...))
	}
	hours, err := routeBusinessHours(cfg)
	if err != nil {
		return nil, cfg.Locate(err)
	}
	return &Config{Config: cfg, templates: set, actions: cfg.Actions, businessHours: hours}, nil
}

// routeBusinessHours builds the business hours of cfg's routes, by route
// name. The configuration's validation checked the same strings, so an
// error here means the two disagree.
func routeBusinessHours(cfg *config.Config) (map[string]*businesshours.Hours, error) {
	out := map[string]*businesshours.Hours{}
	var errs []error
	for i, r := range cfg.Routes {
		b := r.BusinessHours
		if b == nil {
			continue
		}
		h, err := businesshours.Parse(b.TimeZone, b.Start, b.End, b.Days, b.Holidays)
		if err != nil {
			// Parse's errors begin with business_hours.<key>.
			errs = append(errs, fmt.Errorf("routes[%d].%w", i, err))
			continue
		}
		out[r.Name] = &h
	}
	return out, errors.Join(errs...)
}

// interactRule returns the rule r, where nil is the rule that lets
// everyone act.
func interactRule(r *config.Rule) interact.Rule {
	if r == nil {
		return interact.Rule{}
	}
	return *r
}

// compileTemplates parses the template files, after Alertmanager's own
// templates and with render's template functions, and checks that the
// templates the routes name are defined. It compiles nothing when the
// configuration names no template, so that rendering keeps its built-in
// path. Its errors begin with the path of the key at fault.
func compileTemplates(cfg *config.Config) (*texttemplate.Template, []error) {
	routeNames := slices.ContainsFunc(cfg.Routes, func(r *config.Route) bool { return r != nil && len(r.Templates) > 0 })
	if len(cfg.TemplateFiles) == 0 && !routeNames {
		return nil, nil
	}
	var errs []error
	globs := cfg.TemplateGlobs()
	for i, g := range cfg.TemplateFiles {
		// Alertmanager accepts a glob that matches nothing; a message
		// template that is silently missing is worse than an error.
		switch files, err := filepath.Glob(globs[i]); {
		case err != nil:
			errs = append(errs, fmt.Errorf("templates[%d]: %q: %w", i, g, err))
		case len(files) == 0:
			errs = append(errs, fmt.Errorf("templates[%d]: %q matches no files", i, g))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	set, err := parseTemplates(globs)
	if err != nil {
		// The error names the file and line ("template: team.tmpl:3: …");
		// name the glob that holds the file too.
		for i := range globs {
			if _, err := parseTemplates(globs[i : i+1]); err != nil {
				return nil, []error{fmt.Errorf("templates[%d]: %w", i, err)}
			}
		}
		return nil, []error{fmt.Errorf("templates: %w", err)}
	}
	for i, r := range cfg.Routes {
		if r == nil {
			continue
		}
		for _, part := range slices.Sorted(maps.Keys(r.Templates)) {
			name := r.Templates[part]
			if t := set.Lookup(name); name != "" && (t == nil || t.Tree == nil) {
				errs = append(errs, fmt.Errorf("routes[%d].templates.%s: template %q is not defined", i, part, name))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return set, nil
}

// parseTemplates parses the files of globs as Alertmanager does, with
// render's template functions, and returns the text templates.
func parseTemplates(globs []string) (*texttemplate.Template, error) {
	var set *texttemplate.Template
	keep := func(text *texttemplate.Template, _ *htmltemplate.Template) { set = text }
	if _, err := template.FromGlobs(globs, render.AddTemplateFuncs, keep); err != nil {
		return nil, err
	}
	return set, nil
}

// routeTemplates returns the templates that render the messages of r, one
// of c.Routes, or nil when the configuration names no template. For a route
// that did not come from the file, such as a default made up by the
// wiring, only the conventional names amslack.<part> apply.
func (c *Config) routeTemplates(r *config.Route) *render.Templates {
	if c.templates == nil {
		return nil
	}
	var names map[string]string
	if r != nil {
		names = r.Templates
	}
	t, err := render.NewTemplates(c.templates, names)
	if err != nil {
		// compileTemplates checked the routes of the file; this route is
		// another one.
		t, _ = render.NewTemplates(c.templates, nil)
	}
	return t
}
