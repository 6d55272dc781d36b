package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"
)

func TestEscalate(t *testing.T) {
	const channel = "{channel: C0123456789, escalate: "
	tests := []struct {
		name    string
		route   string
		want    *Escalate
		wantErr []string
	}{
		{name: "unset", route: "{channel: C0123456789}"},
		{
			name:  "documented example",
			route: channel + `{severities: [critical], steps: [{after: 5m, mention: "<!subteam^S0ONCALL>"}, {after: 15m, mention: "<@U0LEAD>", broadcast: true}]}}`,
			want: &Escalate{Severities: []string{"critical"}, Steps: []EscalateStep{
				{After: model.Duration(5 * time.Minute), Mention: "<!subteam^S0ONCALL>"},
				{After: model.Duration(15 * time.Minute), Mention: "<@U0LEAD>", Broadcast: true},
			}},
		},
		{
			name:  "default severities",
			route: channel + `{steps: [{after: 1m, mention: "<!here>"}]}}`,
			want:  &Escalate{Severities: []string{"critical"}, Steps: []EscalateStep{{After: model.Duration(time.Minute), Mention: "<!here>"}}},
		},
		{name: "no steps", route: channel + `{severities: [critical]}}`, wantErr: []string{"routes[0].escalate.steps: at least one step is needed"}},
		{
			name:    "unknown severity",
			route:   channel + `{severities: [critical, page], steps: [{after: 1m, mention: "<!channel>"}]}}`,
			wantErr: []string{`routes[0].escalate.severities[1]: unknown severity "page"`},
		},
		{
			name:  "bad steps",
			route: channel + `{steps: [{after: 0s, mention: "<!here>"}, {after: 10m, mention: "@oncall"}, {after: 10m, mention: ""}]}}`,
			wantErr: []string{
				"routes[0].escalate.steps[0].after: must be positive, got 0s",
				`routes[0].escalate.steps[1].mention: "@oncall" is not a Slack mention`,
				"routes[0].escalate.steps[2].after: must be later than steps[1].after (10m), got 10m",
				"routes[0].escalate.steps[2].mention: must not be empty",
			},
		},
		{
			name:    "webhook route",
			route:   `{webhook_url: 'https://hooks.slack.com/services/T0/B0/x', escalate: {steps: [{after: 5m, mention: "<!here>"}]}}`,
			wantErr: []string{"routes[0].escalate: only a route with a channel can escalate"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseRoute(t, tt.route, tt.wantErr)
			if c == nil {
				return
			}
			if diff := cmp.Diff(c.Routes[0].Escalate, tt.want); diff != "" {
				t.Errorf("escalate (-got +want):\n%s", diff)
			}
		})
	}
}
