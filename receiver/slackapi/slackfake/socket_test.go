package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

const testAppToken = "xapp-1-A0SLACKFAKE-1-secret"

func TestConnectionsOpen(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		wantErr string
	}{
		{name: "app token", token: testAppToken},
		{name: "no token", wantErr: "not_authed"},
		{name: "bot token", token: testToken, wantErr: "not_allowed_token_type"},
		{name: "other app token", token: "xapp-1-other", wantErr: "invalid_auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Token: testToken, AppToken: testAppToken, Now: fixedClock})
			req := httptest.NewRequest(http.MethodPost, "http://fake.test:8080/api/apps.connections.open", nil)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			res := do(t, s, req)
			if tt.wantErr != "" {
				if diff := cmp.Diff(res.body, slackErr(tt.wantErr)); diff != "" {
					t.Errorf("answer (-got +want):\n%s", diff)
				}
				return
			}
			u, _ := res.body["url"].(string)
			if res.body["ok"] != true || !strings.HasPrefix(u, "ws://fake.test:8080/socket/") {
				t.Errorf("answer = %v, want a ws:// URL on the request's host", res.body)
			}
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].Method != "apps.connections.open" || reqs[0].Status != http.StatusOK {
				t.Errorf("requests = %+v", reqs)
			}
		})
	}
}

// TestConnectionsOpenMounted checks that the WebSocket URL keeps the path
// under which the fake is mounted.
func TestConnectionsOpenMounted(t *testing.T) {
	s := New(Options{})
	mux := http.NewServeMux()
	mux.Handle("/slack/", http.StripPrefix("/slack", s))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	api := slack.New(testToken, slack.OptionAppLevelToken(testAppToken), slack.OptionAPIURL(s.APIURL(srv.URL+"/slack")))
	_, u, err := api.StartSocketModeContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := "ws" + strings.TrimPrefix(srv.URL, "http") + "/slack/socket/"
	if !strings.HasPrefix(u, want) {
		t.Fatalf("URL = %q, want prefix %q", u, want)
	}
	ws, _, err := websocket.DefaultDialer.DialContext(t.Context(), u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	defer ws.Close()
	var hello map[string]any
	if err := ws.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("first message = %v, %v; want hello", hello, err)
	}
	// A URL admits one connection.
	if _, resp, err := websocket.DefaultDialer.DialContext(t.Context(), u, nil); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("second dial of the same URL: %v, want 404", err)
	}
}

func TestSocketSendWithoutConnection(t *testing.T) {
	s := New(Options{})
	if _, err := s.SocketSend(EnvelopeEventsAPI, map[string]any{}); !errors.Is(err, ErrNoSocket) {
		t.Errorf("SocketSend() = %v, want ErrNoSocket", err)
	}
	if err := s.SocketDisconnect("warning", time.Second); !errors.Is(err, ErrNoSocket) {
		t.Errorf("SocketDisconnect() = %v, want ErrNoSocket", err)
	}
}

// socketClient runs slack-go's Socket Mode client against s and acks every
// request: interactive and slash command envelopes with a payload naming
// their type, others without one.
func socketClient(t *testing.T, s *Server, srv *httptest.Server) {
	t.Helper()
	api := slack.New(testToken, slack.OptionAppLevelToken(testAppToken),
		slack.OptionAPIURL(s.APIURL(srv.URL)), slack.OptionHTTPClient(srv.Client()))
	client := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- client.RunContext(ctx) }()
	acks := make(chan struct{})
	go func() {
		defer close(acks)
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-client.Events:
				if ev.Request == nil || ev.Request.EnvelopeID == "" {
					continue
				}
				var payload any
				if ev.Request.AcceptsResponsePayload {
					payload = map[string]string{"text": string(ev.Type)}
				}
				if err := client.AckCtx(ctx, ev.Request.EnvelopeID, payload); err != nil && ctx.Err() == nil {
					t.Errorf("ack: %v", err)
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		<-acks
	})
}

func TestSocketMode(t *testing.T) {
	s := New(Options{Token: testToken, AppToken: testAppToken})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(s.CloseSockets)
	socketClient(t, s, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := s.WaitSocketConnects(ctx, 1); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		envelope string
		payload  any
		want     string // the ack's payload
	}{
		{EnvelopeInteractive, json.RawMessage(`{"type":"block_actions","actions":[]}`), `{"text":"interactive"}`},
		{EnvelopeSlashCommands, map[string]string{"command": "/amslack", "text": "help"}, `{"text":"slash_commands"}`},
		{EnvelopeEventsAPI, json.RawMessage(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention","channel":"C1","ts":"1.2"}}`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.envelope, func(t *testing.T) {
			id, err := s.SocketSend(tt.envelope, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.WaitSocketAck(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("ack payload = %s, want %q", got, tt.want)
			}
		})
	}

	// Slack asks the client to reconnect; it opens a new connection, and
	// envelopes flow over that one.
	if err := s.SocketDisconnect("refresh_requested", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitSocketConnects(ctx, 2); err != nil {
		t.Fatal(err)
	}
	id, err := s.SocketSend(EnvelopeEventsAPI, json.RawMessage(`{"type":"event_callback","event_id":"Ev2","event":{"type":"app_mention"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitSocketAck(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.SocketAck("not-sent"); ok {
		t.Error("SocketAck of an envelope never sent reports an acknowledgement")
	}
}

func TestFunctionComplete(t *testing.T) {
	s, api, _ := newSlackGo(t, Options{Token: testToken, Now: fixedClock})
	ctx := t.Context()
	var slackErr slack.SlackErrorResponse

	if err := api.FunctionCompleteSuccessContext(ctx, "Fx1",
		slack.FunctionCompleteSuccessRequestOptionOutput(map[string]string{"silence_id": "abc"})); err != nil {
		t.Fatalf("completeSuccess: %v", err)
	}
	if err := api.FunctionCompleteErrorContext(ctx, "Fx2", "Alertmanager is down"); err != nil {
		t.Fatalf("completeError: %v", err)
	}
	errs := map[string]error{
		"twice":           api.FunctionCompleteErrorContext(ctx, "Fx1", "again"),
		"no outputs":      api.FunctionCompleteSuccessContext(ctx, "Fx3"),
		"no execution id": api.FunctionCompleteErrorContext(ctx, "", "x"),
		"no error":        api.FunctionCompleteErrorContext(ctx, "Fx4", ""),
	}
	want := map[string]string{
		"twice":           "execution_not_in_running_state",
		"no outputs":      "parameter_validation_failed",
		"no execution id": "invalid_arguments",
		"no error":        "invalid_arguments",
	}
	for name, err := range errs {
		if !errors.As(err, &slackErr) || slackErr.Err != want[name] {
			t.Errorf("%s: %v, want %s", name, err, want[name])
		}
	}
	wantDone := []FunctionCompletion{
		{Time: t0, ExecutionID: "Fx1", Success: true, Outputs: map[string]string{"silence_id": "abc"}},
		{Time: t0, ExecutionID: "Fx2", Error: "Alertmanager is down"},
	}
	if diff := cmp.Diff(s.FunctionCompletions(), wantDone); diff != "" {
		t.Errorf("completions (-got +want):\n%s", diff)
	}
}
