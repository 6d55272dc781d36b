package interact

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Endpoints other than /slack/interactions, the bounded values of the
// endpoint label.
const (
	endpointCommands = "commands"
	endpointEvents   = "events"
)

// HeaderSlackNoRetry, set to "1" on an Events API answer other than 200,
// tells Slack not to deliver the event again.
const HeaderSlackNoRetry = "X-Slack-No-Retry"

// ErrOverloaded reports that an event could not be queued because the
// workers are behind; Slack should deliver it again later.
var ErrOverloaded = errors.New("too much work queued")

// surfaceMetrics count what arrives through slash commands, the Events
// API and Socket Mode.
type surfaceMetrics struct {
	rejected        *prometheus.CounterVec
	commands        *prometheus.CounterVec
	events          *prometheus.CounterVec
	socketConnects  prometheus.Counter
	socketConnected prometheus.Gauge
	envelopes       *prometheus.CounterVec
}

// Subcommands of /amslack, the bounded values of the subcommand label.
const (
	subHelp     = "help"
	subAlerts   = "alerts"
	subSilences = "silences"
	subUnknown  = "unknown"
)

// Event types and results, the bounded values of the labels of
// amslack_slack_events_total.
const (
	eventURLVerification  = "url_verification"
	eventAppMention       = "app_mention"
	eventFunctionExecuted = "function_executed"
	eventOther            = "other"

	eventHandled    = "handled"
	eventFailed     = "failed"
	eventDuplicate  = "duplicate"
	eventIgnored    = "ignored"
	eventOverloaded = "overloaded"
)

// Socket Mode envelope types, the bounded values of the type label of
// amslack_socket_mode_envelopes_total.
const (
	envelopeInteractive   = "interactive"
	envelopeSlashCommands = "slash_commands"
	envelopeEventsAPI     = "events_api"
	envelopeUnreadable    = "unreadable"
)

func newSurfaceMetrics(reg prometheus.Registerer) *surfaceMetrics {
	f := promauto.With(reg)
	m := &surfaceMetrics{
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "slack_requests_rejected_total",
			Help:      "Slash command and Events API requests rejected before parsing, by endpoint and reason.",
		}, []string{"endpoint", "reason"}),
		commands: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "slack_commands_total",
			Help:      "Slash commands answered, by subcommand.",
		}, []string{"subcommand"}),
		events: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "slack_events_total",
			Help:      "Events API deliveries, by event type and result.",
		}, []string{"type", "result"}),
		socketConnects: f.NewCounter(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "socket_mode_connects_total",
			Help:      "Socket Mode connections opened, reconnections included.",
		}),
		socketConnected: f.NewGauge(prometheus.GaugeOpts{
			Namespace: "amslack",
			Name:      "socket_mode_connected",
			Help:      "1 while a Socket Mode connection is open.",
		}),
		envelopes: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: "amslack",
			Name:      "socket_mode_envelopes_total",
			Help:      "Socket Mode envelopes received, by type.",
		}, []string{"type"}),
	}
	for _, e := range []string{endpointCommands, endpointEvents} {
		for _, r := range []string{rejectMethod, rejectTooLarge, rejectUnauthorized, rejectMalformed} {
			m.rejected.WithLabelValues(e, r)
		}
	}
	for _, s := range []string{subHelp, subAlerts, subSilences, subSilence, subUnsilence, subUnknown} {
		m.commands.WithLabelValues(s)
	}
	for _, t := range []string{eventURLVerification, eventAppMention, eventFunctionExecuted, eventOther} {
		for _, r := range []string{eventHandled, eventFailed, eventDuplicate, eventIgnored, eventOverloaded} {
			m.events.WithLabelValues(t, r)
		}
	}
	for _, t := range []string{envelopeInteractive, envelopeSlashCommands, envelopeEventsAPI, envelopeUnreadable} {
		m.envelopes.WithLabelValues(t)
	}
	return m
}
