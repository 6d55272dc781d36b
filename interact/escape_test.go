package interact

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// hostileText is what a compromised or careless peer may answer: a
// channel-wide ping and a link whose label hides where it goes.
const hostileText = "<!channel> please <https://evil.example|log in> & check"

// checkEscaped fails unless text shows hostile markup as text: escaped,
// never as a ping or a link.
func checkEscaped(t testing.TB, what, text string) {
	t.Helper()
	checkNoMarkup(t, what, text)
	if !strings.Contains(text, "&lt;!channel&gt;") {
		t.Errorf("%s does not show the escaped text &lt;!channel&gt;: %q", what, text)
	}
}

// checkNoMarkup fails when text would ping the channel or link to the
// hostile site.
func checkNoMarkup(t testing.TB, what, text string) {
	t.Helper()
	for _, bad := range []string{"<!channel>", "<https://evil.example|"} {
		if strings.Contains(text, bad) {
			t.Errorf("%s carries %q unescaped: %q", what, bad, text)
		}
	}
}

// noteRefresher records the notes that become thread replies.
type noteRefresher struct {
	mu    sync.Mutex
	notes []string
}

func (n *noteRefresher) Refresh(_ context.Context, _ alertgroup.Key, _ string, notes ...string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notes = append(n.notes, notes...)
	return nil
}

func (n *noteRefresher) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.notes...)
}

// TestRunbookTextEscaped has an internal API answer with hostile text, in
// its detail or in an error body: neither the clicker's reply nor the
// thread reply may ping or link.
func TestRunbookTextEscaped(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"ok detail", http.StatusOK, `{"ok":true,"detail":"` + hostileText + `"}`},
		{"not ok detail", http.StatusOK, `{"ok":false,"detail":"` + hostileText + `"}`},
		{"4xx detail", http.StatusConflict, `{"ok":false,"detail":"` + hostileText + `"}`},
		{"5xx plain body", http.StatusBadGateway, hostileText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			e := newEnv(t, Options{Actions: []Action{{
				ID: "approve_restart", Label: "Approve restart", URL: srv.URL,
				Allow: Rule{Users: []string{"U0001ALICE"}}, Secret: "s",
			}}})
			notes := &noteRefresher{}
			// Set before the first click reaches a worker.
			e.h.refresher = notes
			e.h.caller.backoff = time.Millisecond
			seedGroup(t, e.groups.Groups, nil)
			e.post(t, clickSpec{action: "approve_restart", user: "U0001ALICE", name: "alice", responseURL: e.sink.url("x")})
			checkEscaped(t, "ephemeral reply", e.sink.next(t))
			e.stop()
			got := notes.all()
			if len(got) != 1 {
				t.Fatalf("thread notes = %q, want one", got)
			}
			checkEscaped(t, "thread reply", got[0])
		})
	}
}

// TestAlertmanagerErrorEscaped has a real Alertmanager refuse a silence
// with an answer that repeats a hostile label name.
func TestAlertmanagerErrorEscaped(t *testing.T) {
	_, c, _ := startAlertmanager(t)
	for _, action := range []string{"silence", "ack"} {
		t.Run(action, func(t *testing.T) {
			e := newEnv(t, Options{Silences: c})
			seedGroup(t, e.groups.Groups, func(g *alertgroup.Group) {
				g.Message.CommonLabels[hostileText] = "x"
			})
			e.post(t, clickSpec{action: action, value: "1h", responseURL: e.sink.url(action)})
			reply := e.sink.next(t)
			if !strings.Contains(reply, "400 Bad Request") {
				t.Errorf("reply = %q, want Alertmanager's 400 answer in it", reply)
			}
			checkEscaped(t, "ephemeral reply", reply)
		})
	}
}

// TestCommandReplyEscaped answers /amslack with stored marks and a
// workspace domain that carry markup.
func TestCommandReplyEscaped(t *testing.T) {
	now := time.Date(2025, 11, 29, 16, 31, 0, 0, time.UTC)
	e := newEnv(t, Options{Now: func() time.Time { return now }, Workers: -1})
	hostile := alertgroup.User{ID: "<!channel>", Name: "<https://evil.example|log in>"}
	seedGroup(t, e.groups.Groups, func(g *alertgroup.Group) {
		g.State.Acked = &alertgroup.Mark{By: hostile, At: now, Until: now.Add(time.Hour)}
		g.State.Silenced = &alertgroup.Mark{By: hostile, At: now, Until: now.Add(time.Hour), SilenceID: hostileText}
	})
	for _, sub := range []string{"alerts", "silences"} {
		t.Run(sub, func(t *testing.T) {
			cmd, err := ParseCommand(commandBody(t, sub))
			if err != nil {
				t.Fatal(err)
			}
			cmd.TeamDomain = "evil.example|log in><!channel><x"
			reply := e.h.Command(t.Context(), cmd)
			checkNoMarkup(t, "command reply", reply.Text)
			// The person is named by the text they go by, escaped.
			if !strings.Contains(reply.Text, "by &lt;https://evil.example|log in&gt;") {
				t.Errorf("command reply %q does not name the person by their escaped name", reply.Text)
			}
		})
	}
}
