package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// call is one Web API call being handled under s.mu.
type call struct {
	now    time.Time
	method string
	p      params
	req    *Request
	// after runs once s.mu is released (logging).
	after []func()
}

// handler handles one Web API method once the call passed authentication
// and rate limits.
type handler func(s *Server, c *call) reply

// handlerFor returns the handler of a Web API method, or nil if the fake
// does not know the method.
func handlerFor(method string) handler {
	switch method {
	case "chat.postMessage":
		return (*Server).postMessage
	case "chat.update":
		return (*Server).update
	case "chat.postEphemeral":
		return (*Server).postEphemeral
	case "chat.getPermalink":
		return (*Server).getPermalink
	case "views.open":
		return (*Server).viewsOpen
	case MethodPublishView:
		return (*Server).viewsPublish
	case "views.update":
		return (*Server).viewsUpdate
	case "usergroups.users.list":
		return (*Server).userGroupMembers
	case "users.info":
		return (*Server).usersInfo
	case "auth.test":
		return (*Server).authTest
	case methodCompleteSuccess, methodCompleteError:
		return (*Server).completeFunction
	}
	return nil
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, method string) {
	if !s.delay(r.Context()) {
		return
	}
	p, perr := readParams(r)
	c := &call{method: method, p: p, req: &Request{
		Method: method, Channel: p.get("channel"), ThreadTS: p.get("thread_ts"), TS: p.get("ts"),
	}}
	rep := s.handleAPI(r, c, perr)
	for _, f := range c.after {
		f()
	}
	writeReply(w, rep)
}

func (s *Server) handleAPI(r *http.Request, c *call, perr error) reply {
	c.now = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := s.dispatch(r, c, perr)
	c.req.Time = c.now
	c.req.Status = rep.status
	c.req.Error = rep.slackErr
	c.req.RetryAfter = time.Duration(rep.retryAfter) * time.Second
	s.st.requests = append(s.st.requests, *c.req)
	return rep
}

// dispatch answers a Web API call in the order Slack appears to check
// things: availability, method, authentication, rate limits, arguments.
func (s *Server) dispatch(r *http.Request, c *call, perr error) reply {
	if s.st.outage {
		return slackError(http.StatusServiceUnavailable, "service_unavailable")
	}
	h := handlerFor(c.method)
	if h == nil {
		return slackError(http.StatusOK, "unknown_method")
	}
	if f, ok := s.takeFault(c.method); ok {
		if f.status == http.StatusTooManyRequests {
			secs := s.block(c.now, s.opts.RetryAfter, s.methodLimit(c.method).scope)
			rep := slackError(f.status, f.slackErr)
			rep.retryAfter = secs
			return rep
		}
		return slackError(f.status, f.slackErr)
	}
	switch {
	case errors.Is(perr, errJSONBody):
		return slackError(http.StatusOK, "invalid_json")
	case perr != nil:
		return slackError(http.StatusOK, "invalid_form_data")
	}
	switch tok := c.p.token(r); {
	case tok == "":
		return slackError(http.StatusOK, "not_authed")
	case s.opts.Token != "" && tok != s.opts.Token:
		return slackError(http.StatusOK, "invalid_auth")
	}
	scopes := []limit{s.methodLimit(c.method)}
	if c.method == "chat.postMessage" {
		if ch := c.p.get("channel"); ch != "" {
			scopes = append(scopes, s.channelLimit(ch))
		}
		scopes = append(scopes, s.workspaceLimit())
	}
	if secs := s.admit(c.now, c.req, scopes...); secs > 0 {
		// Slack's Web API says "ratelimited"; its webhooks say
		// "rate_limited" (https://docs.slack.dev/apis/web-api/rate-limits).
		rep := slackError(http.StatusTooManyRequests, "ratelimited")
		rep.retryAfter = secs
		return rep
	}
	return h(s, c)
}

func ok(body map[string]any) reply {
	body["ok"] = true
	return reply{status: http.StatusOK, body: body}
}

// wireMessage is a message as the Web API returns it.
type wireMessage struct {
	Type     string          `json:"type"`
	Subtype  string          `json:"subtype,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	User     string          `json:"user"`
	BotID    string          `json:"bot_id"`
	Team     string          `json:"team"`
	Edited   *wireEdited     `json:"edited,omitempty"`
}

type wireEdited struct {
	User string `json:"user"`
	TS   string `json:"ts"`
}

func toWire(m Message) wireMessage {
	w := wireMessage{
		Type: "message", Text: m.Text, Blocks: m.Blocks, TS: m.TS, ThreadTS: m.ThreadTS,
		User: BotUserID, BotID: BotID, Team: TeamID,
	}
	if m.Edits > 0 {
		w.Edited = &wireEdited{User: BotUserID, TS: m.TS}
	}
	return w
}

// postMessage implements chat.postMessage.
func (s *Server) postMessage(c *call) reply {
	ch := c.p.get("channel")
	if !s.knownChannel(ch) {
		return slackError(http.StatusOK, "channel_not_found")
	}
	if s.archived[ch] {
		return slackError(http.StatusOK, "is_archived")
	}
	text := c.p.get("text")
	blocks, rj := checkMessage(text, c.p.raw("blocks"))
	if rj != nil {
		return rj.reply(http.StatusOK)
	}
	m := Message{
		Channel: ch, Text: text, Blocks: blocks, Source: c.method, Posted: c.now,
		Broadcast: c.p.bool("reply_broadcast"),
	}
	var parent *message
	if tts := c.p.get("thread_ts"); tts != "" {
		if parent = s.threadParent(ch, tts); parent == nil {
			// Slack's answer to an unknown thread is not documented; the
			// fake refuses it so that a wrong thread_ts shows up in tests.
			return slackError(http.StatusOK, "thread_not_found")
		}
		m.ThreadTS = parent.m.TS
	} else {
		m.Broadcast = false
	}
	m.TS = s.nextTS(c.now)
	c.req.TS = m.TS
	s.addMessage(m, parent)
	c.after = append(c.after, s.logMessage("message posted", m))
	return ok(map[string]any{"channel": ch, "ts": m.TS, "message": toWire(m)})
}

// update implements chat.update. As in Slack, a field left out keeps the
// message's current text or blocks; an empty blocks array removes them.
func (s *Server) update(c *call) reply {
	ch := c.p.get("channel")
	if !s.knownChannel(ch) {
		return slackError(http.StatusOK, "channel_not_found")
	}
	if s.archived[ch] {
		return slackError(http.StatusOK, "is_archived")
	}
	stored := s.lookup(ch, c.p.get("ts"))
	if stored == nil {
		return slackError(http.StatusOK, "message_not_found")
	}
	if !c.p.has("text") && !c.p.has("blocks") {
		return slackError(http.StatusOK, "no_text")
	}
	text := stored.m.Text
	if c.p.has("text") {
		text = c.p.get("text")
	}
	raw := []byte(stored.m.Blocks)
	if c.p.has("blocks") {
		raw = c.p.raw("blocks")
	}
	blocks, rj := checkMessage(text, raw)
	if rj != nil {
		return rj.reply(http.StatusOK)
	}
	s.editMessage(stored, text, blocks, c.now)
	m := stored.m
	c.after = append(c.after, s.logMessage("message updated", m))
	return ok(map[string]any{"channel": ch, "ts": m.TS, "text": m.Text, "message": toWire(m)})
}

// postEphemeral implements chat.postEphemeral.
func (s *Server) postEphemeral(c *call) reply {
	ch := c.p.get("channel")
	if !s.knownChannel(ch) {
		return slackError(http.StatusOK, "channel_not_found")
	}
	user := c.p.get("user")
	if user == "" {
		return slackError(http.StatusOK, "user_not_found")
	}
	text := c.p.get("text")
	blocks, rj := checkMessage(text, c.p.raw("blocks"))
	if rj != nil {
		return rj.reply(http.StatusOK)
	}
	e := Ephemeral{
		Channel: ch, User: user, TS: s.nextTS(c.now), ThreadTS: c.p.get("thread_ts"),
		Text: text, Blocks: blocks, Source: c.method, Time: c.now,
	}
	c.req.TS = e.TS
	s.addEphemeral(e)
	return ok(map[string]any{"message_ts": e.TS})
}

func (s *Server) addEphemeral(e Ephemeral) {
	s.st.ephemerals = append(s.st.ephemerals, e)
	s.emit(Event{Kind: EventEphemeral, Channel: e.Channel, TS: e.TS, ThreadTS: e.ThreadTS, User: e.User})
}

// getPermalink implements chat.getPermalink.
func (s *Server) getPermalink(c *call) reply {
	ch := c.p.get("channel")
	if !s.knownChannel(ch) {
		return slackError(http.StatusOK, "channel_not_found")
	}
	ts := c.p.get("message_ts")
	c.req.TS = ts
	if s.lookup(ch, ts) == nil {
		return slackError(http.StatusOK, "message_not_found")
	}
	return ok(map[string]any{
		"channel":   ch,
		"permalink": "https://slackfake.invalid/archives/" + ch + "/p" + strings.Replace(ts, ".", "", 1),
	})
}

// triggerTTL is how long a trigger_id stays valid: 3 seconds, once only
// (https://docs.slack.dev/interactivity/handling-user-interaction).
const triggerTTL = 3 * time.Second

// viewsOpen implements views.open.
func (s *Server) viewsOpen(c *call) reply {
	id := c.p.get("trigger_id")
	if id == "" {
		return slackError(http.StatusOK, "invalid_arguments")
	}
	trig := s.st.triggers[id]
	switch {
	case trig != nil && trig.used:
		return slackError(http.StatusOK, "exchanged_trigger_id")
	case trig != nil && !trig.issued.IsZero() && c.now.Sub(trig.issued) > triggerTTL:
		return slackError(http.StatusOK, "expired_trigger_id")
	}
	raw, view, rejected := viewParam(c, checkView)
	if rejected != nil {
		return *rejected
	}
	if trig == nil {
		trig = &trigger{}
		s.st.triggers[id] = trig
	}
	trig.used = true
	s.seq++
	v := View{ID: fmt.Sprintf("V%010d", s.seq), TriggerID: id, Raw: json.RawMessage(slices.Clone(raw)), Time: c.now}
	v.Hash = viewHash(v.ID, 0)
	v.describeModal(view)
	s.st.views = append(s.st.views, v)
	s.emit(Event{Kind: EventView})
	return viewAnswer(view, v.ID, v.Hash)
}

// userGroupMembers implements usergroups.users.list.
func (s *Server) userGroupMembers(c *call) reply {
	users, found := s.groups[c.p.get("usergroup")]
	if !found {
		return slackError(http.StatusOK, "no_such_subteam")
	}
	return ok(map[string]any{"users": append([]string{}, users...)})
}

// usersInfo implements users.info.
func (s *Server) usersInfo(c *call) reply {
	u, found := s.users[c.p.get("user")]
	if !found {
		return slackError(http.StatusOK, "user_not_found")
	}
	user := map[string]any{
		"id": u.ID, "team_id": TeamID, "name": u.Name, "real_name": u.RealName,
		"deleted": false, "is_bot": false,
		"profile": map[string]any{"real_name": u.RealName, "display_name": u.Name},
	}
	if u.TZ != "" {
		user["tz"] = u.TZ
	}
	return ok(map[string]any{"user": user})
}

// authTest implements auth.test, which clients call to check their token.
func (s *Server) authTest(*call) reply {
	return ok(map[string]any{
		"url": "https://slackfake.invalid/", "team": "slackfake", "user": "amslack",
		"team_id": TeamID, "user_id": BotUserID, "bot_id": BotID,
	})
}

// logMessage returns a function that logs an accepted message once s.mu is
// released. It logs no request fields beyond the message: the token never
// reaches the log.
func (s *Server) logMessage(msg string, m Message) func() {
	return func() {
		if !s.logger.Enabled(context.Background(), slog.LevelInfo) {
			return
		}
		s.logger.Info(msg, "source", m.Source, "channel", m.Channel, "ts", m.TS,
			"thread_ts", m.ThreadTS, "header", m.HeaderText())
	}
}
