package app

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/cmd/internal/config"
	"github.com/amslack/amslack/interact"
	"github.com/amslack/amslack/receiver/outbox"
	"github.com/amslack/amslack/render"
)

// TestConfigAgreesWithBehaviour holds the data that config keeps of the
// packages it does not import equal to theirs.
func TestConfigAgreesWithBehaviour(t *testing.T) {
	if diff := cmp.Diff(config.TemplateParts, render.Parts()); diff != "" {
		t.Errorf("config.TemplateParts (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(config.DefaultSeverityOrder, outbox.DefaultSeverityOrder); diff != "" {
		t.Errorf("config.DefaultSeverityOrder (-got +want):\n%s", diff)
	}
	d := config.DefaultInteractions
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"AckModeSilence", config.AckModeSilence, interact.AckModeSilence},
		{"AckModeState", config.AckModeState, interact.AckModeState},
		{"SilenceMatchersCommon", config.SilenceMatchersCommon, interact.SilenceMatchersCommon},
		{"SilenceMatchersGroup", config.SilenceMatchersGroup, interact.SilenceMatchersGroup},
		{"MinDedupTTL", config.MinDedupTTL, interact.MinDedupTTL},
		{"MinApprovalWindow", config.MinApprovalWindow, interact.MinApprovalWindow},
		{"MaxApprovalWindow", config.MaxApprovalWindow, interact.MaxApprovalWindow},
		{"DefaultApprovals", config.DefaultApprovals, interact.DefaultApprovals},
		{"DefaultActionTimeout", time.Duration(config.DefaultActionTimeout), interact.DefaultActionTimeout},
		{"ApprovalWindow", time.Duration(d.ApprovalWindow), interact.DefaultApprovalWindow},
		{"ResolveTimeout", time.Duration(d.ResolveTimeout), interact.DefaultResolveTimeout},
		{"AckDuration", time.Duration(d.AckDuration), interact.DefaultAckDuration},
		{"DedupTTL", time.Duration(d.DedupTTL), interact.DefaultDedupTTL},
		{"ReconcileInterval", time.Duration(d.ReconcileInterval), interact.DefaultReconcileInterval},
		{"FollowUpInterval (escalation)", time.Duration(d.FollowUpInterval), interact.DefaultEscalationInterval},
		{"FollowUpInterval (reminders)", time.Duration(d.FollowUpInterval), interact.DefaultAckReminderInterval},
		{"FollowUpInterval (silence notes)", time.Duration(d.FollowUpInterval), interact.DefaultSilenceFollowInterval},
		{"DefaultSilenceExpiryLead", config.DefaultSilenceExpiryLead, interact.DefaultSilenceExpiryLead},
		{"MinSilenceExpiryLead", config.MinSilenceExpiryLead, interact.MinSilenceExpiryLead},
	} {
		if c.got != c.want {
			t.Errorf("config's %s = %v, interact's = %v", c.name, c.got, c.want)
		}
	}
	// interact refuses a runbook action with the id of a built-in control:
	// config must refuse the same ids, so that check-config reports them.
	for _, id := range config.BuiltinActionIDs {
		a := interact.Action{ID: id, Label: "L", URL: "http://x", Allow: interact.Rule{Users: []string{"U1"}}, Secret: "s"}
		if err := interact.ValidateActions([]interact.Action{a}); err == nil || !strings.Contains(err.Error(), "built-in control") {
			t.Errorf("interact takes a runbook action with id %q, which config refuses: %v", id, err)
		}
	}
}

// TestActionsConvert checks that the wiring hands interact the runbook
// actions and rules of the configuration as they were validated.
func TestActionsConvert(t *testing.T) {
	parsed, err := config.Parse([]byte(`
interactions: {silence: {users: [U1], matchers: ['env="prod"']}}
actions:
  - id: restart
    label: Restart
    url: http://runbook.example/restart
    style: danger
    confirm: {title: "Sure?", text: "It restarts the service."}
    allow: {usergroups: [S1]}
    matchers: ['service="db"']
    secret: s
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newConfig(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.actions) != 1 {
		t.Fatalf("%d actions", len(c.actions))
	}
	a := c.actions[0]
	if err := interact.ValidateActions(c.actions); err != nil {
		t.Fatal(err)
	}
	got := []any{a.ID, a.Label, a.URL, a.Style, a.Confirm.Title, a.Confirm.Text, a.Allow.UserGroups, a.ParsedMatchers.String(), a.Approvals, time.Duration(a.Timeout), string(a.Secret)}
	want := []any{"restart", "Restart", "http://runbook.example/restart", "danger", "Sure?", "It restarts the service.", []string{"S1"}, `{service="db"}`, 1, 10 * time.Second, "s"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("action (-got +want):\n%s", diff)
	}
	r := interactRule(parsed.Interactions.Silence)
	if diff := cmp.Diff([]any{r.Users, r.ParsedMatchers.String()}, []any{[]string{"U1"}, `{env="prod"}`}); diff != "" {
		t.Errorf("silence rule (-got +want):\n%s", diff)
	}
	if r := interactRule(nil); len(r.Users)+len(r.UserGroups)+len(r.Matchers) != 0 {
		t.Errorf("no rule converts to %+v, want the open rule", r)
	}
}
