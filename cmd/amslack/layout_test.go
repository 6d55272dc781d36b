package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/amslack/amslack"

// listedPackage is what go list says of one package of the module.
type listedPackage struct {
	ImportPath string
	// Deps are the package's non-test dependencies, direct and indirect.
	Deps []string
}

// modulePackages returns each package of the module with the module's
// packages it depends on, without test files, by the module-relative path
// ("receiver/outbox"; "" for none such).
func modulePackages(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", module+"/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pkgs := map[string][]string{}
	dec := json.NewDecoder(out)
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var deps []string
		for _, d := range p.Deps {
			if rel, ok := relative(d); ok {
				deps = append(deps, rel)
			}
		}
		rel, _ := relative(p.ImportPath)
		pkgs[rel] = deps
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func relative(path string) (string, bool) {
	if path == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

// within reports whether pkg is dir or below it.
func within(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }

// TestLayout holds the dependency rules of the layout that the README's
// Layout section describes, so that they stay true.
func TestLayout(t *testing.T) {
	pkgs := modulePackages(t)
	// The webhook path: Alertmanager in, through the outbox, out to Slack.
	webhookPath := []string{"receiver", "receiver/outbox", "receiver/sender"}
	isWebhookPath := func(p string) bool { return slices.Contains(webhookPath, p) }
	isSlackIn := func(p string) bool { return within(p, "interact") }
	// Vocabulary and the way out to Slack, which both paths share.
	shared := func(p string) bool {
		return within(p, "receiver/alertgroup") || within(p, "receiver/slackapi") || p == "render"
	}

	rules := []struct {
		name string
		// applies selects the packages the rule is about; allowed says
		// which of the module's packages they may depend on.
		applies func(pkg string) bool
		allowed func(dep string) bool
	}{
		{
			name:    "the alert-group vocabulary is a leaf",
			applies: func(p string) bool { return p == "receiver/alertgroup" },
			allowed: func(string) bool { return false },
		},
		{
			name:    "render is pure: it knows only the vocabulary",
			applies: func(p string) bool { return within(p, "render") },
			allowed: func(d string) bool { return d == "receiver/alertgroup" },
		},
		{
			name:    "the webhook path does not depend on the Slack-in path",
			applies: isWebhookPath,
			allowed: func(d string) bool { return isWebhookPath(d) || shared(d) },
		},
		{
			name:    "the Slack-in path does not depend on the webhook path",
			applies: isSlackIn,
			allowed: func(d string) bool { return isSlackIn(d) || shared(d) },
		},
		{
			name:    "store backends depend only on the vocabulary",
			applies: func(p string) bool { return within(p, "receiver/alertgroup") && p != "receiver/alertgroup" },
			// internal holds what the backends share (the quarantine's
			// error, log line and metric).
			allowed: func(d string) bool { return d == "receiver/alertgroup" || within(d, "receiver/alertgroup/internal") },
		},
		{
			// The one way out to Slack sits beneath both paths, so it
			// can know neither; its fake, beneath it, imports it.
			name:    "the Slack client depends at most on the vocabulary",
			applies: func(p string) bool { return p == "receiver/slackapi" },
			allowed: func(d string) bool { return d == "receiver/alertgroup" },
		},
		{
			name:    "nothing in production depends on examples",
			applies: func(p string) bool { return !within(p, "examples") },
			allowed: func(d string) bool { return !within(d, "examples") },
		},
		{
			// The wiring (cmd/internal/app) turns the configuration into
			// each package's options. The rules and runbook actions are
			// the one part declared once for both: package rules holds
			// their types and validation and imports nothing of amslack.
			name:    "config imports no behaviour package",
			applies: func(p string) bool { return p == "cmd/internal/config" },
			allowed: func(d string) bool { return d == "interact/rules" },
		},
		{
			name:    "the rules' declarations import nothing of amslack",
			applies: func(p string) bool { return p == "interact/rules" },
			allowed: func(string) bool { return false },
		},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			matched := 0
			for pkg, deps := range pkgs {
				if !r.applies(pkg) {
					continue
				}
				matched++
				for _, d := range deps {
					if !r.allowed(d) {
						t.Errorf("%s depends on %s", pkg, d)
					}
				}
			}
			if matched == 0 {
				t.Errorf("no package of the module is subject to this rule: the layout changed, update the rule")
			}
		})
	}
	// render holds the renderer alone: no fake Slack, no preview page.
	for pkg := range pkgs {
		if within(pkg, "render") && pkg != "render" {
			t.Errorf("%s is under render, which holds only the renderer", pkg)
		}
	}
}
