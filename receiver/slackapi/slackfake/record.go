package slackfake

import (
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/amslack/amslack/receiver/slackapi"
)

// Request is one request the server answered.
type Request struct {
	Time time.Time
	// Method is the Web API method, MethodWebhook or MethodResponseURL.
	Method  string
	Channel string
	// Status is the HTTP status of the answer.
	Status int
	// Error is the Slack error of the answer, "" on success.
	Error string
	// RetryAfter is what a 429 told the client to wait.
	RetryAfter time.Duration
	ThreadTS   string
	// TS is the message posted, updated or asked about.
	TS string
}

// Violation is a request that arrived in a rate-limit scope before the
// Retry-After the client was given for that scope had passed.
type Violation struct {
	Time time.Time
	// Scope is the method's, the channel's, the incoming webhook's (by its
	// ID) or the workspace's.
	Scope   slackapi.Scope
	Method  string
	Channel string
	// Until is when the client was told it could try again.
	Until time.Time
}

// Message is a message in a channel as the fake holds it.
type Message struct {
	Channel string
	TS      string
	// ThreadTS is the parent's ts for a thread reply, "" for a top-level
	// message.
	ThreadTS string
	Text     string
	Blocks   json.RawMessage
	// Source is how the message came: "chat.postMessage", MethodWebhook
	// or MethodResponseURL.
	Source string
	// Broadcast is set on a thread reply sent with reply_broadcast.
	Broadcast bool
	// Deleted is set once a response URL deleted the message.
	Deleted bool
	Posted  time.Time
	// Edited is the time of the last edit; zero if never edited.
	Edited time.Time
	// Edits counts the edits; History holds the versions before each
	// edit, oldest first (without replies or history of their own).
	Edits   int
	History []Message
	// Replies are the thread replies in order.
	Replies []Message
}

// ActionIDs returns the action_ids of the message's interactive elements in
// block order.
func (m Message) ActionIDs() []string { return actionIDs(m.Blocks) }

// BlockIDs returns the block_ids of the message's blocks in order, "" for a
// block without one.
func (m Message) BlockIDs() []string { return blockIDs(m.Blocks) }

// HeaderText returns the text of the message's first header block, or "".
func (m Message) HeaderText() string { return headerText(m.Blocks) }

// Ephemeral is a message only one user sees.
type Ephemeral struct {
	Channel  string
	User     string
	TS       string
	ThreadTS string
	Text     string
	Blocks   json.RawMessage
	// Source is "chat.postEphemeral" or MethodResponseURL.
	Source string
	// Replaced is set when a response URL replaced the user's ephemeral
	// source message with this one (replace_original without a message ts).
	Replaced bool
	Time     time.Time
}

// ActionIDs returns the action_ids of the ephemeral's interactive elements.
func (e Ephemeral) ActionIDs() []string { return actionIDs(e.Blocks) }

// HeaderText returns the text of the ephemeral's first header block, or "".
func (e Ephemeral) HeaderText() string { return headerText(e.Blocks) }

// View is a modal opened with views.open, as its latest views.update left
// it.
type View struct {
	ID              string
	TriggerID       string
	CallbackID      string
	Title           string
	PrivateMetadata string
	// Raw is the view as the client sent it.
	Raw  json.RawMessage
	Time time.Time
	// Hash is the view's current hash, which views.update must be given
	// (or none); Updates counts the updates, Updated is the latest's time.
	Hash    string
	Updates int
	Updated time.Time
}

// ResponsePost is an accepted post to a response URL.
type ResponsePost struct {
	Time    time.Time
	Channel string
	User    string
	// MessageTS is the source message the URL was issued for, if any.
	MessageTS       string
	ResponseType    string
	ReplaceOriginal bool
	DeleteOriginal  bool
	ThreadTS        string
	Text            string
	Blocks          json.RawMessage
}

// EventKind says what changed.
type EventKind string

// Event kinds.
const (
	EventPost      EventKind = "post"
	EventReply     EventKind = "reply"
	EventUpdate    EventKind = "update"
	EventDelete    EventKind = "delete"
	EventEphemeral EventKind = "ephemeral"
	EventView      EventKind = "view"
	EventReset     EventKind = "reset"
)

// Event tells a subscriber that something changed; read the server's
// accessors for the details.
type Event struct {
	Kind     EventKind
	Channel  string
	TS       string
	ThreadTS string
	// User is the recipient of an ephemeral message.
	User string
}

// subscriberBuffer is how many events a subscriber may fall behind by.
const subscriberBuffer = 256

// Subscribe returns a channel that receives an Event on every change, and a
// function that ends the subscription and closes the channel. A subscriber
// that falls more than 256 events behind misses the events that do not fit:
// treat an event as a cue to read the state, not as the state itself.
func (s *Server) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, subscriberBuffer)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[ch]; ok {
			delete(s.subs, ch)
			close(ch)
		}
	}
}

// emit sends ev to every subscriber without blocking; s.mu is held, which
// also keeps a cancelled subscriber's channel from being closed mid-send.
func (s *Server) emit(ev Event) {
	for ch := range s.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// Requests returns every request answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.requests)
}

// Violations returns the requests that ignored a Retry-After, in order.
func (s *Server) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.violations)
}

// Messages returns the top-level messages of channel in post order, with
// their replies and history.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs := s.st.messages[channel]
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		out[i] = m.snapshot()
	}
	return out
}

// Message returns the message (top-level or reply) with ts in channel.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.st.byKey[msgKey(channel, ts)]
	if !ok {
		return Message{}, false
	}
	return m.snapshot(), true
}

// Channels returns the channels that have messages, in order of their first
// message.
func (s *Server) Channels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.channelOrder)
}

// Ephemerals returns the ephemeral messages sent in channel, to any user, in
// order.
func (s *Server) Ephemerals(channel string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ephemeral
	for _, e := range s.st.ephemerals {
		if e.Channel == channel {
			e.Blocks = slices.Clone(e.Blocks)
			out = append(out, e)
		}
	}
	return out
}

// Views returns the modals opened, in order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.st.views)
	for i := range out {
		out[i].Raw = slices.Clone(out[i].Raw)
	}
	return out
}

// ResponsePosts returns the accepted response URL posts, in order.
func (s *Server) ResponsePosts() []ResponsePost {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.st.responsePosts)
	for i := range out {
		out[i].Blocks = slices.Clone(out[i].Blocks)
	}
	return out
}

// message is a stored message; its Replies and History are kept in the
// fields below rather than in m.
type message struct {
	m       Message
	history []Message
	replies []*message
	parent  *message
}

func msgKey(channel, ts string) string { return channel + "\x00" + ts }

// snapshot returns a deep copy for callers outside the lock.
func (m *message) snapshot() Message {
	out := m.m
	out.Blocks = slices.Clone(m.m.Blocks)
	out.History = make([]Message, len(m.history))
	for i, h := range m.history {
		h.Blocks = slices.Clone(h.Blocks)
		out.History[i] = h
	}
	out.Replies = make([]Message, len(m.replies))
	for i, r := range m.replies {
		out.Replies[i] = r.snapshot()
	}
	return out
}

// addMessage stores a new message or, with a parent, a thread reply.
func (s *Server) addMessage(m Message, parent *message) *message {
	stored := &message{m: m, parent: parent}
	if parent != nil {
		parent.replies = append(parent.replies, stored)
	} else {
		if _, ok := s.st.messages[m.Channel]; !ok {
			s.st.channelOrder = append(s.st.channelOrder, m.Channel)
		}
		s.st.messages[m.Channel] = append(s.st.messages[m.Channel], stored)
	}
	s.st.byKey[msgKey(m.Channel, m.TS)] = stored
	kind := EventPost
	if parent != nil {
		kind = EventReply
	}
	s.emit(Event{Kind: kind, Channel: m.Channel, TS: m.TS, ThreadTS: m.ThreadTS})
	return stored
}

// editMessage replaces a message's text and blocks, keeping the old version.
func (s *Server) editMessage(stored *message, text string, blocks json.RawMessage, now time.Time) {
	prev := stored.m
	prev.History, prev.Replies = nil, nil
	stored.history = append(stored.history, prev)
	stored.m.Text = text
	stored.m.Blocks = blocks
	stored.m.Edits++
	stored.m.Edited = now
	s.emit(Event{Kind: EventUpdate, Channel: stored.m.Channel, TS: stored.m.TS, ThreadTS: stored.m.ThreadTS})
}

// lookup finds a message that has not been deleted.
func (s *Server) lookup(channel, ts string) *message {
	m, ok := s.st.byKey[msgKey(channel, ts)]
	if !ok || m.m.Deleted {
		return nil
	}
	return m
}

// threadParent returns the message whose thread a reply to ts joins: the
// message itself, or its parent when ts is a reply, since Slack threads are
// one level deep.
func (s *Server) threadParent(channel, ts string) *message {
	m := s.lookup(channel, ts)
	if m != nil && m.parent != nil {
		return m.parent
	}
	return m
}

// parsedBlock is the part of a block the recording helpers read.
type parsedBlock struct {
	Type      string          `json:"type"`
	BlockID   string          `json:"block_id"`
	Text      json.RawMessage `json:"text"`
	Accessory *struct {
		ActionID string `json:"action_id"`
	} `json:"accessory"`
	Element *struct {
		ActionID string `json:"action_id"`
	} `json:"element"`
	Elements []struct {
		ActionID string `json:"action_id"`
	} `json:"elements"`
}

func parseBlocks(raw json.RawMessage) []parsedBlock {
	var bs []parsedBlock
	if json.Unmarshal(raw, &bs) != nil {
		return nil
	}
	return bs
}

func actionIDs(raw json.RawMessage) []string {
	var ids []string
	for _, b := range parseBlocks(raw) {
		if b.Accessory != nil && b.Accessory.ActionID != "" {
			ids = append(ids, b.Accessory.ActionID)
		}
		if b.Element != nil && b.Element.ActionID != "" {
			ids = append(ids, b.Element.ActionID)
		}
		for _, e := range b.Elements {
			if e.ActionID != "" {
				ids = append(ids, e.ActionID)
			}
		}
	}
	return ids
}

func blockIDs(raw json.RawMessage) []string {
	bs := parseBlocks(raw)
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.BlockID
	}
	return ids
}

func headerText(raw json.RawMessage) string {
	for _, b := range parseBlocks(raw) {
		if b.Type != "header" {
			continue
		}
		var t struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(b.Text, &t) == nil {
			return t.Text
		}
		return ""
	}
	return ""
}

func runeCount(s string) int { return utf8.RuneCountInString(s) }
