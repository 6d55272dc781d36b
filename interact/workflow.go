package interact

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/render"
)

// Workflow Builder steps (custom functions) that amslack defines in its app
// manifest, by callback_id, and their inputs and outputs.
const (
	// StepSilenceAlerts creates an Alertmanager silence and returns its
	// id.
	StepSilenceAlerts = "silence_alerts"

	// InputMatchers holds Alertmanager matchers such as
	// `alertname="DiskFull",cluster=~"prod|staging"`.
	InputMatchers = "matchers"
	// InputDuration is a Prometheus duration such as "2h", up to 30d.
	InputDuration = "duration"
	// InputComment is the silence's comment; optional.
	InputComment = "comment"
	// InputUserID is the Slack user the silence is made for, checked
	// against the silence rule; required only when that rule names users
	// or user groups.
	InputUserID = "user_id"
	// OutputSilenceID is the created silence's id.
	OutputSilenceID = "silence_id"
)

// maxStepError bounds the message given to functions.completeError, which
// Workflow Builder shows to the workflow's owner.
const maxStepError = 500

// stepInputs are the checked inputs of silence_alerts.
type stepInputs struct {
	matchers labels.Matchers
	raw      string
	// rawDuration is the duration as given, for the audit log.
	rawDuration string
	duration    model.Duration
	comment     string
	user        string
}

// parseStepInputs reads silence_alerts' inputs. Slack sends each as the
// type the manifest declares: strings here.
func parseStepInputs(in map[string]any) (stepInputs, error) {
	str := func(name string) (string, error) {
		v, ok := in[name]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("the %s input must be a string", name)
		}
		return strings.TrimSpace(s), nil
	}
	var (
		si   stepInputs
		errs []error
		err  error
	)
	if si.raw, err = str(InputMatchers); err != nil {
		errs = append(errs, err)
	}
	if si.rawDuration, err = str(InputDuration); err != nil {
		errs = append(errs, err)
	}
	if si.comment, err = str(InputComment); err != nil {
		errs = append(errs, err)
	}
	if si.user, err = str(InputUserID); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return stepInputs{}, errors.Join(errs...)
	}
	switch ms, err := labels.ParseMatchers(si.raw); {
	case si.raw == "":
		errs = append(errs, errors.New("the matchers input is required, such as alertname=\"DiskFull\""))
	case err != nil:
		errs = append(errs, fmt.Errorf("the matchers input is not valid Alertmanager matchers: %w", err))
	case len(ms) == 0:
		errs = append(errs, errors.New("the matchers input holds no matcher"))
	default:
		// Alertmanager refuses a silence all of whose matchers match the
		// empty string, because it would silence every alert.
		matchesAll := true
		for _, m := range ms {
			matchesAll = matchesAll && m.Matches("")
		}
		if matchesAll {
			errs = append(errs, errors.New("the matchers would silence every alert; at least one must not match the empty string"))
		}
		si.matchers = ms
	}
	if si.rawDuration == "" {
		errs = append(errs, errors.New("the duration input is required, such as 2h"))
	} else if v, err := parseSilenceDuration(si.rawDuration); err != nil {
		errs = append(errs, err)
	} else {
		si.duration = model.Duration(v)
	}
	if r := []rune(si.comment); len(r) > maxComment {
		si.comment = string(r[:maxComment])
	}
	return si, errors.Join(errs...)
}

// silenceMatchers converts parsed matchers to Alertmanager's API form.
func silenceMatchers(ms labels.Matchers) []amclient.Matcher {
	out := make([]amclient.Matcher, len(ms))
	for i, m := range ms {
		out[i] = amclient.Matcher{
			Name:    m.Name,
			Value:   m.Value,
			IsRegex: m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp,
			IsEqual: m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp,
		}
	}
	return out
}

// equalLabels are the labels that equality matchers fix: what the silence
// rule's matchers are checked against.
func equalLabels(ms labels.Matchers) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		if m.Type == labels.MatchEqual {
			out[m.Name] = m.Value
		}
	}
	return out
}

// maxReasonLabels bounds the labels of an alert quoted in a refusal.
const maxReasonLabels = 300

// silenceAllowed decides whether user may create a silence with the
// matchers ms under the rule r (the silence rule, or the ack rule for an
// acknowledgement silence), from any surface. It returns "" when
// allowed, or the reason to show when not; an error means it could not
// decide. A silence mutes every alert its matchers match, those firing now
// and those that fire later, so:
//
//   - every label the rule's matchers test must be fixed by an equality
//     matcher of the silence with a value the rule allows: a label left
//     open, or matched by a regex or a negative matcher, could take a value
//     the rule forbids. (A label the silence does not fix reads as empty,
//     which refuses it for a rule matcher that needs a value; a rule
//     matcher that the empty string passes, such as env!="prod", gets its
//     own refusal here.)
//   - the user must be one the rule names;
//   - no alert that Alertmanager says the silence matches (GET
//     /api/v2/alerts with the matchers as filter) may fall outside the rule.
//     With the rule's labels fixed this follows from the first check as
//     amslack reads the matchers; Alertmanager's own matching is what
//     decides which alerts a silence mutes, so it has the last word.
//
// The last needs Alertmanager; without one it is skipped, and no silence
// can be created anyway.
func (h *Handler) silenceAllowed(ctx context.Context, r Rule, user string, ms labels.Matchers) (string, error) {
	fixed := equalLabels(ms)
	for _, m := range r.ParsedMatchers {
		if _, ok := fixed[m.Name]; !ok && m.Matches("") {
			return render.RuleNeedsLabelReason(m.Name, m.String()), nil
		}
	}
	reason, err := h.authorize(ctx, r, user, fixed)
	if err != nil {
		return "", err
	}
	if reason == reasonNotApplicable {
		return render.RuleForbidsAlertsReason, nil
	}
	if reason != "" || len(r.ParsedMatchers) == 0 || h.silences == nil {
		return reason, nil
	}
	alerts, err := h.silences.ListAlerts(ctx, ms)
	if err != nil {
		return "", fmt.Errorf("list the alerts the silence would match: %w", err)
	}
	for _, a := range alerts {
		if !matches(r.ParsedMatchers, a.Labels) {
			return render.RuleForbidsAlertReason(render.Clip(labelSet(a.Labels).String(), maxReasonLabels)), nil
		}
	}
	return "", nil
}

// labelSet converts labels for printing, as {name="value", …} sorted by
// name.
func labelSet(ls map[string]string) model.LabelSet {
	out := make(model.LabelSet, len(ls))
	for k, v := range ls {
		out[model.LabelName(k)] = model.LabelValue(v)
	}
	return out
}

// runStep performs one execution of a Workflow Builder step and ends it
// with functions.completeSuccess or functions.completeError: a step left
// open keeps its workflow waiting.
func (h *Handler) runStep(ctx context.Context, team string, ev *slackevents.FunctionExecutedEvent) {
	entry := AuditEntry{
		Team:              team,
		Action:            "function:" + ev.Function.CallbackID,
		WorkflowExecution: ev.WorkflowExecutionID,
	}
	logger := h.logger.With("function", ev.Function.CallbackID, "workflow_execution_id", ev.WorkflowExecutionID)
	fail := func(decision, result, text string) {
		entry.Decision, entry.Result = decision, result
		h.auditStep(entry)
		h.smetrics.events.WithLabelValues(eventFunctionExecuted, eventFailed).Inc()
		if err := h.slack.FunctionCompleteErrorContext(ctx, ev.FunctionExecutionID, render.Clip(text, maxStepError)); err != nil {
			logger.Error("cannot complete workflow step", "err", err)
		}
	}
	if ev.Function.CallbackID != StepSilenceAlerts {
		fail(DecisionFailed, "unknown function", render.UnknownStepError(ev.Function.CallbackID, StepSilenceAlerts))
		return
	}
	in, err := parseStepInputs(ev.Inputs)
	entry.UserID = in.user
	entry.Value = render.Clip(in.raw+" for "+in.rawDuration, maxAuditValue)
	if err != nil {
		fail(DecisionFailed, "invalid inputs", render.StepInputsError(err))
		return
	}
	r := h.silenceRule
	if !r.Open() && in.user == "" {
		fail(DecisionDenied, "no user_id input", "amslack's silence rule names the users who may silence, so this step needs the user_id input (such as the person who used the workflow).")
		return
	}
	reason, err := h.silenceAllowed(ctx, h.silenceRule, in.user, in.matchers)
	if err != nil {
		logger.Error("cannot check authorization", "err", err)
		fail(DecisionFailed, "authorization check failed", render.StepAuthorizeFailedError(err))
		return
	}
	if reason != "" {
		fail(DecisionDenied, reason, reason)
		return
	}
	entry.Decision = DecisionAllowed
	h.auditStep(entry)
	if h.silences == nil {
		fail(DecisionFailed, errNoAlertmanager.Error(), "No Alertmanager is configured, so amslack cannot create silences.")
		return
	}
	now := h.now()
	by := "slack:workflow"
	if in.user != "" {
		by += " (" + in.user + ")"
	}
	comment := "Silenced by a Slack workflow step (workflow execution " + ev.WorkflowExecutionID + ")"
	if in.comment != "" {
		comment += "\n" + in.comment
	}
	until := now.Add(time.Duration(in.duration))
	id, err := h.silences.CreateSilence(ctx, amclient.Silence{
		Matchers: silenceMatchers(in.matchers), StartsAt: now, EndsAt: until, CreatedBy: by, Comment: comment,
	})
	if err != nil {
		logger.Warn("workflow step failed", "err", err)
		fail(DecisionFailed, err.Error(), render.StepSilenceFailedError(err))
		return
	}
	entry.Decision, entry.SilenceID = DecisionSucceeded, id
	entry.Result = "silenced until " + until.UTC().Format("2006-01-02T15:04:05Z")
	err = h.slack.FunctionCompleteSuccessContext(ctx, ev.FunctionExecutionID,
		slack.FunctionCompleteSuccessRequestOptionOutput(map[string]string{OutputSilenceID: id}))
	if err != nil {
		// The silence stands; the workflow times out waiting for it.
		logger.Error("cannot complete workflow step", "silence_id", id, "err", err)
		entry.Result += "; functions.completeSuccess failed"
		h.smetrics.events.WithLabelValues(eventFunctionExecuted, eventFailed).Inc()
	} else {
		h.smetrics.events.WithLabelValues(eventFunctionExecuted, eventHandled).Inc()
	}
	h.auditStep(entry)
}

func (h *Handler) auditStep(e AuditEntry) {
	e.Time = h.now().UTC()
	if err := h.audit.write(e); err != nil {
		h.logger.Error("cannot write audit log", "err", err)
	}
}
