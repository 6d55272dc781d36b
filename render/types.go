package render

import (
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/template"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// Input is everything a rendering depends on. Render reads nothing else: no
// clock, no configuration, no network.
type Input struct {
	// Group is the alert group as Alertmanager last sent it.
	Group *template.Data
	// GroupKey is the group's key as Alertmanager sent it.
	GroupKey string
	// TruncatedAlerts is how many alerts Alertmanager left out (max_alerts).
	TruncatedAlerts uint64
	// State is what happened to the group in Slack: acks, silences,
	// approvals, action results.
	State alertgroup.State
	// Options are the matching route's rendering options.
	Options Options
	// Now is the time of rendering: templates' now and since read it, and
	// times on another day than Now's show their date. How long a group has
	// been firing is not computed from it: the message shows since when, as
	// a Slack date token that stays true.
	Now time.Time
	// Controls are the buttons and selects of a firing group's message, in
	// order, before the route's runbook actions. The caller chooses them for
	// the group's state; render only lays them out within Slack's limits.
	Controls []Control
	// Update is set when the rendering follows a message already posted for
	// the group: an edit of it, or a new message in its place. The route's
	// mention, which calls people to a new alert, is left out then; it is
	// also left out while someone has acknowledged or silenced the group.
	Update bool
}

// Options are a route's rendering options.
type Options struct {
	// SilenceDurations are the choices of the silence select, in order.
	// Render does not read them; they are for the caller's Controls.
	SilenceDurations []time.Duration
	// BusinessDay, when set, is when the route's business day starts,
	// such as "09:00 Europe/Berlin": the silence select then also offers
	// BusinessDayOption. Render does not read it either.
	BusinessDay string
	// Mentions maps a severity to the text that mentions people on it, such
	// as "<!subteam^S0123>" or "<!here>".
	Mentions map[string]string
	// Actions are the configured runbook actions; each one whose matchers
	// fit the group gets a button.
	Actions []Action
	// Templates, if set, render the parts of the message that they define;
	// the other parts keep the built-in rendering.
	Templates *Templates
}

// Action is a runbook action's button.
type Action struct {
	ID    string
	Label string
	// Style is "", "primary" or "danger".
	Style     string
	Confirm   *Confirm
	Matchers  labels.Matchers
	Approvals int
}

// Control is one element of a message's actions block: a button or, when
// Options is set, a static select.
type Control struct {
	// ActionID is the action_id that a click on the control carries.
	ActionID string
	// Text is a button's label.
	Text string
	// Value is a button's value; "" gives the value of every other button.
	Value string
	// Style is "", "primary" or "danger".
	Style   string
	Confirm *Confirm
	// Options, when set, make the control a static select with these
	// choices, in order; Placeholder is its text until one is chosen.
	Options     []Option
	Placeholder string
	// Alerts, when set, make the control a static select of the group's
	// firing alerts, with the options of AlertOptions; the control is left
	// out while fewer than two alerts fire.
	Alerts bool
}

// Option is one choice of a select.
type Option struct {
	Text, Value string
}

// Confirm is a confirmation dialog shown before a button's click is sent.
type Confirm struct {
	Title, Text, Confirm, Deny string
}

// Message is a Slack message: Block Kit blocks and the plain-text fallback
// that notifications and screen readers use.
type Message struct {
	Text   string       `json:"text"`
	Blocks slack.Blocks `json:"blocks"`
	// TemplateErrors lists the parts whose template failed, at most one
	// entry per part; those parts fell back to the built-in rendering. It is
	// for the caller to log and count, and is never sent to Slack.
	TemplateErrors []TemplateError `json:"-"`
}
