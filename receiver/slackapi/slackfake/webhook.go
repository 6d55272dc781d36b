package slackfake

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// Response URL limits: up to 5 posts within 30 minutes of the interaction
// (https://docs.slack.dev/interactivity/handling-user-interaction).
const (
	responseURLUses = 5
	responseURLTTL  = 30 * time.Minute
)

// responseURL is a response_url the fake issued.
type responseURL struct {
	channel   string
	user      string
	messageTS string
	created   time.Time
	uses      int
}

// readJSONObject reads a JSON object body as params; ok is false when the
// body is not one.
func readJSONObject(r *http.Request) (params, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		return params{}, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m == nil {
		return params{}, false
	}
	return params{json: m}, true
}

// plainError is an incoming webhook's error: a bare string and a status.
func plainError(status int, code string) reply {
	return reply{status: status, plain: code, slackErr: code}
}

// serveWebhook handles a post to an incoming webhook. Webhooks answer in
// plain text: "ok", or an error string with a 4xx status
// (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks).
func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request, id string) {
	s.serveJSONPost(w, r, MethodWebhook, func(req *Request) { req.Channel = s.webhooks[id] },
		func(now time.Time, p params, valid bool, req *Request, after *func()) reply {
			return s.webhook(now, id, p, valid, req, after)
		})
}

// serveJSONPost is the frame of the endpoints that take a JSON object and
// are not Web API methods: it reads the body, records the request with the
// handler's answer, and runs what the handler left for after the lock.
// describe fills in what the request is about, under the lock.
func (s *Server) serveJSONPost(w http.ResponseWriter, r *http.Request, method string, describe func(*Request),
	handle func(now time.Time, p params, valid bool, req *Request, after *func()) reply) {
	if !s.delay(r.Context()) {
		return
	}
	p, valid := readJSONObject(r)
	now := s.now()
	var after func()
	s.mu.Lock()
	req := Request{Time: now, Method: method, ThreadTS: p.get("thread_ts")}
	describe(&req)
	rep := handle(now, p, valid, &req, &after)
	req.Status, req.Error = rep.status, rep.slackErr
	req.RetryAfter = time.Duration(rep.retryAfter) * time.Second
	s.st.requests = append(s.st.requests, req)
	s.mu.Unlock()
	if after != nil {
		after()
	}
	writeReply(w, rep)
}

func (s *Server) webhook(now time.Time, id string, p params, valid bool, req *Request, after *func()) reply {
	if s.st.outage {
		return plainError(http.StatusServiceUnavailable, "service_unavailable")
	}
	if f, ok := s.takeFault(MethodWebhook); ok {
		rep := plainError(f.status, f.slackErr)
		if f.status == http.StatusTooManyRequests {
			rep = webhookRateLimited(s.block(now, s.opts.RetryAfter, s.webhookLimit(id).scope))
		}
		return rep
	}
	ch, found := s.webhooks[id]
	if !found || !s.knownChannel(ch) {
		return plainError(http.StatusNotFound, "channel_not_found")
	}
	if secs := s.admit(now, req, s.webhookLimit(id), s.workspaceLimit()); secs > 0 {
		return webhookRateLimited(secs)
	}
	if !valid {
		return plainError(http.StatusBadRequest, "invalid_payload")
	}
	text := p.get("text")
	blocks, rj := checkMessage(text, p.raw("blocks"))
	if rj != nil {
		return plainError(http.StatusBadRequest, rj.code)
	}
	m := Message{Channel: ch, Text: text, Blocks: blocks, Source: MethodWebhook, Posted: now}
	var parent *message
	if tts := p.get("thread_ts"); tts != "" {
		if parent = s.threadParent(ch, tts); parent == nil {
			return plainError(http.StatusNotFound, "thread_not_found")
		}
		m.ThreadTS = parent.m.TS
	}
	m.TS = s.nextTS(now)
	req.TS = m.TS
	s.addMessage(m, parent)
	*after = s.logMessage("message posted", m)
	return reply{status: http.StatusOK, plain: "ok"}
}

// webhookRateLimited is a webhook's 429. Slack documents the status and
// Retry-After; the body is the one clients observe.
func webhookRateLimited(secs int) reply {
	return reply{
		status:     http.StatusTooManyRequests,
		body:       errorBody{Error: "rate_limited", RetryAfter: secs},
		slackErr:   "rate_limited",
		retryAfter: secs,
	}
}

// serveResponse handles a post to a response URL.
func (s *Server) serveResponse(w http.ResponseWriter, r *http.Request, id string) {
	s.serveJSONPost(w, r, MethodResponseURL, func(req *Request) {
		if u := s.st.responses[id]; u != nil {
			req.Channel, req.TS = u.channel, u.messageTS
		}
	}, func(now time.Time, p params, valid bool, req *Request, after *func()) reply {
		return s.response(now, id, p, valid, req, after)
	})
}

func (s *Server) response(now time.Time, id string, p params, valid bool, req *Request, after *func()) reply {
	if s.st.outage {
		return slackError(http.StatusServiceUnavailable, "service_unavailable")
	}
	if f, ok := s.takeFault(MethodResponseURL); ok {
		return slackError(f.status, f.slackErr)
	}
	u := s.st.responses[id]
	switch {
	case u == nil, now.Sub(u.created) > responseURLTTL:
		return slackError(http.StatusNotFound, "expired_url")
	case u.uses >= responseURLUses:
		return slackError(http.StatusNotFound, "used_url")
	case !valid:
		return slackError(http.StatusBadRequest, "invalid_payload")
	}
	post := ResponsePost{
		Time: now, Channel: u.channel, User: u.user, MessageTS: u.messageTS,
		ResponseType: p.get("response_type"), ReplaceOriginal: p.bool("replace_original"),
		DeleteOriginal: p.bool("delete_original"), ThreadTS: p.get("thread_ts"), Text: p.get("text"),
	}
	if post.ResponseType == "" {
		post.ResponseType = "ephemeral"
	}
	var fail *reply
	switch {
	case post.DeleteOriginal:
		fail = s.deleteOriginal(u)
	case post.ReplaceOriginal:
		fail = s.replaceOriginal(now, u, &post, p, after)
	default:
		fail = s.postResponse(now, u, &post, p, req, after)
	}
	if fail != nil {
		return *fail
	}
	u.uses++
	s.st.responsePosts = append(s.st.responsePosts, post)
	return ok(map[string]any{})
}

// failed is r as a failure of a response_url post.
func failed(r reply) *reply { return &r }

// deleteOriginal deletes the message a response_url belongs to.
func (s *Server) deleteOriginal(u *responseURL) *reply {
	if u.messageTS == "" {
		return nil
	}
	stored := s.lookup(u.channel, u.messageTS)
	if stored == nil {
		return failed(slackError(http.StatusNotFound, "message_not_found"))
	}
	stored.m.Deleted = true
	s.emit(Event{Kind: EventDelete, Channel: u.channel, TS: u.messageTS, ThreadTS: stored.m.ThreadTS})
	return nil
}

// replaceOriginal replaces the message a response_url belongs to with
// post, or the ephemeral message when it belongs to none.
func (s *Server) replaceOriginal(now time.Time, u *responseURL, post *ResponsePost, p params, after *func()) *reply {
	blocks, rj := checkMessage(post.Text, p.raw("blocks"))
	if rj != nil {
		return failed(rj.reply(http.StatusBadRequest))
	}
	post.Blocks = blocks
	if u.messageTS == "" {
		s.addEphemeral(Ephemeral{
			Channel: u.channel, User: u.user, TS: s.nextTS(now), ThreadTS: post.ThreadTS,
			Text: post.Text, Blocks: blocks, Source: MethodResponseURL, Replaced: true, Time: now,
		})
		return nil
	}
	stored := s.lookup(u.channel, u.messageTS)
	if stored == nil {
		return failed(slackError(http.StatusNotFound, "message_not_found"))
	}
	s.editMessage(stored, post.Text, blocks, now)
	*after = s.logMessage("message updated", stored.m)
	return nil
}

// postResponse posts post as a new message: ephemeral, or in the channel
// or a thread of it.
func (s *Server) postResponse(now time.Time, u *responseURL, post *ResponsePost, p params, req *Request, after *func()) *reply {
	blocks, rj := checkMessage(post.Text, p.raw("blocks"))
	if rj != nil {
		return failed(rj.reply(http.StatusBadRequest))
	}
	post.Blocks = blocks
	if post.ResponseType != "in_channel" {
		s.addEphemeral(Ephemeral{
			Channel: u.channel, User: u.user, TS: s.nextTS(now), ThreadTS: post.ThreadTS,
			Text: post.Text, Blocks: blocks, Source: MethodResponseURL, Time: now,
		})
		return nil
	}
	m := Message{Channel: u.channel, Text: post.Text, Blocks: blocks, Source: MethodResponseURL, Posted: now}
	var parent *message
	if post.ThreadTS != "" {
		if parent = s.threadParent(u.channel, post.ThreadTS); parent == nil {
			return failed(slackError(http.StatusNotFound, "thread_not_found"))
		}
		m.ThreadTS = parent.m.TS
	}
	m.TS = s.nextTS(now)
	req.TS = m.TS
	s.addMessage(m, parent)
	*after = s.logMessage("message posted", m)
	return nil
}
