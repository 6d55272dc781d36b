package interact

import (
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/amslack/amslack/interact/amclient"
)

// TestButtonSilenceKeepsToRule checks that the Silence and Acknowledge
// buttons refuse a silence that would cover alerts outside the rule. The
// group's common labels lack severity, so a rule that forbids critical
// alerts passed on them, while the group's silence, made of those labels,
// mutes its critical alert too.
func TestButtonSilenceKeepsToRule(t *testing.T) {
	notCritical := Rule{Matchers: []string{`severity!="critical"`}}
	m, err := labels.ParseMatcher(notCritical.Matchers[0])
	if err != nil {
		t.Fatal(err)
	}
	notCritical.ParsedMatchers = labels.Matchers{m}
	for _, action := range []string{ActionSilence, ActionAck} {
		t.Run(action, func(t *testing.T) {
			am := &fakeAM{}
			e := newEnv(t, Options{Silences: am, Silence: notCritical, Ack: notCritical})
			seedGroup(t, e.groups.Groups, nil)
			spec := clickSpec{action: action, responseURL: e.sink.url("x")}
			if action == ActionSilence {
				spec.value = "1h"
			}
			e.post(t, spec)
			if got := e.sink.next(t); !strings.Contains(got, "restricts the label severity") {
				t.Errorf("reply = %q, want a refusal naming severity", got)
			}
			if n := len(am.creates()); n != 0 {
				t.Errorf("silences created: %d, want none", n)
			}
		})
	}
}

// TestButtonSilenceRefusalEscaped checks that a refusal quoting an alert's
// labels, which come from outside, reaches the clicker escaped: the reply
// is mrkdwn, where <!channel> would ping the channel.
func TestButtonSilenceRefusalEscaped(t *testing.T) {
	prod := Rule{Matchers: []string{`cluster="prod"`}}
	m, err := labels.ParseMatcher(prod.Matchers[0])
	if err != nil {
		t.Fatal(err)
	}
	prod.ParsedMatchers = labels.Matchers{m}
	// An Alertmanager whose matching differs from amslack's lists an
	// alert outside the rule.
	am := &fakeAM{alerts: []amclient.Alert{{Labels: map[string]string{"alertname": "DiskFull", "cluster": "<!channel> & <https://evil.example|x>"}}}}
	e := newEnv(t, Options{Silences: am, Silence: prod})
	seedGroup(t, e.groups.Groups, nil)
	e.post(t, clickSpec{action: ActionSilence, value: "1h", responseURL: e.sink.url("x")})
	got := e.sink.next(t)
	if !strings.Contains(got, "does not allow silencing the alert") || !strings.Contains(got, "&lt;!channel&gt; &amp; &lt;https://evil.example|x&gt;") {
		t.Errorf("reply = %q, want the refusal with the labels escaped", got)
	}
	if n := len(am.creates()); n != 0 {
		t.Errorf("silences created: %d, want none", n)
	}
}
