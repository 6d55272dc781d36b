package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// manyMistakes is a configuration with mistakes of every kind: unknown
// keys, values that do not decode, and values that decode but are wrong.
// The comment on each line says what is wrong there.
const manyMistakes = `slack:
  bot_token: xoxb-x
routes:
  - receiver: team-db
    channel: C0123456789
    mentions:                               # line 6: unknown key, near "mention"
      critical: "<!here>"
    silence_durations: [1h, 4hours, 90d]    # line 8: [1] does not parse, [2] is too long
  - channel: "#alerts"                      # line 9: a name, not an ID
    thread_replies: maybe                   # line 10: not a boolean
delivery:
  max_age: 1 day                            # line 12: does not parse
  channel_burst: many                       # line 13: not a number
interactoins: {}                            # line 14: unknown key, near "interactions"
`

func TestLoadReportsEveryProblem(t *testing.T) {
	path := writeConfig(t, manyMistakes, nil)
	_, err := Load(path)
	if err == nil {
		t.Fatal("Load accepted a file with mistakes")
	}
	problems := Problems(err)
	byKey := map[string]*Problem{}
	for _, p := range problems {
		byKey[p.Key] = p
	}
	for _, want := range []struct {
		key  string
		line int
		says []string
	}{
		{"routes[0].mentions", 6, []string{`unknown key; did you mean "mention"?`, "valid keys here: name, receiver, matchers, channel,"}},
		{"routes[0].silence_durations[1]", 8, []string{`"4hours"`}},
		{"routes[0].silence_durations[2]", 8, []string{"must be between 1s and 30d, got 90d"}},
		{"routes[1].channel", 9, []string{`"#alerts" is not a Slack channel ID`}},
		{"routes[1].thread_replies", 10, []string{"maybe", "bool"}},
		{"delivery.max_age", 12, []string{`"1 day"`}},
		{"delivery.channel_burst", 13, []string{"many"}},
		{"interactoins", 14, []string{`unknown key; did you mean "interactions"?`, "valid keys here: slack, alertmanager,"}},
	} {
		p := byKey[want.key]
		if p == nil {
			t.Errorf("no problem reported at %s; got:\n%v", want.key, err)
			continue
		}
		if p.Line != want.line || p.File != path {
			t.Errorf("%s: reported at %s:%d, want %s:%d", want.key, p.File, p.Line, path, want.line)
		}
		prefix := fmt.Sprintf("%s:%d: %s: ", path, want.line, want.key)
		if got := p.Error(); !strings.HasPrefix(got, prefix) {
			t.Errorf("%s: error %q does not start with %q", want.key, got, prefix)
		}
		for _, s := range want.says {
			if !strings.Contains(p.Error(), s) {
				t.Errorf("%s: error %q does not say %q", want.key, p.Error(), s)
			}
		}
	}
	for _, p := range problems {
		// Go type names mean nothing to the file's author.
		if strings.Contains(p.Error(), "config.") || strings.Contains(p.Error(), "model.Duration") {
			t.Errorf("error names a Go type: %v", p)
		}
	}
	if t.Failed() {
		t.Logf("all problems:\n%v", err)
	}
}

func TestProblemsInFileOrder(t *testing.T) {
	_, err := Parse([]byte(manyMistakes))
	last := 0
	for _, p := range Problems(err) {
		if p.Line < last {
			t.Errorf("problem at line %d after one at line %d:\n%v", p.Line, last, err)
		}
		last = p.Line
		if p.File != "" || !strings.HasPrefix(p.Error(), fmt.Sprintf("line %d: ", p.Line)) {
			t.Errorf("problem of a document without a file: %q", p.Error())
		}
	}
}

func TestSuggestions(t *testing.T) {
	tests := []struct {
		yaml, want, notWant string
	}{
		{"slak: {}", `slak: unknown key; did you mean "slack"?`, ""},
		{"slack: {bot_tokn_file: x}", `slack.bot_tokn_file: unknown key; did you mean "bot_token_file"?`, ""},
		{"routes: [{channel: C0123456789, silence_duration: [1h]}]", `did you mean "silence_durations"?`, ""},
		// Nothing near: no guess, but the valid keys.
		{"webhook: {colour: red}", "webhook.colour: unknown key; valid keys here: bearer_token, bearer_token_file, basic_auth, max_body_bytes, dedup_window", "did you mean"},
		{"routes: [{channel: C0123456789, templates: {title: x, titel: y}}]", "routes[0].templates: unknown part \"titel\"", ""},
		{"routes: {channel: C0123456789}", "routes: want a list", ""},
		{"slack: [api]", "slack: want a mapping", ""},
		{"actions: [{id: restart, label: R, url: 'http://x', allow: {users: [U1]}, secret: s, timeot: 1s}]", `actions[0].timeot: unknown key; did you mean "timeout"?`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one saying %q", err, tt.want)
			}
			if tt.notWant != "" && err != nil && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error = %v, should not say %q", err, tt.notWant)
			}
		})
	}
}

func TestChannelNameSaysHowToFindTheID(t *testing.T) {
	for _, doc := range []string{"routes: [{channel: '#alerts'}]", "allowed_channels: ['#alerts']"} {
		_, err := Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), "About") || !strings.Contains(err.Error(), "Copy link") {
			t.Errorf("%s: error = %v, want one saying where Slack shows a channel's ID", doc, err)
		}
	}
}

func TestSyntaxErrorHasALine(t *testing.T) {
	path := writeConfig(t, "slack:\n  mode: api\n   api_url: x\n", nil)
	_, err := Load(path)
	var p *Problem
	if !errors.As(err, &p) || p.Line != 3 || !strings.HasPrefix(err.Error(), path+":3: ") {
		t.Errorf("error = %v, want one at %s:3", err, path)
	}
}

func TestOddDocuments(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\nallowed_channels: *f\n"
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"empty", "", ""},
		{"comment only", "# nothing\n", ""},
		{"null", "~", ""},
		{"not a mapping", "hello", "line 1: want a mapping with the keys slack, alertmanager, webhook, store, routes, allowed_channels, delivery, interactions, actions, templates, got a single value"},
		{"anchors and merge", "x-route: &r {channel: C0123456789, repeat: thread}\nroutes: [{<<: *r, name: a}]\n", "x-route: unknown key"},
		{"merge", "routes:\n  - &r {channel: C0123456789, repeat: thread}\n  - {<<: *r, name: b, chanel: C0123456780}\n", `routes[1].chanel: unknown key; did you mean "channel"?`},
		{"alias to a bad value", "routes:\n  - {channel: C0123456789, silence_durations: &d [4hours]}\n  - {channel: C0123456780, silence_durations: *d}\n", `routes[0].silence_durations[0]: unknown unit "hours"`},
		{"excessive aliasing", laughs, "a: unknown key"},
		{"key set twice", "slack: {mode: api}\nslack: {mode: preview}\n", "slack: set twice (first on line 1)"},
		{"list of the wrong things", "routes: [1, [2], {channel: C0123456789}]", "routes[0]: want a mapping"},
		{"mapping for a string", "slack: {mode: {a: b}}", "slack.mode: want a single value, got a mapping"},
		{"map key of a list", "routes: [{channel: C0123456789, mention: {[a]: b}}]", "routes[0].mention: want single values as keys, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Parse() error = %v", err)
			case tt.wantErr == "" && c.Slack.APIURL == "":
				t.Errorf("defaults not set: %+v", c.Slack)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Parse() error = %v, want one saying %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "config."):
				t.Errorf("Parse() error names a Go type: %v", err)
			}
		})
	}
}

// TestProblemsHideSecrets proves that a secret written where it does not
// belong is not repeated in the error.
func TestProblemsHideSecrets(t *testing.T) {
	for _, doc := range []string{
		"slack: xoxb-SECRET-TOKEN",
		"webhook: https://hooks.slack.com/services/SECRET-HOOK",
		"routes: [{channel: C0123456789, webhook_url: [https://hooks.slack.com/services/SECRET-HOOK]}]",
		"routes: [xoxb-SECRET-TOKEN]",
		"slack: {bot_token: {xoxb-SECRET-TOKEN: x}}",
	} {
		_, err := Parse([]byte(doc))
		if err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error = %v", doc, err)
		}
	}
}
