package interact

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// commandBody returns the slash command fixture with its text replaced.
func commandBody(t testing.TB, text string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/slash-command.form")
	if err != nil {
		t.Fatal(err)
	}
	form, err := url.ParseQuery(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	form.Set("text", text)
	return []byte(form.Encode())
}

// signedPost returns a POST to path signed at at with secret.
func signedPost(t testing.TB, path string, body []byte, at time.Time, secret string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	ts := strconv.FormatInt(at.Unix(), 10)
	r.Header.Set(HeaderSlackTimestamp, ts)
	r.Header.Set(HeaderSlackSignature, SlackSignature(secret, ts, body))
	return r
}

// command serves a signed slash command with text and returns the answer.
func (e *env) command(t testing.TB, text string) CommandReply {
	t.Helper()
	w := httptest.NewRecorder()
	e.h.ServeCommands(w, signedPost(t, "/slack/commands", commandBody(t, text), time.Now(), testSecret))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("ServeCommands() = %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	var reply CommandReply
	if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
		t.Fatalf("answer %q: %v", w.Body.String(), err)
	}
	if reply.ResponseType != "ephemeral" {
		t.Errorf("response_type = %q, want ephemeral", reply.ResponseType)
	}
	return reply
}

// seedKeyed stores the fixture's group under another group key, channel
// and message ts, firing or resolved, changed by mutate.
func seedKeyed(t testing.TB, st Groups, groupKey, channel, ts, status string, mutate func(g *alertgroup.Group)) {
	t.Helper()
	m := loadMessage(t)
	m.GroupKey = groupKey
	key := alertgroup.Key{Receiver: m.Receiver, GroupKey: groupKey, Channel: channel}
	_, err := st.Update(context.Background(), key, func(g *alertgroup.Group, _ bool) error {
		g.TS, g.Status, g.Message = ts, status, m
		g.Alerts = map[string]string{}
		for _, a := range m.Alerts {
			g.Alerts[a.Fingerprint] = status
		}
		if mutate != nil {
			mutate(g)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestServeCommands(t *testing.T) {
	now := time.Date(2025, 11, 29, 15, 0, 0, 0, time.UTC)
	bob := alertgroup.User{ID: "U0002BOB", Name: "bob"}
	help := "*amslack* posts Alertmanager alerts to Slack and acts on them.\n" +
		"`/amslack alerts [matchers]` lists the firing alert groups amslack posted in this channel, or those with an alert the matchers match.\n" +
		"`/amslack silences` lists this channel's alert groups silenced or acknowledged from Slack.\n" +
		"`/amslack silence <matchers> [for <duration>|until <time>] [comment]` opens a preview of the silence, with the alerts it would match, before you create it. " +
		"Matchers are Alertmanager's, such as `alertname=\"DiskFull\", instance=~\"db-.*\"`; a duration is like `2h` or `1d`, a time like `18:00` or `2025-12-24 18:00` on your clock.\n" +
		"`/amslack unsilence <id>` expires the Alertmanager silence with that id.\n" +
		"`/amslack help` shows this help."
	link := "<https://example.slack.com/archives/C0001ALERTS/p1764425522000100|message>"
	tests := []struct {
		name   string
		seed   func(t *testing.T, st Groups)
		text   string
		want   string
		result string
	}{
		{name: "empty text", text: "", want: help, result: subHelp},
		{name: "help", text: "help", want: help, result: subHelp},
		{name: "unknown", text: "Frobnicate <now>", result: subUnknown,
			want: "amslack: unknown command `frobnicate`.\n\n" + help},
		{name: "no alerts", text: "alerts", result: subAlerts, want: "No alert group amslack tracks is firing."},
		{name: "alerts", text: "  ALERTS ", result: subAlerts, seed: func(t *testing.T, st Groups) {
			seedGroup(t, st, func(g *alertgroup.Group) {
				g.State.Acked = &alertgroup.Mark{By: bob, At: now, Until: now.Add(15 * time.Minute), SilenceID: "ack-1"}
				g.State.Silenced = &alertgroup.Mark{By: bob, At: now, Until: now.Add(4 * time.Hour), SilenceID: "sil-1"}
			})
			seedKeyed(t, st, "resolved-group", "C0002OTHER", "1764425600.000100", alertgroup.StatusResolved, nil)
			// Another channel's group is not listed here: it may be private.
			seedKeyed(t, st, "webhook-group", "#ops", "", alertgroup.StatusFiring, func(g *alertgroup.Group) {
				g.Message.GroupLabels = map[string]string{"alertname": "Disk<Full> & co"}
				g.Message.CommonLabels["severity"] = "info"
				g.Alerts = map[string]string{"a": alertgroup.StatusFiring, "b": alertgroup.StatusResolved}
			})
		}, want: "🔴 *DiskFull* (cluster=prod) — 2 firing in <#C0001ALERTS> · " + link +
			" · ✋ acked by <@U0002BOB> · 🔕 silenced until 2025-11-29 19:00 UTC"},
		{name: "no silences", text: "silences", result: subSilences, seed: func(t *testing.T, st Groups) {
			seedGroup(t, st, func(g *alertgroup.Group) {
				// Expired marks do not count.
				g.State.Silenced = &alertgroup.Mark{By: bob, At: now.Add(-2 * time.Hour), Until: now.Add(-time.Hour)}
			})
		}, want: "No alert group is silenced or acknowledged from Slack."},
		{name: "silences", text: "silences", result: subSilences, seed: func(t *testing.T, st Groups) {
			seedGroup(t, st, func(g *alertgroup.Group) {
				g.State.Acked = &alertgroup.Mark{By: alertgroup.User{Name: "alice"}, At: now}
				g.State.Silenced = &alertgroup.Mark{By: bob, At: now, Until: now.Add(4 * time.Hour), SilenceID: "sil-1"}
			})
		}, want: "*DiskFull* (cluster=prod) in <#C0001ALERTS>: 🔕 silenced by <@U0002BOB> until 2025-11-29 19:00 UTC (silence `sil-1`); " +
			"✋ acknowledged by alice · " + link},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{Now: func() time.Time { return now }, Workers: -1})
			if tt.seed != nil {
				tt.seed(t, e.groups.Groups)
			}
			got := e.command(t, tt.text)
			if diff := cmp.Diff(got.Text, tt.want); diff != "" {
				t.Errorf("text (-got +want):\n%s", diff)
			}
			want := []AuditEntry{{
				Time: now, Team: testTeam, Channel: testChannel, UserID: "U0001ALICE", UserName: "alice",
				Action: ActionCommand, Value: strings.TrimSpace("/amslack " + tt.text), Decision: DecisionAllowed, Result: tt.result,
			}}
			if diff := cmp.Diff(e.audit.entries(t), want); diff != "" {
				t.Errorf("audit (-got +want):\n%s", diff)
			}
			if got := counterValue(t, e, "amslack_slack_commands_total", map[string]string{"subcommand": tt.result}); got != 1 {
				t.Errorf("amslack_slack_commands_total{subcommand=%q} = %v, want 1", tt.result, got)
			}
		})
	}
}

// TestCommandCaps lists more groups than an answer holds: at most 20
// lines, and at most 3800 characters when the lines are long.
func TestCommandCaps(t *testing.T) {
	tests := []struct {
		name      string
		alertname string
		wantLines int
	}{
		{name: "line cap", alertname: "DiskFull", wantLines: render.MaxCommandLines},
		// Long lines: fewer of them fit, however many that is.
		{name: "text cap", alertname: strings.Repeat("x", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{Workers: -1})
			for i := range 25 {
				seedKeyed(t, e.groups.Groups, fmt.Sprintf("group-%02d", i), testChannel, fmt.Sprintf("17644255%02d.000100", i), alertgroup.StatusFiring, func(g *alertgroup.Group) {
					g.Message.GroupLabels = map[string]string{"alertname": tt.alertname}
				})
			}
			text := e.command(t, "alerts").Text
			lines := strings.Split(text, "\n")
			if tt.wantLines == 0 {
				if len(lines) > render.MaxCommandLines {
					t.Fatalf("answer has %d lines, want fewer than %d", len(lines), render.MaxCommandLines+1)
				}
				tt.wantLines = len(lines) - 1
			}
			want := fmt.Sprintf("…and %d more", 25-tt.wantLines)
			if len(lines) != tt.wantLines+1 || lines[len(lines)-1] != want {
				t.Errorf("answer has %d lines ending %q, want %d and %q", len(lines), lines[len(lines)-1], tt.wantLines+1, want)
			}
			if n := len([]rune(text)); n > 4000 {
				t.Errorf("answer is %d characters, want at most 4000", n)
			}
		})
	}
}

// TestServeCommandsRejects checks the refusals, which touch nothing.
func TestServeCommandsRejects(t *testing.T) {
	good := commandBody(t, "alerts")
	now := time.Now()
	tests := []struct {
		name string
		req  func(t testing.TB) *http.Request
		want int
	}{
		{"bad signature", func(t testing.TB) *http.Request {
			return signedPost(t, "/slack/commands", good, now, "wrong-secret")
		}, http.StatusUnauthorized},
		{"stale timestamp", func(t testing.TB) *http.Request {
			return signedPost(t, "/slack/commands", good, now.Add(-6*time.Minute), testSecret)
		}, http.StatusUnauthorized},
		{"missing signature", func(t testing.TB) *http.Request {
			r := signedPost(t, "/slack/commands", good, now, testSecret)
			r.Header.Del(HeaderSlackSignature)
			return r
		}, http.StatusUnauthorized},
		{"body changed after signing", func(t testing.TB) *http.Request {
			r := signedPost(t, "/slack/commands", good, now, testSecret)
			changed := bytes.Replace(good, []byte("U0001ALICE"), []byte("U0009EVE"), 1)
			r2 := httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(changed))
			r2.Header = r.Header.Clone()
			return r2
		}, http.StatusUnauthorized},
		{"oversize", func(t testing.TB) *http.Request {
			return signedPost(t, "/slack/commands", append(bytes.Clone(good), bytes.Repeat([]byte("x"), 2048)...), now, testSecret)
		}, http.StatusRequestEntityTooLarge},
		{"malformed form", func(t testing.TB) *http.Request {
			return signedPost(t, "/slack/commands", []byte("command=%zz"), now, testSecret)
		}, http.StatusBadRequest},
		{"no command", func(t testing.TB) *http.Request {
			return signedPost(t, "/slack/commands", []byte("user_id=U1&text=alerts"), now, testSecret)
		}, http.StatusBadRequest},
		{"GET", func(t testing.TB) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/slack/commands", nil)
		}, http.StatusMethodNotAllowed},
		{"ssl_check", func(t testing.TB) *http.Request {
			// Unsigned, as the probe need not be: it gets an empty 200.
			r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader("ssl_check=1&token=x"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{MaxBodyBytes: int64(len(good) + 1024), Workers: -1})
			seedGroup(t, e.groups.Groups, nil)
			before := e.groups.count()
			w := httptest.NewRecorder()
			e.h.ServeCommands(w, tt.req(t))
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
			if tt.want == http.StatusOK && w.Body.Len() != 0 {
				t.Errorf("ssl_check answer = %q, want empty", w.Body.String())
			}
			if n := e.groups.count() - before; n != 0 {
				t.Errorf("store called %d times", n)
			}
			if got := e.audit.entries(t); len(got) != 0 {
				t.Errorf("audit lines written: %+v", got)
			}
		})
	}
}

func TestParseCommandFixture(t *testing.T) {
	b, err := os.ReadFile("testdata/slash-command.form")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCommand(bytes.TrimSpace(b))
	if err != nil {
		t.Fatal(err)
	}
	want := slack.SlashCommand{
		Token: "deprecated-verification-token", TeamID: testTeam, TeamDomain: "example",
		ChannelID: testChannel, ChannelName: "alerts", UserID: "U0001ALICE", UserName: "alice",
		Command: "/amslack", Text: "alerts", APIAppID: "A0001APP",
		ResponseURL: "https://hooks.slack.com/commands/T0001TEAM/0000000003/RESPONSEURLTOKEN",
		TriggerID:   "1111111113.2222222222.abcdef0123456789abcdef0123456789",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("ParseCommand() (-got +want):\n%s", diff)
	}
}

func FuzzParseCommand(f *testing.F) {
	b, err := os.ReadFile("testdata/slash-command.form")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.TrimSpace(b))
	f.Add([]byte("ssl_check=1&token=x"))
	f.Add([]byte("command=%2Famslack&user_id=U1&text=%E2%80%A6+silences"))
	f.Add([]byte("command=%zz"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cmd, err := ParseCommand(body)
		if err != nil {
			return
		}
		if cmd.Command == "" || cmd.UserID == "" {
			t.Errorf("ParseCommand(%q) accepted a command without command or user_id", body)
		}
		sub := subcommand(cmd.Text)
		if sub == "" || strings.ContainsAny(sub, " \t\n") {
			t.Errorf("subcommand(%q) = %q", cmd.Text, sub)
		}
		_ = render.CommandHelp(cmd.Command)
	})
}

// counterValue returns the value of a counter or gauge series.
func counterValue(t testing.TB, e *env, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			ls := map[string]string{}
			for _, l := range m.GetLabel() {
				ls[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if ls[k] != v {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}
