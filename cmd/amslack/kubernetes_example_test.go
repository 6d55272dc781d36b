package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"

	"github.com/amslack/amslack/cmd/internal/config"
	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestPrometheusRuleMetricsExist scrapes a running amslack and checks that
// every amslack metric the example alerting rules use is exported, so that
// no rule silently never fires. amslack creates its series at zero, so they
// are there before anything happens.
func TestPrometheusRuleMetricsExist(t *testing.T) {
	b, err := os.ReadFile("../../examples/kubernetes/prometheusrule.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert, Expr string
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &rule); err != nil {
		t.Fatal(err)
	}
	used := map[string][]string{}
	metricName := regexp.MustCompile(`\bamslack_[a-z0-9_]+`)
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			for _, m := range metricName.FindAllString(r.Expr, -1) {
				used[m] = append(used[m], r.Alert)
			}
		}
	}
	if len(used) < 5 {
		t.Fatalf("the rules use %d amslack metrics, want at least 5: %v", len(used), used)
	}

	_, slackURL := fakeSlack(t, slackfake.Options{})
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x, signing_secret: s3cret}\nroutes: [{channel: C0KUBERN01}]\n", slackURL)
	p := startAmslack(t, cfg, "")
	_, metrics := get(t, p.URL+"/metrics", nil)
	exported := map[string]bool{}
	for _, l := range strings.Split(metrics, "\n") {
		if name, ok := strings.CutPrefix(l, "# TYPE "); ok {
			exported[strings.Fields(name)[0]] = true
		}
	}
	for m, alerts := range used {
		if !exported[m] {
			t.Errorf("%v use %s, which amslack does not export", alerts, m)
		}
	}
}

// TestKubernetesConfigMapIsValid checks the configuration that the
// Kubernetes example mounts; its secret files come from a Secret the
// operator creates, so only the document itself is checked.
func TestKubernetesConfigMapIsValid(t *testing.T) {
	b, err := os.ReadFile("../../examples/kubernetes/amslack.yml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	found := false
	for {
		var doc struct {
			Kind string
			Data map[string]string
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if doc.Kind != "ConfigMap" {
			continue
		}
		found = true
		if _, err := config.Parse([]byte(doc.Data["amslack.yml"])); err != nil {
			t.Errorf("the ConfigMap's amslack.yml is not valid: %v", err)
		}
	}
	if !found {
		t.Fatal("no ConfigMap in examples/kubernetes/amslack.yml")
	}
}
