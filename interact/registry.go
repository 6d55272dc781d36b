package interact

import (
	"context"
	"slices"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// builtin is one built-in action: the controls it puts on a firing group's
// message, who may take it, and what taking it does. Adding one is a type
// in a file of its own and a line in builtins.
type builtin interface {
	// ID is the action_id of the action's control. It is "" for the
	// runbook actions, whose ids come from configuration.
	ID() string
	// Kind is the action's value of the action label of
	// amslack_interactions_total, and its kind in the audit log's counts.
	Kind() string
	// Controls are the action's controls on the message of a firing group
	// in state st, on a route with options o; nil for none.
	Controls(st alertgroup.State, o render.Options) []render.Control
	// Rule is who may take the action, and on which groups.
	Rule(h *Handler, action string) Rule
	// Refusal says why the action may not be taken on g, whoever clicks,
	// or "".
	Refusal(h *Handler, c click, g alertgroup.Group) string
	// Silences reports whether taking the action creates an Alertmanager
	// silence, which must then cover only alerts that Rule allows.
	Silences(h *Handler) bool
	// Perform takes the action on g.
	Perform(ctx context.Context, h *Handler, c click, g alertgroup.Group) outcome
	// Undoes lists the action_ids whose effect taking the action undoes: a
	// successful click opens those clicks on the same message again.
	Undoes() []string
}

// builtins are the built-in actions, their controls in message order.
var builtins = []builtin{
	silenceAction{},
	silenceCustomAction{},
	silenceAlertAction{},
	ackAction{},
	unackAction{},
	ackRenewAction{},
	unsilenceAction{},
	silenceExtendAction{},
	silenceExpireAction{},
	runbookActions{},
}

// Controls are the built-in controls of a firing group's message in state
// st, on a route with options o, in the order the message shows them.
func Controls(st alertgroup.State, o render.Options) []render.Control {
	var cs []render.Control
	for _, b := range builtins {
		cs = append(cs, b.Controls(st, o)...)
	}
	return cs
}

// builtinFor returns the built-in action that answers the action_id, or
// nil when none does.
func (h *Handler) builtinFor(action string) builtin {
	for _, b := range builtins {
		if id := b.ID(); id != "" && id == action {
			return b
		}
	}
	if _, ok := h.actions[action]; ok {
		return runbookActions{}
	}
	return nil
}

// reservedID reports whether id is the action_id of a built-in control,
// which a runbook action may not take.
func reservedID(id string) bool {
	return slices.ContainsFunc(builtins, func(b builtin) bool { return b.ID() != "" && b.ID() == id })
}

// builtinKinds are the kinds of the built-in actions, each once.
func builtinKinds() []string {
	var kinds []string
	for _, b := range builtins {
		if !slices.Contains(kinds, b.Kind()) {
			kinds = append(kinds, b.Kind())
		}
	}
	return kinds
}

// resolvedRefusal refuses to act on a resolved group: its alerts have
// ended, and a click on its message is late.
func resolvedRefusal(g alertgroup.Group) string {
	if g.Status != alertgroup.StatusResolved {
		return ""
	}
	return render.ResolvedReply(g.ResolvedAt)
}
