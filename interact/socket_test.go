package interact

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// runSocketMode runs the handler's Socket Mode against the fake Slack
// until the test ends, and waits for the first connection.
func runSocketMode(t *testing.T, e *env, ss *slackServer) {
	t.Helper()
	client := socketmode.New(ss.api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.h.RunSocketMode(ctx, client) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunSocketMode() = %v", err)
		}
	})
	wctx, wcancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer wcancel()
	if err := ss.fake.WaitSocketConnects(wctx, 1); err != nil {
		t.Fatal(err)
	}
}

// ack waits for the acknowledgement of envelope id and returns its payload.
func (s *slackServer) ack(t testing.TB, id string) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	p, err := s.fake.WaitSocketAck(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *slackServer) send(t testing.TB, typ string, payload any) string {
	t.Helper()
	id, err := s.fake.SocketSend(typ, payload)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSocketMode delivers a click, a dialog submission, a slash command and
// events over the fake Slack's WebSocket, and reconnects when Slack asks.
func TestSocketMode(t *testing.T) {
	ss := newSlackServer(t)
	am := &fakeAM{}
	e := newEnv(t, Options{Silences: am, Slack: ss.api})
	seedGroup(t, e.groups.Groups, nil)
	runSocketMode(t, e, ss)

	// A click: acknowledged without payload, then performed.
	id := ss.send(t, slackfake.EnvelopeInteractive, json.RawMessage(payload(t, clickSpec{action: "ack", responseURL: e.sink.url("ack")})))
	if p := ss.ack(t, id); p != nil {
		t.Errorf("click ack payload = %s, want none", p)
	}
	if got := e.sink.next(t); !strings.HasPrefix(got, "Acknowledged.") {
		t.Errorf("click reply = %q", got)
	}

	// A dialog submission with a bad field: the errors ride on the ack.
	sub := map[string]any{
		"type": "view_submission",
		"user": map[string]any{"id": "U0002BOB", "name": "bob"},
		"view": map[string]any{
			"id": "V0001", "callback_id": silenceViewID,
			"private_metadata": `{"team":"T0001TEAM","channel":"C0001ALERTS","ts":"1764425522.000100"}`,
			"state": map[string]any{"values": map[string]any{
				durationBlockID: map[string]any{durationBlockID: map[string]any{"type": "plain_text_input", "value": "soon"}},
			}},
		},
	}
	var errs slack.ViewSubmissionResponse
	if err := json.Unmarshal(ss.ack(t, ss.send(t, slackfake.EnvelopeInteractive, sub)), &errs); err != nil {
		t.Fatal(err)
	}
	if errs.ResponseAction != slack.RAErrors || errs.Errors[durationBlockID] == "" {
		t.Errorf("submission ack = %+v, want field errors", errs)
	}

	// A slash command: the answer is the ack's payload.
	cmd := map[string]any{
		"command": "/amslack", "text": "alerts", "user_id": "U0001ALICE", "user_name": "alice",
		"team_id": testTeam, "team_domain": "example", "channel_id": testChannel,
	}
	var reply CommandReply
	if err := json.Unmarshal(ss.ack(t, ss.send(t, slackfake.EnvelopeSlashCommands, cmd)), &reply); err != nil {
		t.Fatal(err)
	}
	if reply.ResponseType != "ephemeral" || !strings.HasPrefix(reply.Text, "🔴 *DiskFull* (cluster=prod) — 2 firing in <#C0001ALERTS>") ||
		!strings.Contains(reply.Text, "acked by <@U0001ALICE>") {
		t.Errorf("command answer = %+v", reply)
	}

	// An event: acknowledged, then answered through the Web API.
	_, parent, err := ss.api.PostMessageContext(t.Context(), testChannel, slack.MsgOptionText("DiskFull firing", false))
	if err != nil {
		t.Fatal(err)
	}
	if p := ss.ack(t, ss.send(t, slackfake.EnvelopeEventsAPI, json.RawMessage(mention(t, "Ev1", parent)))); p != nil {
		t.Errorf("event ack payload = %s, want none", p)
	}
	ss.waitFor(t, "reply to the mention", func() bool {
		m, ok := ss.fake.Message(testChannel, parent)
		return ok && len(m.Replies) == 1
	})
	// An event slack-go cannot decode is acknowledged all the same.
	ss.ack(t, ss.send(t, slackfake.EnvelopeEventsAPI, json.RawMessage(`{"type":"event_callback","event_id":"Ev2","event":{"type":"never_heard_of"}}`)))

	// Slack asks for a reconnection: the handler opens a new connection
	// and keeps working over it.
	if err := ss.fake.SocketDisconnect("refresh_requested", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := ss.fake.WaitSocketConnects(ctx, 2); err != nil {
		t.Fatal(err)
	}
	cmd["text"] = "help"
	if err := json.Unmarshal(ss.ack(t, ss.send(t, slackfake.EnvelopeSlashCommands, cmd)), &reply); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply.Text, "`/amslack silences`") {
		t.Errorf("help after reconnecting = %q", reply.Text)
	}
	if got := counterValue(t, e, "amslack_socket_mode_connects_total", nil); got != 2 {
		t.Errorf("connects = %v, want 2", got)
	}
	got := map[string]float64{}
	for _, typ := range []string{envelopeInteractive, envelopeSlashCommands, envelopeEventsAPI, envelopeUnreadable} {
		got[typ] = counterValue(t, e, "amslack_socket_mode_envelopes_total", map[string]string{"type": typ})
	}
	want := map[string]float64{envelopeInteractive: 2, envelopeSlashCommands: 2, envelopeEventsAPI: 1, envelopeUnreadable: 1}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("envelopes (-got +want):\n%s", diff)
	}
}

// TestSocketModeBadToken returns the client's error when Slack refuses the
// app-level token, and keeps the token out of it.
func TestSocketModeBadToken(t *testing.T) {
	ss := newSlackServer(t)
	e := newEnv(t, Options{Slack: ss.api})
	api := slack.New(testBotToken, slack.OptionAPIURL(ss.fake.APIURL(ss.srv.URL)),
		slack.OptionAppLevelToken("xapp-1-wrong-token"), slack.OptionHTTPClient(ss.srv.Client()))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err := e.h.RunSocketMode(ctx, socketmode.New(api))
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("RunSocketMode() = %v, want invalid_auth without the token", err)
	}
}
