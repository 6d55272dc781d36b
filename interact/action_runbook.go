package interact

import (
	"context"
	"slices"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// kindRunbook counts all runbook actions as one: their ids come from
// configuration.
const kindRunbook = "runbook"

// runbookActions are the configured runbook actions (see Action), one kind
// for all of them.
type runbookActions struct{}

// ID is "": each runbook action has the id it is configured with.
func (runbookActions) ID() string   { return "" }
func (runbookActions) Kind() string { return kindRunbook }

// Controls are none: render draws the buttons of the route's runbook
// actions (render.Options.Actions) whose matchers fit the group's labels.
func (runbookActions) Controls(alertgroup.State, render.Options) []render.Control { return nil }

// Rule is the action's allow rule, narrowed to the groups that the
// action's own matchers fit.
func (runbookActions) Rule(h *Handler, action string) Rule {
	a := h.actions[action]
	r := a.Allow
	r.ParsedMatchers = append(slices.Clone(a.ParsedMatchers), a.Allow.ParsedMatchers...)
	return r
}

// Refusal refuses an action that the group's route does not offer, and
// any action on a resolved group.
func (runbookActions) Refusal(h *Handler, c click, g alertgroup.Group) string {
	if h.offers != nil && !h.offers(g.Route, c.action) {
		return reasonNotOffered
	}
	return resolvedRefusal(g)
}

func (runbookActions) Silences(*Handler) bool { return false }

func (runbookActions) Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome {
	return h.runAction(ctx, c, g, h.actions[c.action])
}

func (runbookActions) Undoes() []string { return nil }
