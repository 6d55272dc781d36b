package interact

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/slack-go/slack/slackevents"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/amtest"
)

// TestWorkflowStepSilenceRule runs the silence_alerts step against a real
// Alertmanager holding a prod and a dev alert, under a rule that allows
// U0PREVIEWA to silence anything but prod. A step may only create a silence
// all of whose alerts, now and later, the rule allows: the rule's labels must
// be fixed by the step's matchers, and no alert Alertmanager lists for them
// may fall outside the rule.
func TestWorkflowStepSilenceRule(t *testing.T) {
	am := amtest.Start(t)
	c, err := amclient.New(am.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	am.PostAlerts(t,
		amtest.Alert{Labels: map[string]string{"alertname": "DiskFull", "env": "prod", "instance": "db-1"}},
		amtest.Alert{Labels: map[string]string{"alertname": "DiskFull", "env": "dev", "instance": "db-2"}},
	)
	rule := Rule{Users: []string{"U0PREVIEWA"}, Matchers: []string{`env!="prod"`}}

	tests := []struct {
		name, matchers, user string
		allowed              bool
		want                 string // the start of the step's error, when refused
	}{
		{name: "regex over every alertname", matchers: `alertname=~".+"`, user: "U0PREVIEWA",
			want: `amslack's silence rule restricts the label env (env!="prod")`},
		{name: "alertname only", matchers: `alertname="DiskFull"`, user: "U0PREVIEWA",
			want: `amslack's silence rule restricts the label env (env!="prod")`},
		{name: "regex on the rule's label", matchers: `env=~"dev|prod"`, user: "U0PREVIEWA",
			want: `amslack's silence rule restricts the label env (env!="prod")`},
		{name: "negative matcher on the rule's label", matchers: `alertname="DiskFull", env!="dev"`, user: "U0PREVIEWA",
			want: `amslack's silence rule restricts the label env (env!="prod")`},
		{name: "prod", matchers: `alertname="DiskFull", env="prod"`, user: "U0PREVIEWA",
			want: "amslack's silence rule does not allow silences of these alerts"},
		{name: "dev, another user", matchers: `env="dev"`, user: "U0OTHER",
			want: reasonNotAllowed},
		{name: "dev", matchers: `env="dev"`, user: "U0PREVIEWA", allowed: true},
		{name: "dev disk", matchers: `alertname="DiskFull", env="dev"`, user: "U0PREVIEWA", allowed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{Silences: c, Silence: rule, Workers: -1})
			before := len(am.Silences(t))
			ev := &slackevents.FunctionExecutedEvent{
				Type:                "function_executed",
				Inputs:              map[string]any{"matchers": tt.matchers, "duration": "1h", "user_id": tt.user},
				FunctionExecutionID: "Fx1", WorkflowExecutionID: "Wf1",
			}
			ev.Function.CallbackID = StepSilenceAlerts
			e.h.runStep(t.Context(), testTeam, ev)

			e.slack.mu.Lock()
			completions := e.slack.completions
			e.slack.mu.Unlock()
			entries := e.audit.entries(t)
			last := entries[len(entries)-1]
			silences := am.Silences(t)
			if tt.allowed {
				if len(completions) != 1 || completions[0] != "Fx1: success" || last.Decision != DecisionSucceeded {
					t.Fatalf("completions = %q, last audit %+v; want one success", completions, last)
				}
				if len(silences) != before+1 {
					t.Fatalf("silences = %d, want %d", len(silences), before+1)
				}
				for _, a := range am.Alerts(t, `env="prod"`) {
					if len(a.Status.SilencedBy) != 0 {
						t.Errorf("the prod alert is silenced by %v", a.Status.SilencedBy)
					}
				}
				return
			}
			if len(completions) != 1 || !strings.HasPrefix(completions[0], "Fx1: "+tt.want) {
				t.Errorf("completions = %q, want one starting %q", completions, "Fx1: "+tt.want)
			}
			if last.Decision != DecisionDenied {
				t.Errorf("last audit line = %+v, want decision %s", last, DecisionDenied)
			}
			if len(silences) != before {
				t.Errorf("silences = %d, want %d: a refused step created one", len(silences), before)
			}
		})
	}
}

// TestSilenceAllowedAlertmanagersAlerts checks the last word of
// silenceAllowed: the alerts Alertmanager lists for the silence's matchers.
// The fake lists what the test gives it, as an Alertmanager whose matching
// differed from amslack's reading of the matchers would.
func TestSilenceAllowedAlertmanagersAlerts(t *testing.T) {
	ms, err := labels.ParseMatchers(`env="dev"`)
	if err != nil {
		t.Fatal(err)
	}
	rule := Rule{Users: []string{"U0PREVIEWA"}, Matchers: []string{`env!="prod"`}}
	tests := []struct {
		name    string
		am      *fakeAM
		want    string
		wantErr string
	}{
		{name: "only allowed alerts", am: &fakeAM{alerts: []amclient.Alert{{Labels: map[string]string{"alertname": "DiskFull", "env": "dev"}}}}},
		{name: "no alerts", am: &fakeAM{}},
		{name: "an alert outside the rule", am: &fakeAM{alerts: []amclient.Alert{
			{Labels: map[string]string{"alertname": "DiskFull", "env": "dev"}},
			{Labels: map[string]string{"alertname": "DiskFull", "env": "prod"}},
		}}, want: `amslack's silence rule does not allow silencing the alert {alertname="DiskFull", env="prod"}, which these matchers match.`},
		{name: "Alertmanager unavailable", am: &fakeAM{listErr: errors.New("alertmanager answered 503 Service Unavailable")},
			wantErr: "list the alerts the silence would match: alertmanager answered 503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{Silences: tt.am, Silence: rule, Workers: -1})
			reason, err := e.h.silenceAllowed(t.Context(), e.h.silenceRule, "U0PREVIEWA", ms)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("silenceAllowed() = %q, %v; want error %q", reason, err, tt.wantErr)
				}
				return
			}
			if err != nil || reason != tt.want {
				t.Errorf("silenceAllowed() = %q, %v; want %q", reason, err, tt.want)
			}
		})
	}
}
