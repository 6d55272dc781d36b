package interact

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Decisions recorded in the audit log and in amslack_interactions_total.
const (
	DecisionAllowed    = "allowed"
	DecisionDenied     = "denied"
	DecisionDuplicate  = "duplicate"
	DecisionSucceeded  = "succeeded"
	DecisionFailed     = "failed"
	DecisionOverloaded = "overloaded"
)

// kindUnknown is the action label of amslack_interactions_total for an
// action_id that no built-in action answers. The label's other values are
// the built-in actions' kinds; runbook actions share one because their ids
// come from configuration.
const kindUnknown = "unknown"

var (
	allKinds     = append(builtinKinds(), kindUnknown)
	allDecisions = []string{DecisionAllowed, DecisionDenied, DecisionDuplicate, DecisionSucceeded, DecisionFailed, DecisionOverloaded}
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Time      time.Time `json:"time"`
	Team      string    `json:"team"`
	Channel   string    `json:"channel"`
	MessageTS string    `json:"message_ts"`
	UserID    string    `json:"user_id"`
	UserName  string    `json:"user_name"`
	// Action is the clicked action_id, ActionCommand for a slash command,
	// or "function:" and the callback_id for a Workflow Builder step.
	Action         string `json:"action"`
	Value          string `json:"value,omitempty"`
	Decision       string `json:"decision"`
	Result         string `json:"result,omitempty"`
	SilenceID      string `json:"silence_id,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// WorkflowExecution is the workflow run that executed a step.
	WorkflowExecution string `json:"workflow_execution_id,omitempty"`
}

// auditLog appends JSON lines to a writer shared by all workers.
type auditLog struct {
	// mu guards w: one line is one Write, and lines must not interleave.
	mu sync.Mutex
	w  io.Writer
}

func (a *auditLog) write(e AuditEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err = a.w.Write(b)
	return err
}

type metrics struct {
	interactions *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	responses    *prometheus.CounterVec
	reconciled   *prometheus.CounterVec
	reconcileErr prometheus.Counter
	approvals    *prometheus.CounterVec
}

// Reasons for rejecting a request before it is parsed.
const (
	rejectMethod       = "method"
	rejectTooLarge     = "too_large"
	rejectUnauthorized = "unauthorized"
	rejectMalformed    = "malformed"
)

// Outcomes of a post to a response_url.
const (
	responseSent      = "sent"
	responseFailed    = "failed"
	responseExhausted = "exhausted"
	// responseDropped is a reply to a click that was not queued, dropped
	// because too many such replies were waiting.
	responseDropped = "dropped"
)

// Reasons an approval stopped counting, the bounded values of the reason
// label of amslack_runbook_approvals_dropped_total.
const (
	approvalExpired = "expired"
	approvalRevoked = "revoked"
)

func newMetrics(reg prometheus.Registerer, queueLen func() float64) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		interactions: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "interactions_total",
			Help:      "Slack interactions by action kind and decision.",
		}, []string{"action", "decision"}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "interaction_requests_rejected_total",
			Help:      "Interaction requests rejected before parsing, by reason.",
		}, []string{"reason"}),
		responses: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "interaction_responses_total",
			Help:      "Ephemeral replies through response_url, by outcome; exhausted means Slack's limit of 5 per payload was reached, dropped that too many replies to unqueued clicks were waiting.",
		}, []string{"result"}),
		reconciled: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "reconcile_changes_total",
			Help:      "Changes made by the reconciler: groups resolved, acknowledgement silences extended and expired, and groups found absent from Alertmanager (not yet proof of resolution).",
		}, []string{"change"}),
		reconcileErr: f.NewCounter(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "reconcile_errors_total",
			Help:      "Errors while reconciling alert groups with Alertmanager.",
		}),
		approvals: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "runbook_approvals_dropped_total",
			Help:      "Runbook approvals that stopped counting toward their round: expired (older than the approval window) or revoked (the approver may no longer approve).",
		}, []string{"reason"}),
	}
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "amslack",
		Name:      "interaction_queue_length",
		Help:      "Clicks and events waiting for a worker.",
	}, queueLen)
	for _, k := range allKinds {
		for _, d := range allDecisions {
			m.interactions.WithLabelValues(k, d)
		}
	}
	for _, r := range []string{rejectMethod, rejectTooLarge, rejectUnauthorized, rejectMalformed} {
		m.rejected.WithLabelValues(r)
	}
	for _, r := range []string{responseSent, responseFailed, responseExhausted, responseDropped} {
		m.responses.WithLabelValues(r)
	}
	for _, r := range []string{approvalExpired, approvalRevoked} {
		m.approvals.WithLabelValues(r)
	}
	for _, c := range []string{"resolved", "extended", "ack_expired", "absent"} {
		m.reconciled.WithLabelValues(c)
	}
	return m
}
