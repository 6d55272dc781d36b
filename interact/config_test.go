package interact

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/amslack/amslack/render"
)

type testConfig struct {
	Silence Rule     `yaml:"silence"`
	Actions []Action `yaml:"actions"`
}

const validActions = `
silence:
  usergroups: [S0001ONCALL]
  matchers: ['severity=~"critical|warning"']
actions:
  - id: approve_restart
    label: Approve restart
    url: http://127.0.0.1:8081/restart
    style: danger
    confirm: {title: "Restart?", text: "This restarts the service.", confirm: Restart, deny: Cancel}
    allow: {users: [U0001ALICE], usergroups: [S0001ONCALL]}
    matchers: ['alertname="DiskFull"', '{cluster=~"prod|staging", team!="ml"}']
    approvals: 2
    timeout: 5s
    secret: s3cret-value
  - id: open_ticket
    label: Open ticket
    url: https://tickets.internal/new
    allow: {users: [W0002BOB]}
    secret_file: ticket.secret
`

func TestConfigYAML(t *testing.T) {
	var c testConfig
	if err := yaml.UnmarshalStrict([]byte(validActions), &c); err != nil {
		t.Fatal(err)
	}
	if err := ValidateActions(c.Actions); err != nil {
		t.Fatal(err)
	}
	if err := c.Silence.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := len(c.Silence.ParsedMatchers); got != 1 {
		t.Errorf("silence matchers parsed = %d, want 1", got)
	}
	a := c.Actions[0]
	if got := len(a.ParsedMatchers); got != 3 {
		t.Errorf("action matchers parsed = %d, want 3", got)
	}
	if a.Approvals != 2 || a.Timeout != model.Duration(5*time.Second) {
		t.Errorf("approvals %d, timeout %v", a.Approvals, a.Timeout)
	}
	b := c.Actions[1]
	if b.Approvals != DefaultApprovals || b.Timeout != model.Duration(DefaultActionTimeout) {
		t.Errorf("defaults not filled: approvals %d, timeout %v", b.Approvals, b.Timeout)
	}
	b.SetDirectory("/etc/amslack")
	if b.SecretFile != "/etc/amslack/ticket.secret" {
		t.Errorf("SetDirectory: %q", b.SecretFile)
	}

	r := RenderAction(&a)
	if diff := cmp.Diff(r.Confirm, &render.Confirm{Title: "Restart?", Text: "This restarts the service.", Confirm: "Restart", Deny: "Cancel"}); diff != "" {
		t.Errorf("Render().Confirm (-got +want):\n%s", diff)
	}
	if r.ID != "approve_restart" || r.Label != "Approve restart" || r.Style != "danger" || r.Approvals != 2 || len(r.Matchers) != 3 {
		t.Errorf("Render() = %+v", r)
	}

	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cret-value") || !strings.Contains(string(out), "<secret>") {
		t.Errorf("marshalled configuration shows the secret:\n%s", out)
	}
}

func TestConfigYAMLErrors(t *testing.T) {
	const base = "id: x\nlabel: X\nurl: http://a/\nallow: {users: [U1]}\nsecret: s\n"
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"unknown key", base + "urll: http://b/\n", "urll"},
		{"no allow list", "id: x\nlabel: X\nurl: http://a/\nsecret: s\n", `action "x": allow: must list users or usergroups`},
		{"builtin id", strings.Replace(base, "id: x", "id: ack", 1), `action "ack": id: is the id of a built-in control`},
		{"bad id", strings.Replace(base, "id: x", "id: Restart Now", 1), "id: must be lower case"},
		{"label too long", strings.Replace(base, "label: X", "label: "+strings.Repeat("a", 76), 1), "label: is 76 characters, Slack allows 75"},
		{"no label", strings.Replace(base, "label: X\n", "", 1), "label: must be set"},
		{"bad url", strings.Replace(base, "http://a/", "ftp://a/", 1), "url: must be an absolute http(s) URL"},
		{"bad style", base + "style: blue\n", `style: must be "primary" or "danger", got "blue"`},
		{"two secrets", base + "secret_file: f\n", "secret: exactly one of secret and secret_file"},
		{"no secret", strings.Replace(base, "secret: s\n", "", 1), "secret: exactly one of secret and secret_file"},
		{"bad matcher", base + "matchers: ['a=~\"(\"']\n", "matchers: matchers[0]"},
		{"bad user", strings.Replace(base, "U1", "alice", 1), `users: "alice" is not a Slack user ID`},
		{"bad user group", strings.Replace(base, "users: [U1]", "usergroups: [oncall]", 1), `usergroups: "oncall" is not a Slack user group ID`},
		{"negative approvals", base + "approvals: -1\n", "approvals: must not be negative"},
		{"confirm without text", base + "confirm: {title: T}\n", "confirm.text: must be set"},
		{"confirm text too long", base + "confirm: {text: " + strings.Repeat("b", 301) + "}\n", "confirm.text: is 301 characters, Slack allows 300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Action
			err := yaml.UnmarshalStrict([]byte(tt.yaml), &a)
			if err == nil {
				err = a.Validate(reservedID)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("UnmarshalStrict() and Validate() = %v, want an error containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}

func TestValidateActionsDuplicates(t *testing.T) {
	a := Action{ID: "x", Label: "X", URL: "http://a/", Allow: Rule{Users: []string{"U1"}}, Secret: "s"}
	err := ValidateActions([]Action{a, a})
	if err == nil || !strings.Contains(err.Error(), `actions[1]: id "x" is used by another action`) {
		t.Errorf("ValidateActions() = %v", err)
	}
}
