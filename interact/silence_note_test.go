package interact

import (
	"regexp"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// withNotes makes e's handler record its thread notes in the returned
// refresher (see TestRunbookTextEscaped). It must be called before the
// first click: each click reaches the workers through the handler's queue,
// after this write.
func withNotes(e *env) *noteRefresher {
	r := &noteRefresher{}
	e.h.refresher = r
	return r
}

// TestSilenceNoteNamesMatchers checks that the thread note of a silence
// says what was silenced: its matchers, as Alertmanager writes them.
func TestSilenceNoteNamesMatchers(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		mutate func(g *alertgroup.Group)
		want   string
	}{
		{
			name: "common labels",
			want: `^🔕 Silenced by <@U0002BOB> for 1h, until \d{4}-\d\d-\d\d \d\d:\d\d UTC: alertname="DiskFull", cluster="prod"$`,
		},
		{
			name: "group labels",
			mode: SilenceMatchersGroup,
			mutate: func(g *alertgroup.Group) {
				g.Message.GroupLabels = map[string]string{"alertname": "DiskFull"}
			},
			want: `^🔕 Silenced by <@U0002BOB> for 1h, until .* UTC: alertname="DiskFull"$`,
		},
		{
			name: "markup and quotes in values",
			mutate: func(g *alertgroup.Group) {
				g.Message.CommonLabels = map[string]string{"alertname": "DiskFull", "team": `<!channel> "db" & co`}
			},
			want: `^🔕 Silenced by <@U0002BOB> for 1h, until .* UTC: alertname="DiskFull", team="&lt;!channel&gt; \\"db\\" &amp; co"$`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			am := &fakeAM{}
			e := newEnv(t, Options{Silences: am, SilenceMatchers: tt.mode, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
			notes := withNotes(e)
			seedGroup(t, e.groups.Groups, tt.mutate)
			e.post(t, clickSpec{action: "silence", value: "1h", user: "U0002BOB", name: "bob", responseURL: e.sink.url("s")})
			e.sink.next(t)
			got := notes.all()
			if len(got) != 1 || !regexp.MustCompile(tt.want).MatchString(got[0]) {
				t.Errorf("notes = %q, want one matching %s", got, tt.want)
			}
		})
	}
}

// TestSilenceNoteWithAlertmanager silences through a real Alertmanager and
// checks that the note lists the matchers Alertmanager stored.
func TestSilenceNoteWithAlertmanager(t *testing.T) {
	am, c, _ := startAlertmanager(t)
	e := newEnv(t, Options{Silences: c})
	notes := withNotes(e)
	seedGroup(t, e.groups.Groups, nil)
	e.post(t, clickSpec{action: "silence", value: "4h", user: "U0002BOB", name: "bob", responseURL: e.sink.url("s")})
	e.sink.next(t)
	mark := getGroup(t, e.groups).State.Silenced
	if mark == nil {
		t.Fatal("not silenced")
	}
	var want string
	for i, m := range am.Silence(t, mark.SilenceID).Matchers {
		if i > 0 {
			want += ", "
		}
		want += m.Name + `="` + m.Value + `"`
	}
	got := notes.all()
	if len(got) != 1 || !regexp.MustCompile(`^🔕 Silenced by <@U0002BOB> for 4h, until .* UTC: `+regexp.QuoteMeta(want)+`$`).MatchString(got[0]) {
		t.Errorf("notes = %q, want the matchers %s", got, want)
	}
}
