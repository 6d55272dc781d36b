package interact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/amslack/amslack/render"
)

// ErrUnsupportedEvent is returned by ParseEvent for a well-formed Events
// API envelope whose inner event slack-go cannot decode, such as an event
// type it does not know. Such events are answered 200 and ignored.
var ErrUnsupportedEvent = errors.New("unsupported event")

// ServeEvents handles POST /slack/events: it verifies the request like
// ServeHTTP, answers url_verification's challenge, and de-duplicates and
// queues event_callback deliveries, answering 200 at once (Slack: within
// 3 seconds). A refusal that cannot succeed on a retry carries
// X-Slack-No-Retry: 1; a full queue answers 503 without it, so that Slack
// delivers the event again later.
func (h *Handler) ServeEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readVerified(w, r, endpointEvents, true)
	if !ok {
		return
	}
	ev, err := ParseEvent(body)
	switch {
	case errors.Is(err, ErrUnsupportedEvent):
		h.smetrics.events.WithLabelValues(eventOther, eventIgnored).Inc()
		h.logger.Debug("ignoring undecodable event", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	case err != nil:
		h.countRejected(endpointEvents, rejectMalformed)
		h.logger.Warn("malformed event", "err", err)
		refuse(w, "malformed event", http.StatusBadRequest, true)
		return
	}
	if ev.Type == slackevents.URLVerification {
		h.smetrics.events.WithLabelValues(eventURLVerification, eventHandled).Inc()
		var challenge string
		if v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent); ok {
			challenge = v.Challenge
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(challenge))
		return
	}
	if err := h.HandleEvent(r.Context(), ev); errors.Is(err, ErrOverloaded) {
		http.Error(w, "overloaded, try again later", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// ParseEvent decodes a verified Events API request body with slack-go.
// The verification token is not checked: the signature already was.
func ParseEvent(body []byte) (slackevents.EventsAPIEvent, error) {
	var outer struct {
		Type  string `json:"type"`
		Event *struct {
			Type string `json:"type"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		return slackevents.EventsAPIEvent{}, fmt.Errorf("decode event: %w", err)
	}
	if outer.Type == "" {
		return slackevents.EventsAPIEvent{}, errors.New("decode event: no type")
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		inner := ""
		if outer.Event != nil {
			inner = outer.Event.Type
		}
		return slackevents.EventsAPIEvent{}, fmt.Errorf("%w %q in %s: %w", ErrUnsupportedEvent, inner, outer.Type, err)
	}
	return ev, nil
}

// HandleEvent takes one verified Events API envelope from any transport
// (the HTTP handler, Socket Mode). It returns at once: an event_callback
// is de-duplicated on its event_id, because Slack delivers again when it
// did not see an answer in time, and its work queued for the workers. It
// returns ErrOverloaded when the queue is full; the event is then not
// remembered, so that a later delivery gets through.
func (h *Handler) HandleEvent(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if ev.Type != slackevents.CallbackEvent || !ok {
		h.smetrics.events.WithLabelValues(eventOther, eventIgnored).Inc()
		h.logger.Debug("ignoring event envelope", "type", ev.Type)
		return nil
	}
	var (
		kind string
		work job
	)
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		kind = eventAppMention
		if inner.BotID == "" {
			work = func(ctx context.Context) { h.answerMention(ctx, inner) }
		}
	case *slackevents.FunctionExecutedEvent:
		kind = eventFunctionExecuted
		work = func(ctx context.Context) { h.runStep(ctx, cb.TeamID, inner) }
	case *slackevents.AppHomeOpenedEvent:
		kind = eventAppHomeOpened
		work = h.homeOpenedWork(inner)
	default:
		kind = eventOther
	}
	if work == nil || h.slack == nil {
		if work != nil {
			h.logger.Warn("no Slack client to answer events with", "event_type", kind)
		}
		h.smetrics.events.WithLabelValues(kind, eventIgnored).Inc()
		return nil
	}
	key := cb.TeamID + "\x1f" + cb.EventID
	if cb.EventID != "" && h.eventSeen(key) {
		h.smetrics.events.WithLabelValues(kind, eventDuplicate).Inc()
		return nil
	}
	select {
	case h.queue <- work:
		return nil
	default:
		h.forgetEvent(key)
		h.smetrics.events.WithLabelValues(kind, eventOverloaded).Inc()
		h.logger.Warn("event dropped, queue full", "event_type", kind)
		return ErrOverloaded
	}
}

// eventSeen reports whether an event with key was delivered within the
// de-duplication TTL, and remembers it.
func (h *Handler) eventSeen(key string) bool {
	now := h.now()
	h.dedupMu.Lock()
	defer h.dedupMu.Unlock()
	if at, ok := h.eventsSeen.Get(key); ok && now.Sub(at) < h.dedupTTL {
		return true
	}
	h.eventsSeen.Add(key, now)
	return false
}

func (h *Handler) forgetEvent(key string) {
	h.dedupMu.Lock()
	defer h.dedupMu.Unlock()
	h.eventsSeen.Remove(key)
}

// answerMention replies in the mention's thread with a short help.
func (h *Handler) answerMention(ctx context.Context, ev *slackevents.AppMentionEvent) {
	thread := cmpOr(ev.ThreadTimeStamp, ev.TimeStamp)
	text := render.MentionReply(ev.User)
	_, _, err := h.slack.PostMessageContext(ctx, ev.Channel, slack.MsgOptionText(text, false), slack.MsgOptionTS(thread))
	if err != nil {
		h.smetrics.events.WithLabelValues(eventAppMention, eventFailed).Inc()
		h.logger.Warn("cannot answer mention", "channel", ev.Channel, "err", err)
		return
	}
	h.smetrics.events.WithLabelValues(eventAppMention, eventHandled).Inc()
}
