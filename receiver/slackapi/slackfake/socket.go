package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Web API methods of the app-level side: Socket Mode and Workflow Builder
// steps.
const (
	methodConnectionsOpen = "apps.connections.open"
	methodCompleteSuccess = "functions.completeSuccess"
	methodCompleteError   = "functions.completeError"
)

// Socket Mode envelope types that SocketSend sends, as Slack names them.
const (
	EnvelopeEventsAPI     = "events_api"
	EnvelopeInteractive   = "interactive"
	EnvelopeSlashCommands = "slash_commands"
)

// Event kinds of the app-level side.
const (
	// EventSocketConnect: a Socket Mode client connected and got hello.
	EventSocketConnect EventKind = "socket_connect"
	// EventSocketAck: a Socket Mode client acknowledged an envelope.
	EventSocketAck EventKind = "socket_ack"
	// EventFunctionComplete: a workflow step was completed.
	EventFunctionComplete EventKind = "function_complete"
)

// ErrNoSocket is returned by SocketSend and SocketDisconnect when no
// Socket Mode client is connected.
var ErrNoSocket = errors.New("slackfake: no Socket Mode connection is open")

// socketPingInterval is how often the fake pings a Socket Mode client.
// slack-go's client treats a connection without a ping for 30 seconds as
// dead and reconnects.
const socketPingInterval = 10 * time.Second

// socketWriteTimeout bounds one write to a Socket Mode client.
const socketWriteTimeout = 10 * time.Second

// appState is the app-level side of the fake: Socket Mode connections and
// acknowledgements, and workflow step completions. It lives in Server
// under s.mu; Reset leaves it alone. Its maps are made on first use, so
// that its zero value is ready.
type appState struct {
	// tickets are the connection ids handed out by apps.connections.open
	// and not yet dialled; each admits one connection.
	tickets map[string]bool
	// conns are the open connections, oldest first; SocketSend writes to
	// the newest.
	conns    []*socketConn
	connects int
	// acks maps an envelope id to its acknowledgement's payload (nil
	// for an acknowledgement without one).
	acks        map[string]json.RawMessage
	sent        map[string]bool
	completions []FunctionCompletion
	completed   map[string]bool
	seq         int
}

// socketConn is one Socket Mode WebSocket connection.
type socketConn struct {
	id   string
	ws   *websocket.Conn
	done chan struct{}
	// writeMu serializes writes: gorilla/websocket allows one writer at a
	// time.
	writeMu sync.Mutex
}

func (c *socketConn) writeJSON(v any) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.ws.SetWriteDeadline(time.Now().Add(socketWriteTimeout)); err != nil {
		return err
	}
	return c.ws.WriteJSON(v)
}

// FunctionCompletion is a call of functions.completeSuccess or
// functions.completeError that the fake accepted.
type FunctionCompletion struct {
	Time        time.Time
	ExecutionID string
	// Success is set by functions.completeSuccess, which sends Outputs;
	// functions.completeError sends Error.
	Success bool
	// Outputs holds each output as a string; an output that is not a
	// JSON string is kept as its JSON text.
	Outputs map[string]string
	Error   string
}

// FunctionCompletions returns the completed workflow steps, in order.
func (s *Server) FunctionCompletions() []FunctionCompletion {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.apps.completions)
	for i := range out {
		out[i].Outputs = maps.Clone(out[i].Outputs)
	}
	return out
}

// completeFunction implements functions.completeSuccess and
// functions.completeError. Slack answers execution_not_in_running_state
// when an execution is completed twice; the fake accepts any execution id
// once.
func (s *Server) completeFunction(c *call) reply {
	id := c.p.get("function_execution_id")
	if id == "" {
		return slackError(http.StatusOK, "invalid_arguments")
	}
	fc := FunctionCompletion{Time: c.now, ExecutionID: id, Success: c.method == methodCompleteSuccess}
	if fc.Success {
		var outputs map[string]json.RawMessage
		raw := c.p.raw("outputs")
		if raw == nil || json.Unmarshal(raw, &outputs) != nil || outputs == nil {
			return slackError(http.StatusOK, "parameter_validation_failed")
		}
		fc.Outputs = make(map[string]string, len(outputs))
		for k, v := range outputs {
			var str string
			if json.Unmarshal(v, &str) != nil {
				str = string(v)
			}
			fc.Outputs[k] = str
		}
	} else {
		if fc.Error = c.p.get("error"); fc.Error == "" {
			return slackError(http.StatusOK, "invalid_arguments")
		}
	}
	if s.apps.completed[id] {
		return slackError(http.StatusOK, "execution_not_in_running_state")
	}
	if s.apps.completed == nil {
		s.apps.completed = map[string]bool{}
	}
	s.apps.completed[id] = true
	s.apps.completions = append(s.apps.completions, fc)
	s.emit(Event{Kind: EventFunctionComplete})
	return ok(map[string]any{})
}

// serveConnectionsOpen implements apps.connections.open. It authenticates
// with the app-level token, not the bot token, so it does not go through
// dispatch; it keeps dispatch's order otherwise: outage, fault, token.
func (s *Server) serveConnectionsOpen(w http.ResponseWriter, r *http.Request) {
	if !s.delay(r.Context()) {
		return
	}
	p, perr := readParams(r)
	now := s.now()
	s.mu.Lock()
	req := Request{Time: now, Method: methodConnectionsOpen}
	rep := s.connectionsOpen(r, p, perr)
	req.Status, req.Error = rep.status, rep.slackErr
	s.st.requests = append(s.st.requests, req)
	s.mu.Unlock()
	writeReply(w, rep)
}

func (s *Server) connectionsOpen(r *http.Request, p params, perr error) reply {
	if s.st.outage {
		return slackError(http.StatusServiceUnavailable, "service_unavailable")
	}
	if f, ok := s.takeFault(methodConnectionsOpen); ok {
		return slackError(f.status, f.slackErr)
	}
	if perr != nil {
		return slackError(http.StatusOK, "invalid_form_data")
	}
	switch tok := p.token(r); {
	case tok == "":
		return slackError(http.StatusOK, "not_authed")
	case !strings.HasPrefix(tok, "xapp-"):
		// Slack: apps.connections.open takes an app-level token only.
		return slackError(http.StatusOK, "not_allowed_token_type")
	case s.opts.AppToken != "" && tok != s.opts.AppToken:
		return slackError(http.StatusOK, "invalid_auth")
	}
	s.apps.seq++
	id := fmt.Sprintf("%016x", uint64(s.apps.seq)*0x9e3779b97f4a7c15)
	if s.apps.tickets == nil {
		s.apps.tickets = map[string]bool{}
	}
	s.apps.tickets[id] = true
	return ok(map[string]any{"url": socketURL(r, id)})
}

// socketURL is the WebSocket URL of connection id on the server that r
// reached: the fake learns its own address from the request's Host, and
// its mount point from the part of the request path that a StripPrefix in
// front of it removed.
func socketURL(r *http.Request, id string) string {
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	full := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		full = u.Path
	}
	prefix := strings.TrimSuffix(full, r.URL.Path)
	return fmt.Sprintf("%s://%s%s/socket/%s", scheme, r.Host, prefix, id)
}

var upgrader = websocket.Upgrader{
	// Tests dial from anywhere; slack-go sends Origin: https://api.slack.com.
	CheckOrigin: func(*http.Request) bool { return true },
}

// serveSocket serves /socket/<id>: one Socket Mode connection for a ticket
// from apps.connections.open. It sends hello, pings the client, and
// records the acknowledgements it reads until the connection closes.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	valid := s.apps.tickets[id]
	delete(s.apps.tickets, id)
	s.mu.Unlock()
	if !valid {
		http.Error(w, "unknown or used Socket Mode URL", http.StatusNotFound)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has answered the client.
		return
	}
	c := &socketConn{id: id, ws: ws, done: make(chan struct{})}
	defer func() {
		close(c.done)
		ws.Close()
		s.mu.Lock()
		s.apps.conns = slices.DeleteFunc(s.apps.conns, func(o *socketConn) bool { return o == c })
		s.mu.Unlock()
	}()
	s.mu.Lock()
	s.apps.conns = append(s.apps.conns, c)
	s.apps.connects++
	n := len(s.apps.conns)
	s.mu.Unlock()
	hello := map[string]any{
		"type":            "hello",
		"num_connections": n,
		"debug_info":      map[string]any{"host": "slackfake", "approximate_connection_time": 3600},
		"connection_info": map[string]any{"app_id": "A0SLACKFAKE"},
	}
	if err := c.writeJSON(hello); err != nil {
		return
	}
	s.mu.Lock()
	s.emit(Event{Kind: EventSocketConnect})
	s.mu.Unlock()
	go s.pingSocket(c)
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(msg, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		if string(ack.Payload) == "null" {
			ack.Payload = nil
		}
		s.mu.Lock()
		if s.apps.sent[ack.EnvelopeID] {
			if s.apps.acks == nil {
				s.apps.acks = map[string]json.RawMessage{}
			}
			if _, dup := s.apps.acks[ack.EnvelopeID]; !dup {
				s.apps.acks[ack.EnvelopeID] = ack.Payload
			}
			s.emit(Event{Kind: EventSocketAck})
		}
		s.mu.Unlock()
	}
}

// pingSocket pings c until it closes.
func (s *Server) pingSocket(c *socketConn) {
	t := time.NewTicker(socketPingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			// WriteControl may run alongside other writes.
			if c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(socketWriteTimeout)) != nil {
				return
			}
		}
	}
}

// newestSocket returns the most recent open connection.
func (s *Server) newestSocket() *socketConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.apps.conns) == 0 {
		return nil
	}
	return s.apps.conns[len(s.apps.conns)-1]
}

// SocketSend sends an envelope of envelopeType (EnvelopeEventsAPI,
// EnvelopeInteractive, EnvelopeSlashCommands) with payload over the newest
// Socket Mode connection, as Slack does, and returns its envelope id. A
// payload that is a json.RawMessage or []byte is sent as is; anything
// else is encoded as JSON. Slack accepts a response payload in the
// acknowledgement of interactive and slash command envelopes.
func (s *Server) SocketSend(envelopeType string, payload any) (string, error) {
	var raw json.RawMessage
	switch p := payload.(type) {
	case json.RawMessage:
		raw = p
	case []byte:
		raw = p
	default:
		b, err := json.Marshal(payload)
		if err != nil {
			return "", fmt.Errorf("slackfake: encode payload: %w", err)
		}
		raw = b
	}
	c := s.newestSocket()
	if c == nil {
		return "", ErrNoSocket
	}
	s.mu.Lock()
	s.apps.seq++
	id := fmt.Sprintf("%08x-%04x-4fa5-8e0b-%012x", s.apps.seq, s.apps.seq&0xffff, uint64(s.apps.seq)*0x9e3779b1)
	if s.apps.sent == nil {
		s.apps.sent = map[string]bool{}
	}
	s.apps.sent[id] = true
	s.mu.Unlock()
	env := map[string]any{
		"envelope_id":              id,
		"type":                     envelopeType,
		"payload":                  raw,
		"accepts_response_payload": envelopeType != EnvelopeEventsAPI,
		"retry_attempt":            0,
		"retry_reason":             "",
	}
	if err := c.writeJSON(env); err != nil {
		return "", fmt.Errorf("slackfake: send envelope: %w", err)
	}
	return id, nil
}

// SocketAck returns the payload of the acknowledgement of envelope id (nil
// for an acknowledgement without one), and whether it was acknowledged.
func (s *Server) SocketAck(id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.apps.acks[id]
	return slices.Clone(p), ok
}

// WaitSocketAck waits until envelope id is acknowledged, or ctx ends.
func (s *Server) WaitSocketAck(ctx context.Context, id string) (json.RawMessage, error) {
	events, cancel := s.Subscribe()
	defer cancel()
	for {
		if p, ok := s.SocketAck(id); ok {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("slackfake: envelope %s not acknowledged: %w", id, ctx.Err())
		case <-events:
		}
	}
}

// SocketConnects returns how many Socket Mode connections were opened so
// far; SocketConnections how many are open now.
func (s *Server) SocketConnects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apps.connects
}

// SocketConnections returns how many Socket Mode connections are open.
func (s *Server) SocketConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.apps.conns)
}

// WaitSocketConnects waits until n Socket Mode connections were opened in
// all, or ctx ends.
func (s *Server) WaitSocketConnects(ctx context.Context, n int) error {
	events, cancel := s.Subscribe()
	defer cancel()
	for {
		if s.SocketConnects() >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("slackfake: %d Socket Mode connections of %d: %w", s.SocketConnects(), n, ctx.Err())
		case <-events:
		}
	}
}

// SocketDisconnect sends disconnect with reason (such as
// "refresh_requested") over the newest connection, which Slack does before
// it closes a connection; the client is expected to open a new one. The
// fake closes the old connection once the client has gone or after grace.
func (s *Server) SocketDisconnect(reason string, grace time.Duration) error {
	c := s.newestSocket()
	if c == nil {
		return ErrNoSocket
	}
	msg := map[string]any{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": map[string]any{"host": "slackfake"},
	}
	if err := c.writeJSON(msg); err != nil {
		return fmt.Errorf("slackfake: send disconnect: %w", err)
	}
	go func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-c.done:
		case <-t.C:
			c.ws.Close()
		}
	}()
	return nil
}

// CloseSockets closes every open Socket Mode connection at once, as a
// network failure would.
func (s *Server) CloseSockets() {
	s.mu.Lock()
	conns := slices.Clone(s.apps.conns)
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.Close()
	}
}
