package interact

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// FuzzSocketEnvelope sends arbitrary Socket Mode envelopes over a real
// WebSocket from the fake Slack to a running handler. slack-go decodes each
// envelope and amslack handles what it makes of it, or of the bytes it
// could not decode. After every input a slash command must still be
// answered: a panic ends the fuzzer, and a handler that stalls or drops the
// connection fails the input.
func FuzzSocketEnvelope(f *testing.F) {
	// Slack sends payloads in these three envelope types; the others
	// (hello, disconnect) are control messages without one.
	types := []string{slackfake.EnvelopeInteractive, slackfake.EnvelopeSlashCommands, slackfake.EnvelopeEventsAPI}
	for _, seed := range []struct {
		typ  uint8
		file string
	}{
		{0, "testdata/block-actions-button.json"},
		{0, "testdata/block-actions-select.json"},
		{2, "testdata/event-app-mention.json"},
		{2, "testdata/event-function-executed.json"},
		{2, "testdata/event-url-verification.json"},
	} {
		b, err := os.ReadFile(seed.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed.typ, b)
	}
	form, err := os.ReadFile("testdata/slash-command.form")
	if err != nil {
		f.Fatal(err)
	}
	vals, err := url.ParseQuery(string(form))
	if err != nil {
		f.Fatal(err)
	}
	cmd := map[string]string{}
	for k := range vals {
		cmd[k] = vals.Get(k)
	}
	cmdJSON, err := json.Marshal(cmd)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(1), cmdJSON)
	f.Add(uint8(0), []byte(`{"type":"view_submission","view":{"callback_id":"`+silenceViewID+`","private_metadata":"{"}}`))
	f.Add(uint8(2), []byte(`{"type":"event_callback","event":{"type":"never_heard_of"}}`))
	f.Add(uint8(1), []byte(`{}`))

	ss := newSlackServer(f)
	e := newEnv(f, Options{Silences: &fakeAM{}, Slack: ss.api})
	seedGroup(f, e.groups.Groups, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.h.RunSocketMode(ctx, socketmode.New(ss.api)) }()
	f.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := ss.fake.WaitSocketConnects(wctx, 1); err != nil {
		f.Fatal(err)
	}
	help := map[string]any{
		"command": "/amslack", "text": "help", "user_id": "U0001ALICE", "user_name": "alice",
		"team_id": testTeam, "team_domain": "example", "channel_id": testChannel,
	}

	f.Fuzz(func(t *testing.T, typeIndex uint8, payload []byte) {
		typ := types[int(typeIndex)%len(types)]
		if !json.Valid(payload) {
			// The envelope carries the payload as JSON; Slack sends
			// nothing else.
			t.Skip()
		}
		if _, err := ss.fake.SocketSend(typ, json.RawMessage(payload)); err != nil {
			t.Fatal(err)
		}
		id, err := ss.fake.SocketSend(slackfake.EnvelopeSlashCommands, help)
		if err != nil {
			t.Fatal(err)
		}
		actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer acancel()
		if _, err := ss.fake.WaitSocketAck(actx, id); err != nil {
			t.Fatalf("after a %q envelope the handler no longer answers: %v", typ, err)
		}
	})
}
