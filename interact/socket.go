package interact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// ackTimeout bounds the hand-over of one acknowledgement to the Socket
// Mode client's sender. Slack wants the ack within 3 seconds of sending
// the envelope.
const ackTimeout = 2 * time.Second

// RunSocketMode receives interactions, slash commands and events over
// Socket Mode until ctx ends, for apps that cannot expose a public Request
// URL. client is made with socketmode.New from a slack.Client that holds
// the app-level token (slack.OptionAppLevelToken, an xapp- token with the
// connections:write scope). RunSocketMode runs the client, which opens the
// connection with apps.connections.open and opens it again whenever Slack
// sends disconnect or the connection drops, and hands each envelope to the
// same code as the HTTP endpoints. Every envelope is acknowledged within 3
// seconds, with the dialog errors of a view_submission or the answer to a
// slash command as the acknowledgement's payload. An events_api envelope
// that finds the queue full is not acknowledged, so that Slack delivers it
// again.
//
// The work itself runs on Run's workers, so Run must be running too. It
// returns nil when ctx ends, or the client's error when it gives up (an
// invalid or revoked token).
func (h *Handler) RunSocketMode(ctx context.Context, client *socketmode.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- client.RunContext(ctx) }()
	defer h.smetrics.socketConnected.Set(0)
	for {
		select {
		case <-ctx.Done():
			// The client returns once it sees ctx end; wait, so that no
			// goroutine outlives this call.
			<-done
			return nil
		case err := <-done:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("socket mode: %w", unwrapURLError(err))
		case ev := <-client.Events:
			h.socketEvent(ctx, client, ev)
		}
	}
}

func (h *Handler) socketEvent(ctx context.Context, client *socketmode.Client, ev socketmode.Event) {
	switch ev.Type {
	case socketmode.EventTypeConnecting:
		h.smetrics.socketConnected.Set(0)
		h.logger.Debug("opening Socket Mode connection")
	case socketmode.EventTypeConnected:
		h.smetrics.socketConnects.Inc()
		h.smetrics.socketConnected.Set(1)
		h.logger.Info("Socket Mode connected")
	case socketmode.EventTypeConnectionError:
		h.smetrics.socketConnected.Set(0)
		var err error
		if e, ok := ev.Data.(*slack.ConnectionErrorEvent); ok {
			// Dial errors can carry the WebSocket URL, whose ticket is
			// a credential: log the cause only.
			err = unwrapURLError(e.ErrorObj)
		}
		h.logger.Warn("cannot open Socket Mode connection, retrying", "err", err)
	case socketmode.EventTypeInvalidAuth:
		h.logger.Error("Slack refused the app-level token for Socket Mode")
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		h.logger.Warn("Socket Mode connection error", "event", string(ev.Type))
	case socketmode.EventTypeInteractive:
		h.smetrics.envelopes.WithLabelValues(envelopeInteractive).Inc()
		// A nil *ViewSubmissionResponse must not become a non-nil any:
		// the acknowledgement would carry "payload": null.
		var payload any
		if cb, ok := ev.Data.(slack.InteractionCallback); ok {
			if reply := h.Dispatch(ctx, cb); reply != nil {
				payload = reply
			}
		}
		h.ackEnvelope(ctx, client, ev.Request, payload)
	case socketmode.EventTypeSlashCommand:
		h.smetrics.envelopes.WithLabelValues(envelopeSlashCommands).Inc()
		cmd, ok := ev.Data.(slack.SlashCommand)
		if !ok {
			h.ackEnvelope(ctx, client, ev.Request, nil)
			return
		}
		reply := h.Command(ctx, cmd)
		h.ackEnvelope(ctx, client, ev.Request, reply)
	case socketmode.EventTypeEventsAPI:
		h.smetrics.envelopes.WithLabelValues(envelopeEventsAPI).Inc()
		e, ok := ev.Data.(slackevents.EventsAPIEvent)
		if ok && errors.Is(h.HandleEvent(ctx, e), ErrOverloaded) {
			return
		}
		h.ackEnvelope(ctx, client, ev.Request, nil)
	case socketmode.EventTypeErrorBadMessage:
		// An envelope slack-go cannot decode, such as an event of a type
		// it does not know: acknowledge it, as the HTTP endpoint answers
		// 200, or Slack would send it again and again.
		h.smetrics.envelopes.WithLabelValues(envelopeUnreadable).Inc()
		bad, ok := ev.Data.(*socketmode.ErrorBadMessage)
		if !ok {
			return
		}
		var env struct {
			EnvelopeID string `json:"envelope_id"`
			Type       string `json:"type"`
		}
		if json.Unmarshal(bad.Message, &env) != nil || env.EnvelopeID == "" {
			h.logger.Warn("unreadable Socket Mode message", "err", bad.Cause)
			return
		}
		if env.Type == socketmode.RequestTypeEventsAPI {
			h.smetrics.events.WithLabelValues(eventOther, eventIgnored).Inc()
		}
		h.logger.Debug("acknowledging undecodable envelope", "type", env.Type, "err", bad.Cause)
		h.ackEnvelope(ctx, client, &socketmode.Request{EnvelopeID: env.EnvelopeID}, nil)
	}
}

// ackEnvelope acknowledges an envelope, with payload unless it is nil.
func (h *Handler) ackEnvelope(ctx context.Context, client *socketmode.Client, req *socketmode.Request, payload any) {
	if req == nil || req.EnvelopeID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	if err := client.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		h.logger.Warn("cannot acknowledge Socket Mode envelope", "err", err)
	}
}
