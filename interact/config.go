package interact

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/amslack/amslack/interact/rules"
	"github.com/amslack/amslack/render"
)

// Ack modes.
const (
	// AckModeSilence acknowledges with a short Alertmanager silence whose
	// comment starts with "ACK!", the convention of karma and kthxbye, and
	// keeps extending it while the group fires.
	AckModeSilence = "silence"
	// AckModeState records the acknowledgement in amslack only.
	AckModeState = "state"
)

// Sources of a silence's matchers.
const (
	// SilenceMatchersCommon matches the group's common labels: exactly the
	// alerts that share everything the group's alerts share.
	SilenceMatchersCommon = "common"
	// SilenceMatchersGroup matches the group's group_by labels: every alert
	// Alertmanager would put in the group, now and later.
	SilenceMatchersGroup = "group"
)

// Configuration defaults.
const (
	DefaultApprovals     = rules.DefaultApprovals
	DefaultActionTimeout = rules.DefaultActionTimeout
	DefaultAckDuration   = 15 * time.Minute
	// DefaultResolveTimeout is how long Alertmanager must have been able
	// to hear from Prometheus before the reconciler reads an empty alert
	// list as resolved: several of Prometheus's resends (its
	// --rules.alert.resend-delay and evaluation_interval default to 1m).
	DefaultResolveTimeout = 5 * time.Minute
)

// Rule, Confirm and Action are what the configuration says of who may act
// and of runbook actions (see package rules, which the configuration
// shares).
type (
	Rule    = rules.Rule
	Confirm = rules.Confirm
	Action  = rules.Action
)

// actionSecret returns a's signing secret. A file is read on every call so
// that a rotated secret takes effect without a reload.
func actionSecret(a *Action) ([]byte, error) {
	if a.SecretFile == "" {
		return []byte(a.Secret), nil
	}
	b, err := os.ReadFile(a.SecretFile)
	if err != nil {
		// The error names the file, never its content.
		return nil, fmt.Errorf("read secret_file of action %q: %w", a.ID, err)
	}
	return []byte(strings.TrimSpace(string(b))), nil
}

// RenderAction returns the button that render draws for a.
func RenderAction(a *Action) render.Action {
	ra := render.Action{
		ID:        a.ID,
		Label:     a.Label,
		Style:     a.Style,
		Matchers:  append(labels.Matchers(nil), a.ParsedMatchers...),
		Approvals: a.Approvals,
	}
	if c := a.Confirm; c != nil {
		ra.Confirm = &render.Confirm{Title: c.Title, Text: c.Text, Confirm: c.Confirm, Deny: c.Deny}
	}
	return ra
}

// ValidateActions validates each action, which may not take the id of a
// built-in control, and checks that ids are unique.
func ValidateActions(actions []Action) error {
	return errors.Join(rules.ValidateActions(actions, reservedID)...)
}
