package main

import (
	"encoding/json"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderCommand(t *testing.T) {
	fixtures, err := filepath.Glob(filepath.Join("..", "..", "receiver", "testdata", "alertmanager", "*.json"))
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("fixtures: %v", err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	writeFile(t, cfg, "routes: [{name: default, channel: C0123456789, silence_durations: [2h]}]\n")
	for _, f := range fixtures {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, err := exec.Command(binary, "render", "--config.file="+cfg, "--data="+f, "--now=2026-11-29T14:30:00Z").Output()
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			var msg struct {
				Text   string           `json:"text"`
				Blocks []map[string]any `json:"blocks"`
			}
			if err := json.Unmarshal(out, &msg); err != nil {
				t.Fatalf("output is not a message: %v\n%s", err, out)
			}
			if msg.Text == "" || len(msg.Blocks) == 0 {
				t.Errorf("empty message: %s", out)
			}
			if strings.Contains(string(out), `"status":"firing"`) {
				return
			}
			firing := !strings.Contains(f, "resolved")
			if got := strings.Contains(string(out), `"value": "2h"`); got != firing {
				t.Errorf("route's silence duration offered = %v, want %v", got, firing)
			}
		})
	}

	out, err := exec.Command(binary, "render", "--config.file="+cfg, "--data="+fixtures[0], "--builder-url").Output()
	if err != nil {
		t.Fatal(err)
	}
	link := strings.TrimSpace(string(out))
	u, err := url.Parse(link)
	if err != nil || u.Host != "app.slack.com" || !strings.Contains(u.Fragment, `"blocks"`) {
		t.Errorf("builder link = %q (%v)", link, err)
	}

	// A template that fails at render time: the part falls back and the
	// command says why.
	tmpl := filepath.Join(dir, "broken.tmpl")
	writeFile(t, tmpl, `{{ define "amslack.title" }}{{ .NoSuchField }}{{ end }}`)
	writeFile(t, cfg, "templates: [broken.tmpl]\nroutes: [{name: default, channel: C0123456789}]\n")
	cmd := exec.Command(binary, "render", "--config.file="+cfg, "--data="+fixtures[0])
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil || !strings.Contains(string(out), "DiskFull") {
		t.Errorf("render with a failing template: %v\n%s", err, out)
	}
	if !strings.Contains(stderr.String(), "template of title failed") {
		t.Errorf("stderr does not report the template failure: %q", stderr.String())
	}

	// A payload that is not a notification.
	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"version":"3"}`)
	if out, err := exec.Command(binary, "render", "--config.file="+cfg, "--data="+bad).CombinedOutput(); err == nil || !strings.Contains(string(out), "version") {
		t.Errorf("render of a bad payload: %v %s", err, out)
	}
}
