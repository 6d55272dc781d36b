package config

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// Interactions configures the built-in buttons.
type Interactions struct {
	Silence *Rule `yaml:"silence,omitempty"`
	Ack     *Rule `yaml:"ack,omitempty"`
	// AckMode is "silence" (an ACK! silence, kept while the group fires) or
	// "state" (only recorded in amslack).
	AckMode     string         `yaml:"ack_mode,omitempty"`
	AckDuration model.Duration `yaml:"ack_duration,omitempty"`
	// AckReminder is how long after an acknowledgement, or its last
	// renewal, a group that still fires gets a thread reply that mentions
	// whoever acknowledged it, with Still on it and Unacknowledge; 0 or
	// unset turns reminders off.
	AckReminder model.Duration `yaml:"ack_reminder,omitempty"`
	// SilenceExpiryLead is how long before a silence over a firing group
	// ends the group's thread gets a warning with Extend 1h and Expire now
	// (default DefaultSilenceExpiryLead); 0 turns warnings off, which unset
	// does not.
	SilenceExpiryLead *model.Duration `yaml:"silence_expiry_lead,omitempty"`
	// SilenceMatchers is "common" (the group's common labels) or "group"
	// (its group labels).
	SilenceMatchers   string         `yaml:"silence_matchers,omitempty"`
	DedupTTL          model.Duration `yaml:"dedup_ttl,omitempty"`
	ReconcileInterval model.Duration `yaml:"reconcile_interval,omitempty"`
	// FollowUpInterval is how often amslack looks for escalation steps,
	// acknowledgement reminders and silence notes that are due (default
	// DefaultInteractions.FollowUpInterval): the most they come late.
	FollowUpInterval model.Duration `yaml:"follow_up_interval,omitempty"`
	AuditFile        string         `yaml:"audit_file,omitempty"`
	// ApprovalWindow is how long a runbook action's approval counts toward
	// the round that runs it (default DefaultInteractions.ApprovalWindow).
	ApprovalWindow model.Duration `yaml:"approval_window,omitempty"`
	// ResolveTimeout is how long Alertmanager must have run, or a silenced
	// group's alerts have been missing from it, before the reconciler
	// takes their absence for resolution (default
	// DefaultInteractions.ResolveTimeout).
	ResolveTimeout model.Duration `yaml:"resolve_timeout,omitempty"`

	// SilenceAlertDropLabels are the label names left out of the matchers
	// of a silence of one alert (silence_alert), such as labels whose
	// values change between evaluations (default none).
	SilenceAlertDropLabels []string `yaml:"silence_alert_drop_labels,omitempty"`
}

// Ack modes: AckModeSilence acknowledges with a short Alertmanager silence
// whose comment starts with "ACK!", the convention of karma and kthxbye;
// AckModeState records the acknowledgement in amslack only.
const (
	AckModeSilence = "silence"
	AckModeState   = "state"
)

// Sources of a silence's matchers: the group's common labels, or its
// group_by labels.
const (
	SilenceMatchersCommon = "common"
	SilenceMatchersGroup  = "group"
)

// DefaultInteractions holds the values of the keys of interactions that
// are not set.
var DefaultInteractions = Interactions{
	AckMode:           AckModeSilence,
	AckDuration:       model.Duration(15 * time.Minute),
	SilenceMatchers:   SilenceMatchersCommon,
	DedupTTL:          model.Duration(10 * time.Minute),
	ReconcileInterval: model.Duration(time.Minute),
	FollowUpInterval:  model.Duration(15 * time.Second),
	ApprovalWindow:    model.Duration(15 * time.Minute),
	// Alertmanager must have been able to hear from Prometheus for several
	// of its resends before an empty alert list reads as resolved
	// (Prometheus's --rules.alert.resend-delay and evaluation_interval
	// default to 1m).
	ResolveTimeout: model.Duration(5 * time.Minute),
}

// Bounds of interactions.
const (
	// MinDedupTTL is the shortest interactions.dedup_ttl. Slack's signature
	// check accepts a request for 5 minutes after its timestamp
	// (https://api.slack.com/authentication/verifying-requests-from-slack),
	// so a click forgotten sooner could be replayed and performed again;
	// 30 seconds more cover the clocks' skew.
	MinDedupTTL = 5*time.Minute + 30*time.Second
	// DefaultSilenceExpiryLead is interactions.silence_expiry_lead when it
	// is not set.
	DefaultSilenceExpiryLead = 10 * time.Minute
	// MinSilenceExpiryLead is the shortest interactions.silence_expiry_lead
	// other than 0: with a shorter one, the warning could come after the
	// silence ended.
	MinSilenceExpiryLead = time.Minute
	// MinAckReminder is the shortest interactions.ack_reminder: a shorter
	// one would nag rather than remind.
	MinAckReminder = time.Minute
	// MinApprovalWindow and MaxApprovalWindow bound the approval window:
	// the approvers of one round must be able to click in turn, and an
	// approval must not stand for a situation long past.
	MinApprovalWindow = time.Minute
	MaxApprovalWindow = 24 * time.Hour
)

// validate fills in the defaults of interactions and checks it.
func (in *Interactions) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	for _, r := range []struct {
		key  string
		rule *Rule
	}{{"interactions.silence", in.Silence}, {"interactions.ack", in.Ack}} {
		if r.rule != nil {
			if err := r.rule.Validate(); err != nil {
				bad(r.key, "%v", err)
			}
		}
	}
	d := &DefaultInteractions
	switch in.AckMode {
	case "":
		in.AckMode = d.AckMode
	case AckModeSilence, AckModeState:
	default:
		bad("interactions.ack_mode", `must be "silence" or "state", got %q`, in.AckMode)
	}
	if in.AckDuration == 0 {
		in.AckDuration = d.AckDuration
	}
	if r := time.Duration(in.AckReminder); r != 0 && r < MinAckReminder {
		bad("interactions.ack_reminder", "must be 0 (off) or at least %s, got %s", model.Duration(MinAckReminder), in.AckReminder)
	}
	switch in.SilenceMatchers {
	case "":
		in.SilenceMatchers = d.SilenceMatchers
	case SilenceMatchersCommon, SilenceMatchersGroup:
	default:
		bad("interactions.silence_matchers", `must be "common" or "group", got %q`, in.SilenceMatchers)
	}
	if in.DedupTTL == 0 {
		in.DedupTTL = d.DedupTTL
	}
	if in.ReconcileInterval == 0 {
		in.ReconcileInterval = d.ReconcileInterval
	}
	if in.FollowUpInterval == 0 {
		in.FollowUpInterval = d.FollowUpInterval
	}
	// Each pass lists the store's groups: more often than every second
	// would load the store for nothing a person would notice.
	if f := time.Duration(in.FollowUpInterval); f < time.Second || f > 5*time.Minute {
		bad("interactions.follow_up_interval", "must be between 1s and 5m, got %s", in.FollowUpInterval)
	}
	errs = append(errs, in.validateClickWindows()...)
	errs = append(errs, in.validateDropLabels()...)
	errs = append(errs, in.validateReconcile()...)
	errs = append(errs, in.validateSilenceExpiryLead()...)
	return errs
}

// validateReconcile fills in the resolve timeout and checks the
// acknowledgement silence's length against the reconcile interval.
func (in *Interactions) validateReconcile() []error {
	if in.ResolveTimeout == 0 {
		in.ResolveTimeout = DefaultInteractions.ResolveTimeout
	}
	// The reconciler extends an acknowledgement silence once it ends within
	// two reconcile intervals; a shorter one is extended on every pass, and
	// one missed pass (Alertmanager unavailable) can let it lapse.
	if ack, every := time.Duration(in.AckDuration), time.Duration(in.ReconcileInterval); in.AckMode == AckModeSilence && ack <= 2*every {
		return []error{fmt.Errorf("interactions.ack_duration: must be longer than twice interactions.reconcile_interval (%s), got %s: "+
			"the acknowledgement silence is extended when it ends within two reconcile intervals", model.Duration(2*every), in.AckDuration)}
	}
	return nil
}

// validateDropLabels checks that interactions.silence_alert_drop_labels
// lists label names, each once.
func (in *Interactions) validateDropLabels() []error {
	var errs []error
	seen := map[string]bool{}
	for i, name := range in.SilenceAlertDropLabels {
		switch {
		case !model.UTF8Validation.IsValidLabelName(name):
			errs = append(errs, fmt.Errorf("interactions.silence_alert_drop_labels[%d]: %q is not a label name", i, name))
		case seen[name]:
			errs = append(errs, fmt.Errorf("interactions.silence_alert_drop_labels[%d]: %q is listed twice", i, name))
		}
		seen[name] = true
	}
	return errs
}

// validateClickWindows checks the de-duplication TTL and fills in and checks
// the approval window.
func (in *Interactions) validateClickWindows() []error {
	var errs []error
	if d := time.Duration(in.DedupTTL); d < MinDedupTTL {
		errs = append(errs, fmt.Errorf("interactions.dedup_ttl: must be at least %s, longer than the 5 minutes in which Slack's signature check accepts a replayed request, got %s",
			model.Duration(MinDedupTTL), in.DedupTTL))
	}
	if in.ApprovalWindow == 0 {
		in.ApprovalWindow = DefaultInteractions.ApprovalWindow
	}
	if d := time.Duration(in.ApprovalWindow); d < MinApprovalWindow || d > MaxApprovalWindow {
		errs = append(errs, fmt.Errorf("interactions.approval_window: must be between %s and %s, got %s",
			model.Duration(MinApprovalWindow), model.Duration(MaxApprovalWindow), in.ApprovalWindow))
	}
	return errs
}

// validateSilenceExpiryLead fills in and checks
// interactions.silence_expiry_lead.
func (in *Interactions) validateSilenceExpiryLead() []error {
	if in.SilenceExpiryLead == nil {
		d := model.Duration(DefaultSilenceExpiryLead)
		in.SilenceExpiryLead = &d
	}
	if d := time.Duration(*in.SilenceExpiryLead); d != 0 && d < MinSilenceExpiryLead {
		return []error{fmt.Errorf("interactions.silence_expiry_lead: must be 0 (off) or at least %s, got %s",
			model.Duration(MinSilenceExpiryLead), *in.SilenceExpiryLead)}
	}
	return nil
}
