package alertgroup

import "time"

// Statuses of an alert group, as Alertmanager names them.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Group is what amslack keeps per alert group and destination.
type Group struct {
	Key Key `json:"key"`
	// Route is the name of the route that last matched.
	Route string `json:"route,omitempty"`
	// TS is the Slack message's ts: empty until the message is posted, and
	// always for a webhook route, because incoming webhooks return no ts.
	TS string `json:"ts,omitempty"`
	// Status is StatusFiring or StatusResolved as last delivered.
	Status string `json:"status,omitempty"`
	// Alerts maps each alert's fingerprint to its status as last delivered.
	Alerts map[string]string `json:"alerts,omitempty"`
	// Message is the last delivered notification; clicks re-render it.
	Message *Message `json:"message,omitempty"`
	// State holds acks, silences, approvals and action results.
	State State `json:"state"`

	// NotifiedAt is when the notification last delivered was received; an
	// older one (a retried dead letter, another replica's late delivery)
	// must not overwrite what it shows.
	NotifiedAt time.Time `json:"notified_at,omitzero"`
	// PostingBy and PostingUntil leased the posting of the group's first
	// message to one replica. Channel leases in the shared outbox replaced
	// that and nothing sets them now; they stay so that records written
	// before read and write back unchanged.
	PostingBy    string    `json:"posting_by,omitempty"`
	PostingUntil time.Time `json:"posting_until,omitzero"`
	// AbsentSince is when the reconciler first found that Alertmanager
	// lists none of the group's alerts; zero while it lists them. It is
	// stored so that the wait for proof of resolution survives a restart
	// of amslack.
	AbsentSince time.Time `json:"absent_since,omitzero"`

	FirstAt    time.Time `json:"first_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// Prunable reports whether Store.Prune with before deletes g: a resolved
// group whose ResolvedAt is before it, or another group whose LastActive
// is before it.
func (g Group) Prunable(before time.Time) bool {
	if g.Status == StatusResolved {
		return !g.ResolvedAt.IsZero() && g.ResolvedAt.Before(before)
	}
	last := g.LastActive()
	return !last.IsZero() && last.Before(before)
}

// LastActive is when g was last notified or changed: the later of
// NotifiedAt and UpdatedAt.
func (g Group) LastActive() time.Time {
	if g.UpdatedAt.After(g.NotifiedAt) {
		return g.UpdatedAt
	}
	return g.NotifiedAt
}

// State is what people did to an alert group through Slack.
type State struct {
	// Acked is set while someone has acknowledged the group.
	Acked *Mark `json:"acked,omitempty"`
	// Silenced is set while an amslack silence covers the group.
	Silenced *Mark `json:"silenced,omitempty"`
	// SilencedAlerts maps the Alertmanager fingerprint of each alert that
	// an amslack silence covers on its own to that silence.
	SilencedAlerts map[string]Mark `json:"silenced_alerts,omitempty"`
	// Approvals lists, per runbook action id, the users who approved it so
	// far, in order.
	Approvals map[string][]User `json:"approvals,omitempty"`
	// ApprovalsUntil holds, per runbook action id and approver's user id,
	// when that approval stops counting toward its round. The message
	// leaves out approvals past their time and shows when the next one
	// ends; an approval without a time is shown without one.
	ApprovalsUntil map[string]map[string]time.Time `json:"approvals_until,omitempty"`
	// Results holds the last outcome of each runbook action, in order of
	// completion.
	Results []Result `json:"results,omitempty"`
	// Escalated lists the escalation steps fired in the current firing
	// episode, in the order they fired. A new message (a group that fires
	// again after it resolved) starts with none.
	Escalated []Escalation `json:"escalated,omitempty"`
	// AckRenewed is when someone last answered the acknowledgement
	// reminder with Still on it. The acknowledgement's reminder period
	// starts at the later of it and Acked.At (see AckPeriodStart).
	AckRenewed time.Time `json:"ack_renewed,omitzero"`
	// AckReminded is when the acknowledgement reminder was posted; a
	// reminder belongs to the period it was posted in, so one before the
	// period's start is one of an earlier period.
	AckReminded time.Time `json:"ack_reminded,omitzero"`
	// FollowedSilences maps the id of each Alertmanager silence that
	// covers the group's alerts, made from Slack or elsewhere, to what the
	// group's thread has said of it. Each note about a silence is recorded
	// here by the store update that finds it due, so that it is posted once
	// across replicas and restarts.
	FollowedSilences map[string]FollowedSilence `json:"followed_silences,omitempty"`
}

// FollowedSilence is what a group's thread has said of one Alertmanager
// silence, and the silence as it was then.
type FollowedSilence struct {
	// CreatedBy, EndsAt and Digest are the silence as last noted: its
	// author as Alertmanager lists it (the last to change it), its end,
	// and a digest of its matchers and comment.
	CreatedBy string    `json:"created_by,omitempty"`
	EndsAt    time.Time `json:"ends_at"`
	Digest    string    `json:"digest,omitempty"`
	// FromSlack is set for a silence that amslack made, whose creation
	// amslack noted itself.
	FromSlack bool      `json:"from_slack,omitempty"`
	SeenAt    time.Time `json:"seen_at"`
	// WarnedFor is the end that the expiry warning was posted for; a
	// silence whose end moved is warned again before its new end.
	WarnedFor time.Time `json:"warned_for,omitzero"`
	// EndedAt is when the thread was told that the silence ended; the
	// record is kept a while after, so that a replica's older list of
	// silences does not take it for a new one.
	EndedAt time.Time `json:"ended_at,omitzero"`
}

// AckPeriodStart is when the current period of the group's
// acknowledgement began: when it was acknowledged or, if later, last
// renewed. It is zero while nobody has acknowledged the group.
func (s State) AckPeriodStart() time.Time {
	if s.Acked == nil {
		return time.Time{}
	}
	if s.AckRenewed.After(s.Acked.At) {
		return s.AckRenewed
	}
	return s.Acked.At
}

// Escalation records one escalation step that fired.
type Escalation struct {
	// Step is the step's index in the route's escalation steps.
	Step int `json:"step"`
	// Mention is the Slack mention the step called, as configured.
	Mention string    `json:"mention"`
	At      time.Time `json:"at"`
}

// User is a Slack user.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Mark records who did something to a group, when, and until when.
type Mark struct {
	By        User      `json:"by"`
	At        time.Time `json:"at"`
	Until     time.Time `json:"until,omitzero"`
	SilenceID string    `json:"silence_id,omitempty"`
}

// Result is the outcome of a runbook action.
type Result struct {
	Action string    `json:"action"`
	By     User      `json:"by"`
	At     time.Time `json:"at"`
	OK     bool      `json:"ok"`
	Detail string    `json:"detail,omitempty"`
	// Approvers are the people whose approvals ran the action, in order;
	// By is the last of them. A result recorded without them names By.
	Approvers []User `json:"approvers,omitempty"`
}
