package interact

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/amslack/amslack/receiver/alertgroup"
	"github.com/amslack/amslack/render"
)

// TestCommandSilence opens the silence preview with /amslack silence: the
// matchers, end and comment typed are in it, the channel's own alerts are
// not outside it, and its submission creates the silence. Bad matchers are
// named in the answer, which points at the help; a user the silence rule
// does not name gets no preview.
func TestCommandSilence(t *testing.T) {
	am := &fakeAM{}
	for _, a := range loadMessage(t).Alerts {
		am.alerts = append(am.alerts, amclientAlert(a.Labels, a.Fingerprint))
	}
	p := newPreviewEnv(t, Options{Silences: am, Silence: Rule{Users: []string{"U0002BOB"}}})
	seedGroup(t, p.groups.Groups, nil)

	if got := p.commandAs(t, "U0002BOB", `silence alertname="DiskFull" cluster = "prod" for 4h disk swap`); got.Text != render.CommandPreviewOpening {
		t.Fatalf("answer = %q", got.Text)
	}
	v := p.waitView(t, 0)
	bs := viewBlocks(t, v)
	for id, want := range map[string]string{
		render.PreviewMatchersID: `alertname="DiskFull", cluster="prod"`,
		render.PreviewEndID:      "4h",
		render.PreviewCommentID:  "disk swap",
	} {
		if bs[id] != want {
			t.Errorf("%s = %q, want %q", id, bs[id], want)
		}
	}
	if !strings.Contains(bs["preview_scope"], "/amslack silence") || previewCount(t, v) != 2 {
		t.Errorf("preview = %v, want the command's with the channel's 2 alerts", bs)
	}
	if _, ok := bs["preview_warning"]; ok {
		t.Errorf("the channel's own alerts show a warning: %q", bs["preview_warning"])
	}
	var meta previewMetadata
	if err := json.Unmarshal([]byte(v.PrivateMetadata), &meta); err != nil || meta.Source != previewFromCommand || meta.TS != "" || meta.Zone != bobTZ {
		t.Errorf("metadata = %+v, %v", meta, err)
	}
	in := inputs{render.PreviewMatchersID: bs[render.PreviewMatchersID], render.PreviewEndID: "4h", render.PreviewCommentID: "disk swap"}
	if errs := p.submit(t, v, in); errs != nil {
		t.Fatalf("submission answered %v", errs)
	}
	if got := p.sink.next(t); !strings.HasPrefix(got, "Silenced 2 alerts until ") {
		t.Errorf("reply = %q", got)
	}
	cs := am.creates()
	if len(cs) != 1 || !strings.HasPrefix(cs[0].Comment, "Silenced from Slack with /amslack silence in channel "+testChannel) ||
		!strings.HasSuffix(cs[0].Comment, "\ndisk swap") {
		t.Fatalf("silences created = %+v", cs)
	}
	if got := cs[0].EndsAt.Sub(cs[0].StartsAt); got != 4*60*60*1e9 {
		t.Errorf("silence lasts %v, want 4h", got)
	}

	for _, tc := range []struct{ text, want string }{
		{`silence alertname="DiskFull", cluster=~"prod(" for 2h`, `amslack: "cluster=~\"prod(\"" is not a valid matcher`},
		{`silence DiskFull`, `amslack: "DiskFull" is not a valid matcher`},
		{`silence alertname="DiskFull" for ever`, `amslack: "ever" is not a duration`},
	} {
		got := p.commandAs(t, "U0002BOB", tc.text).Text
		if !strings.HasPrefix(got, tc.want) || !strings.HasSuffix(got, "See `/amslack help`.") {
			t.Errorf("answer to %q = %q, want it to start with %q and point at the help", tc.text, got, tc.want)
		}
	}

	if got := p.commandAs(t, "U0001ALICE", `silence alertname="DiskFull" for 1h`); got.Text != render.CommandPreviewOpening {
		t.Fatalf("answer = %q", got.Text)
	}
	if got := p.sink.next(t); got != reasonNotAllowed {
		t.Errorf("reply to alice = %q, want %q", got, reasonNotAllowed)
	}
	if n := len(p.fake.Views()); n != 1 {
		t.Errorf("%d previews opened, want bob's only", n)
	}
}

// TestCommandUnsilence expires a silence made from the message with
// /amslack unsilence <id>: the message no longer shows it, and the rule's
// users alone may do it.
func TestCommandUnsilence(t *testing.T) {
	am, c, _ := startAlertmanager(t)
	p := newPreviewEnv(t, Options{Silences: c, Silence: Rule{Users: []string{"U0002BOB"}}})
	seedGroup(t, p.groups.Groups, nil)
	p.post(t, clickSpec{action: ActionSilence, value: "1h", user: "U0002BOB", name: "bob", responseURL: p.sink.url("s")})
	if got := p.sink.next(t); !strings.HasPrefix(got, "Silenced for 1h") {
		t.Fatalf("silence reply = %q", got)
	}
	id := getGroup(t, p.groups).State.Silenced.SilenceID

	for _, tc := range []struct{ user, text, answer, reply string }{
		{"U0002BOB", "unsilence", "amslack: give the id of the silence to expire", ""},
		{"U0002BOB", "unsilence a b", `amslack: give the id of the silence to expire, such as unsilence 0f1e2d3c-…; "a b" is not one`, ""},
		{"U0002BOB", "unsilence 00000000-0000-0000-0000-000000000000", render.CommandUnsilencing("00000000-0000-0000-0000-000000000000"),
			render.UnknownSilenceReply("00000000-0000-0000-0000-000000000000")},
		{"U0001ALICE", "unsilence " + id, render.CommandUnsilencing(id), reasonNotAllowed},
		{"U0002BOB", "unsilence " + id, render.CommandUnsilencing(id), render.UnsilencedReply(id)},
		{"U0002BOB", "unsilence " + id, render.CommandUnsilencing(id), render.SilenceAlreadyExpiredReply(id)},
	} {
		if got := p.commandAs(t, tc.user, tc.text).Text; !strings.HasPrefix(got, tc.answer) {
			t.Errorf("answer to %s's %q = %q, want %q", tc.user, tc.text, got, tc.answer)
		}
		if tc.reply == "" {
			continue
		}
		if got := p.sink.next(t); got != tc.reply {
			t.Errorf("reply to %s's %q = %q, want %q", tc.user, tc.text, got, tc.reply)
		}
	}
	if st := am.Silence(t, id).Status.State; st != "expired" {
		t.Errorf("silence %s is %s after unsilence", id, st)
	}
	if m := getGroup(t, p.groups).State.Silenced; m != nil {
		t.Errorf("the message still shows the silence: %+v", m)
	}
	if got := p.refresh.count(); got != 2 {
		t.Errorf("messages refreshed %d times, want twice (silence, unsilence)", got)
	}
}

// TestCommandAlertsMatchers checks that /amslack alerts with matchers lists
// the channel's firing groups with an alert that the matchers match, and
// names a bad matcher.
func TestCommandAlertsMatchers(t *testing.T) {
	e := newEnv(t, Options{})
	seedGroup(t, e.groups.Groups, nil)
	seedKeyed(t, e.groups.Groups, "other-group", testChannel, "1764425600.000100", alertgroup.StatusFiring, func(g *alertgroup.Group) {
		g.Message.GroupLabels = map[string]string{"alertname": "HighLatency"}
		g.Message.CommonLabels = map[string]string{"alertname": "HighLatency"}
		for i := range g.Message.Alerts {
			g.Message.Alerts[i].Labels = map[string]string{"alertname": "HighLatency", "instance": "web-1"}
		}
	})
	for _, tc := range []struct{ text, want, not string }{
		{text: `alerts instance="db-2"`, want: "*DiskFull*", not: "HighLatency"},
		{text: `alerts instance=~"web-.*"`, want: "*HighLatency*", not: "DiskFull"},
		{text: `alerts`, want: "*DiskFull*"},
		{text: `alerts instance="db-9"`, want: render.CommandNoMatch(`instance="db-9"`)},
		{text: `alerts instance=~"db-("`, want: `amslack: "instance=~\"db-(\"" is not a valid matcher`},
	} {
		got := e.command(t, tc.text).Text
		if !strings.Contains(got, tc.want) || (tc.not != "" && strings.Contains(got, tc.not)) {
			t.Errorf("answer to %q = %q, want %q in it and not %q", tc.text, got, tc.want, tc.not)
		}
	}
}
