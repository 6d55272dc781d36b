package config

import (
	"slices"

	"github.com/prometheus/common/model"

	"github.com/amslack/amslack/interact/rules"
)

// Rule, Confirm and Action are declared, with their validation, in package
// rules, which interact shares: the configuration and what acts on it
// cannot disagree.
type (
	Rule    = rules.Rule
	Confirm = rules.Confirm
	Action  = rules.Action
)

// Defaults of a runbook action: approvals and timeout when they are not
// set.
const (
	DefaultApprovals     = rules.DefaultApprovals
	DefaultActionTimeout = model.Duration(rules.DefaultActionTimeout)
)

// BuiltinActionIDs are the action_ids of amslack's own controls, which a
// runbook action may not take.
var BuiltinActionIDs = []string{"silence", "silence_custom", "silence_alert", "silence_extend", "silence_expire", "ack", "ack_renew", "unack", "unsilence"}

// validateActions validates each action and checks that ids are unique.
func validateActions(actions []Action) []error {
	return rules.ValidateActions(actions, func(id string) bool { return slices.Contains(BuiltinActionIDs, id) })
}
