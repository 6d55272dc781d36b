package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

// TestCheckConfigReportsEveryMistake runs check-config once on a file with
// a mistake of each kind: a value that does not parse, an unknown key, and
// a value that parses but is out of range. One run names every key with its
// line.
func TestCheckConfigReportsEveryMistake(t *testing.T) {
	path := filepath.Join(t.TempDir(), "amslack.yml")
	writeFile(t, path, `slack:
  bot_token: xoxb-example
interactions:
  ack_duration: 4hours
routes:
  - receiver: team-db
    channel: C0123456789
    mentions:
      critical: "<!here>"
    silence_durations: [1h, 4h, 90d]
  - channel: "#alerts"
`)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check-config", path}, &stdout, &stderr); code != 1 {
		t.Errorf("check-config exit code = %d, want 1\n%s%s", code, &stdout, &stderr)
	}
	out := stderr.String()
	for _, want := range []string{
		path + `:4: interactions.ack_duration: unknown unit "hours" in duration "4hours"`,
		path + `:8: routes[0].mentions: unknown key; did you mean "mention"? valid keys here: name, receiver, matchers, channel,`,
		path + ":10: routes[0].silence_durations[2]: must be between 1s and 30d, got 90d",
		path + `:11: routes[1].channel: "#alerts" is not a Slack channel ID`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check-config output does not say %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n  - "); n != 4 {
		t.Errorf("check-config reported %d problems, want 4:\n%s", n, out)
	}
}

// amslackExamples returns the amslack configurations among the example
// YAML files; the Slack app manifest, Alertmanager's and Kubernetes' files
// are told apart by their top-level keys. The configurations that
// Kubernetes ConfigMaps hold are written to files of their own.
func amslackExamples(t *testing.T) []string {
	t.Helper()
	var files []string
	dir := t.TempDir()
	err := filepath.WalkDir(filepath.Join("..", "..", "examples"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".yml" && filepath.Ext(path) != ".yaml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var top map[string]any
		if err := yaml.Unmarshal(b, &top); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, ok := top["apiVersion"]; ok {
			held, err := configMapConfigs(path, b, dir)
			files = append(files, held...)
			return err
		}
		for _, other := range []string{
			"display_information", "_metadata", // a Slack app manifest
			"route", "receivers", // an Alertmanager configuration
		} {
			if _, ok := top[other]; ok {
				return nil
			}
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// configMapConfigs writes the amslack configurations that the Kubernetes
// ConfigMaps of the file path, with content b, hold under a key ending in
// .yml or .yaml into dir, and returns their paths.
func configMapConfigs(path string, b []byte, dir string) ([]string, error) {
	var files []string
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var obj struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
		}
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return files, fmt.Errorf("%s: %w", path, err)
		}
		if obj.Kind != "ConfigMap" {
			continue
		}
		for key, text := range obj.Data {
			if !strings.HasSuffix(key, ".yml") && !strings.HasSuffix(key, ".yaml") {
				continue
			}
			f := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))+"-configmap-"+key)
			if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
				return files, err
			}
			files = append(files, f)
		}
	}
}

func TestCheckConfigExamples(t *testing.T) {
	files := amslackExamples(t)
	for _, want := range []string{"amslack.yml", "demo.yml"} {
		if !strings.Contains(strings.Join(files, " "), want) {
			t.Errorf("examples found: %v, want %s among them", files, want)
		}
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			// The examples name secret files under /etc/amslack, which
			// exist where amslack is installed, not here.
			var stdout, stderr bytes.Buffer
			if code := run([]string{"check-config", "--no-files", f}, &stdout, &stderr); code != 0 {
				t.Errorf("check-config --no-files %s: exit code %d\n%s%s", f, code, &stdout, &stderr)
			}
		})
	}
}

func TestCheckConfigSecretFiles(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yml")
	writeFile(t, missing, "slack: {bot_token_file: /nonexistent/token}\nroutes: [{channel: C0123456789}]\n")
	none := filepath.Join(dir, "none.yml")
	writeFile(t, none, "routes: [{channel: C0123456789}]\n")
	empty := filepath.Join(dir, "empty.yml")
	writeFile(t, empty, "slack: {bot_token_file: token}\nroutes: [{channel: C0123456789}]\n")
	writeFile(t, filepath.Join(dir, "token"), "\n")

	tests := []struct {
		name      string
		args      []string
		code      int
		says, not []string
	}{
		{"unreadable file", []string{missing}, 1,
			[]string{"slack.bot_token_file: read secret file: open /nonexistent/token"},
			[]string{"routes post to channels"}},
		{"file not read", []string{"--no-files", missing}, 0, []string{"is valid"}, nil},
		{"no token at all", []string{none}, 1, []string{"slack.bot_token: routes post to channels"}, nil},
		{"no token at all, files not read", []string{"--no-files", none}, 1, []string{"slack.bot_token: routes post to channels"}, nil},
		{"empty file", []string{empty}, 1, []string{"slack.bot_token_file: the file is empty"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"check-config"}, tt.args...), &stdout, &stderr)
			out := stdout.String() + stderr.String()
			if code != tt.code {
				t.Errorf("exit code = %d, want %d\n%s", code, tt.code, out)
			}
			for _, s := range tt.says {
				if !strings.Contains(out, s) {
					t.Errorf("output does not say %q:\n%s", s, out)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(out, s) {
					t.Errorf("output says %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestDeadLetterIDMustBeANumber(t *testing.T) {
	for _, cmd := range []string{"retry", "drop"} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"dlq", "--amslack.url=http://127.0.0.1:1", cmd, "nonexistent"}, &stdout, &stderr)
		out := stderr.String()
		if code != 2 || !strings.Contains(out, `"nonexistent" is not a dead-letter ID`) || !strings.Contains(out, "amslack dlq list") || strings.Contains(out, "strconv") {
			t.Errorf("dlq %s nonexistent: exit code %d, output:\n%s", cmd, code, out)
		}
	}
}

func TestRenderCommandOutput(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	writeFile(t, cfg, "routes:\n  - {name: team-web, receiver: web, channel: C0123456780}\n  - {name: default, channel: C0123456789, mention: {critical: '<!here>'}}\n")
	data := filepath.Join("..", "internal", "preview", "alerts", "disk-full-firing.json")

	var stdout, stderr bytes.Buffer
	if code := run([]string{"--config.file=" + cfg, "render", "--data=" + data, "--now=2026-11-29T14:30:00Z"}, &stdout, &stderr); code != 0 {
		t.Fatalf("render: exit code %d\n%s", code, &stderr)
	}
	// Slack's mrkdwn is plain text with <…> for mentions and links; the
	// JSON shows it as Slack receives it.
	if out := stdout.String(); !strings.Contains(out, "<!here>") || strings.Contains(out, `\u003c`) {
		t.Errorf("render output escapes < and >:\n%s", out)
	}

	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"--config.file=" + cfg, "render", "--data=" + data, "--route=db"}, &stdout, &stderr); code != 1 {
		t.Errorf("render --route=db: exit code %d, want 1", code)
	}
	if out := stderr.String(); !strings.Contains(out, `no route named "db"`) || !strings.Contains(out, "team-web, default") {
		t.Errorf("render --route=db does not list the routes:\n%s", out)
	}
}
