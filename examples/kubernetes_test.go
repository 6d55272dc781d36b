package examples

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

// manifest is one document of a Kubernetes manifest file.
type manifest struct {
	file string
	doc  map[string]any
}

func (m manifest) kind() string { s, _ := m.doc["kind"].(string); return s }

func (m manifest) name() string {
	meta, _ := m.doc["metadata"].(map[any]any)
	s, _ := meta["name"].(string)
	return s
}

// get follows keys (strings) and indexes (ints) into the document.
func (m manifest) get(path ...any) any {
	var v any = m.doc
	for _, p := range path {
		switch k := p.(type) {
		case string:
			switch mm := v.(type) {
			case map[string]any:
				v = mm[k]
			case map[any]any:
				v = mm[k]
			default:
				return nil
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// kubernetesManifests parses every document of kubernetes/*.yml strictly:
// a duplicate key or a syntax error fails the test.
func kubernetesManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no kubernetes/*.yml: %v", err)
	}
	var out []manifest
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.SetStrict(true)
		for i := 0; ; i++ {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s, document %d: %v", f, i+1, err)
			}
			m := manifest{file: f, doc: doc}
			if v, _ := doc["apiVersion"].(string); v == "" || m.kind() == "" || m.name() == "" {
				t.Errorf("%s, document %d: want apiVersion, kind and metadata.name; got %q, %q, %q", f, i+1, doc["apiVersion"], m.kind(), m.name())
			}
			out = append(out, m)
		}
	}
	return out
}

func findManifest(t *testing.T, all []manifest, kind, name string) manifest {
	t.Helper()
	for _, m := range all {
		if m.kind() == kind && m.name() == name {
			return m
		}
	}
	t.Fatalf("no %s %s in kubernetes/", kind, name)
	return manifest{}
}

// TestKubernetesExposure checks that the manifests expose each endpoint only
// to its own clients: the Ingress routes /slack/ alone to the Service on
// amslack's main port, the admin endpoints have a listener of their own,
// and Prometheus scrapes that listener.
func TestKubernetesExposure(t *testing.T) {
	all := kubernetesManifests(t)

	sts := findManifest(t, all, "StatefulSet", "amslack")
	ports := map[string]bool{}
	for i := 0; sts.get("spec", "template", "spec", "containers", 0, "ports", i) != nil; i++ {
		name, _ := sts.get("spec", "template", "spec", "containers", 0, "ports", i, "name").(string)
		ports[name] = true
	}
	var args []string
	for _, a := range sts.get("spec", "template", "spec", "containers", 0, "args").([]any) {
		args = append(args, a.(string))
	}
	joined := strings.Join(args, " ")
	for _, want := range []string{"--web.listen-address=:9097", "--web.admin-listen-address=:9098", "--storage.path=/var/lib/amslack", "--config.file=/etc/amslack/amslack.yml"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the StatefulSet's args %q lack %s", args, want)
		}
	}
	if !ports["http"] || !ports["admin"] {
		t.Errorf("the container's ports are %v, want http and admin", ports)
	}
	if uid := sts.get("spec", "template", "spec", "securityContext", "runAsUser"); uid != 65532 {
		t.Errorf("runAsUser %v, want the image's nonroot uid 65532", uid)
	}

	svc := findManifest(t, all, "Service", "amslack")
	for i := 0; svc.get("spec", "ports", i) != nil; i++ {
		if target := svc.get("spec", "ports", i, "targetPort"); target != "http" {
			t.Errorf("Service amslack exposes targetPort %v; only http belongs to it", target)
		}
	}

	ing := findManifest(t, all, "Ingress", "amslack")
	n := 0
	for r := 0; ing.get("spec", "rules", r) != nil; r++ {
		for p := 0; ing.get("spec", "rules", r, "http", "paths", p) != nil; p++ {
			n++
			path := ing.get("spec", "rules", r, "http", "paths", p, "path")
			pathType := ing.get("spec", "rules", r, "http", "paths", p, "pathType")
			backend := ing.get("spec", "rules", r, "http", "paths", p, "backend", "service", "name")
			if path != "/slack/" || pathType != "Prefix" || backend != "amslack" {
				t.Errorf("the Ingress routes %v (%v) to %v; it must route only the /slack/ prefix, to Service amslack", path, pathType, backend)
			}
		}
	}
	if n == 0 || ing.get("spec", "defaultBackend") != nil {
		t.Errorf("the Ingress must route /slack/ and nothing else (%d paths, defaultBackend %v)", n, ing.get("spec", "defaultBackend"))
	}

	sm := findManifest(t, all, "ServiceMonitor", "amslack")
	admin := findManifest(t, all, "Service", "amslack-admin")
	if port := sm.get("spec", "endpoints", 0, "port"); port != admin.get("spec", "ports", 0, "name") || admin.get("spec", "ports", 0, "targetPort") != "admin" {
		t.Errorf("the ServiceMonitor scrapes port %v, want Service amslack-admin's port, which targets admin", port)
	}
	for k, v := range sm.get("spec", "selector", "matchLabels").(map[any]any) {
		if admin.get("metadata", "labels", k.(string)) != v {
			t.Errorf("the ServiceMonitor selects %v=%v, which Service amslack-admin lacks", k, v)
		}
		if k == "app.kubernetes.io/component" && svc.get("metadata", "labels", k.(string)) == v {
			t.Errorf("the ServiceMonitor also selects Service amslack")
		}
	}

	// The configuration the StatefulSet mounts names its secret files in
	// the directory where the Secret is projected.
	cm := findManifest(t, all, "ConfigMap", "amslack")
	if cfg, _ := cm.get("data", "amslack.yml").(string); !strings.Contains(cfg, "/etc/amslack/") {
		t.Errorf("the ConfigMap's amslack.yml does not read its secrets from /etc/amslack:\n%s", cfg)
	}
}

// TestPrometheusRule checks the shape of each alerting rule; the metrics
// they use are checked against a running amslack in cmd/amslack.
func TestPrometheusRule(t *testing.T) {
	rule := findManifest(t, kubernetesManifests(t), "PrometheusRule", "amslack")
	alerts := map[string]bool{}
	for g := 0; rule.get("spec", "groups", g) != nil; g++ {
		for r := 0; rule.get("spec", "groups", g, "rules", r) != nil; r++ {
			get := func(k ...any) any { return rule.get(append([]any{"spec", "groups", g, "rules", r}, k...)...) }
			name, _ := get("alert").(string)
			expr, _ := get("expr").(string)
			if name == "" || expr == "" {
				t.Errorf("group %d rule %d: want alert and expr", g, r)
				continue
			}
			alerts[name] = true
			if strings.Count(expr, "(") != strings.Count(expr, ")") || strings.Count(expr, "{") != strings.Count(expr, "}") || strings.Count(expr, "[") != strings.Count(expr, "]") {
				t.Errorf("%s: unbalanced brackets in %q", name, expr)
			}
			if get("labels", "severity") == nil || get("annotations", "summary") == nil {
				t.Errorf("%s: want labels.severity and annotations.summary", name)
			}
		}
	}
	for _, want := range []string{"AmslackOutboxBacklog", "AmslackDeadLetters", "AmslackSlackRateLimited", "AmslackConfigReloadFailed", "AmslackTemplateErrors"} {
		if !alerts[want] {
			t.Errorf("no alert %s", want)
		}
	}
}
