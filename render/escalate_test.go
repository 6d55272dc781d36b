package render

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// TestRenderEscalated checks that the message's state shows the last
// escalation step that fired, and how long ago, as Slack keeps it current.
func TestRenderEscalated(t *testing.T) {
	in := inputOf(loadPayload(t, "v035-firing.json"))
	at := in.Now.Add(-5 * time.Minute)
	in.State.Escalated = []alertgroup.Escalation{
		{Step: 0, Mention: "<!subteam^S0ONCALL>", At: at.Add(-10 * time.Minute)},
		{Step: 1, Mention: "<@U0LEAD>", At: at},
	}
	m := Render(withControls(in))
	want := "📣 Escalated to <@U0LEAD> · " + slackAgo(at, in.Now)
	if diff := cmp.Diff(contextTexts(m, blockState), []string{want}); diff != "" {
		t.Errorf("state (-got +want):\n%s", diff)
	}
}

func TestEscalatedNote(t *testing.T) {
	p := loadPayload(t, "v035-firing.json")
	p.Data.GroupLabels["alertname"] = "<!channel> *Disk*"
	got := EscalatedNote("<!subteam^S0ONCALL>", p.Data, p.GroupKey, 15*time.Minute)
	want := "📣 Escalated to <!subteam^S0ONCALL>: &lt;!channel&gt; *Disk* has been firing for 15m, unacknowledged"
	if got != want {
		t.Errorf("EscalatedNote() = %q\nwant %q", got, want)
	}
}

func TestParseNote(t *testing.T) {
	for _, tc := range []struct {
		note              string
		text              string
		urgent, broadcast bool
	}{
		{"👀 Acknowledged", "👀 Acknowledged", false, false},
		{UrgentNote("📣 Escalated", false), "📣 Escalated", true, false},
		{UrgentNote("📣 Escalated", true), "📣 Escalated", true, true},
	} {
		text, urgent, broadcast := ParseNote(tc.note)
		if text != tc.text || urgent != tc.urgent || broadcast != tc.broadcast {
			t.Errorf("ParseNote(%q) = %q, %v, %v; want %q, %v, %v", tc.note, text, urgent, broadcast, tc.text, tc.urgent, tc.broadcast)
		}
	}
}
