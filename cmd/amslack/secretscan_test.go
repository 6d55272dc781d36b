package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

// secretKeys are the configuration keys whose values are credentials. Each
// also has a _file twin whose file content is the credential.
var secretKeys = map[string]bool{
	"bot_token":      true,
	"signing_secret": true,
	"app_token":      true,
	"bearer_token":   true,
	"password":       true,
	"webhook_url":    true,
	"secret":         true,
}

// minSecretLen is the shortest credential the scan looks for. Tests use
// one-letter placeholders ("s", "t") where the value does not matter, and
// those occur in any text.
const minSecretLen = 5

// responseURLPattern matches a response_url that the fake Slack issued (its
// path is /response/<team>/<sequence>/<token>). A response_url lets anyone
// who holds it post into the channel for 30 minutes, so it is a credential
// too.
var responseURLPattern = regexp.MustCompile(`/response/T[A-Z0-9]+/[0-9]{10}/[0-9a-f]{16}`)

// configSecrets returns the credentials that the configuration file at
// path holds, inline or through _file keys. It walks the YAML without the
// configuration types, so that a key added to them is covered as soon as
// its name is in secretKeys.
func configSecrets(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); len(s) >= minSecretLen {
			out = append(out, s)
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[any]any:
			for k, val := range v {
				key, _ := k.(string)
				s, isString := val.(string)
				switch {
				case isString && secretKeys[key]:
					add(s)
				case isString && secretKeys[strings.TrimSuffix(key, "_file")]:
					file := s
					if !filepath.IsAbs(file) {
						file = filepath.Join(filepath.Dir(path), file)
					}
					if content, err := os.ReadFile(file); err == nil {
						add(string(content))
					}
				default:
					walk(val)
				}
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	return out, nil
}

// leakedSecrets returns what of secrets, and any response_url, output holds.
func leakedSecrets(output string, secrets []string) []string {
	var leaked []string
	for _, s := range secrets {
		if strings.Contains(output, s) {
			leaked = append(leaked, s)
		}
	}
	return append(leaked, responseURLPattern.FindAllString(output, 3)...)
}

// checkSecrets fails t when the process logged a credential from its
// configuration or a response_url. Every amslack process that an
// end-to-end test starts is checked when the test ends, so the whole suite's
// logs are scanned, in failure paths as well as healthy ones.
func (p *proc) checkSecrets(t testing.TB) {
	t.Helper()
	secrets, err := configSecrets(p.config)
	if err != nil {
		// The configuration may be deliberately broken; its raw text is
		// then what could leak.
		t.Logf("secret scan: cannot read %s: %v", p.config, err)
		return
	}
	for _, s := range leakedSecrets(p.Output(), secrets) {
		t.Errorf("amslack logged a credential: %q", s)
	}
}

func TestSecretScanFindsLeaks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "token"), "xoxb-FROM-A-FILE\n")
	cfg := filepath.Join(dir, "amslack.yml")
	writeFile(t, cfg, `
slack: {bot_token_file: token, signing_secret: SIGNING-SECRET}
store: {redis: {address: 127.0.0.1:6379, password: REDIS-PASSWORD}}
webhook: {bearer_token: t}
routes:
  - webhook_url: https://hooks.slack.example/services/T0/B0/XYZ
actions:
  - {id: restart, secret: ACTION-SECRET}
`)
	secrets, err := configSecrets(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"xoxb-FROM-A-FILE", "SIGNING-SECRET", "REDIS-PASSWORD", "https://hooks.slack.example/services/T0/B0/XYZ", "ACTION-SECRET"}
	for _, w := range want {
		if got := leakedSecrets("level=info msg=x value="+w, secrets); len(got) != 1 || got[0] != w {
			t.Errorf("a log holding %q: leaked = %q, want it found", w, got)
		}
	}
	if got := leakedSecrets("level=info msg=\"webhook authenticated\" token=<secret>", secrets); len(got) != 0 {
		t.Errorf("a clean log: leaked = %q, want none", got)
	}
	respURL := "http://127.0.0.1:1/response/T0SLACKFAKE/0000000001/9e3779b97f4a7c15"
	if got := leakedSecrets("err=\"post "+respURL+": refused\"", nil); len(got) != 1 {
		t.Errorf("a log holding a response_url: leaked = %q, want it found", got)
	}
}
