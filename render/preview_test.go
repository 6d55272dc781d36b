package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin resolves on machines without a zone database

	"github.com/slack-go/slack"

	"github.com/amslack/amslack/receiver/alertgroup"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// modalJSON is the golden form of a modal: indented JSON in which <, > and
// & are written as themselves, as Slack reads them.
func modalJSON(t *testing.T, v slack.ModalViewRequest) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(unescapeHTML(b), '\n')
}

func TestSilencePreviewGolden(t *testing.T) {
	now := time.Date(2025, 11, 28, 17, 30, 0, 0, time.UTC)
	berlin := mustZone(t, "Europe/Berlin")
	wide := Preview{
		Metadata: `{"src":"group"}`,
		Group:    "DiskFull", PickAlert: true,
		Matchers: `alertname="DiskFull"`, End: "2h", Comment: "disk swap",
		EndsAt: now.Add(2 * time.Hour), Now: now, Zone: berlin,
		Business: "Until Mon 09:00 (Europe/Berlin)",
		Count:    3, Outside: 1,
		Alerts: []PreviewAlert{
			{Labels: map[string]string{"alertname": "DiskFull", "cluster": "staging", "instance": "db-9"}, State: "active", Outside: true},
			{Labels: map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-1"}, State: "active"},
			{Labels: map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-2"}, State: "suppressed"},
		},
	}
	broken := Preview{
		Metadata: `{"src":"command"}`,
		Matchers: `cluster=~"prod("`, End: "eventually", Now: now,
		MatchersError: `"cluster=~\"prod(\"" is not a valid matcher`,
		EndError:      `"eventually" is not a duration or an end`,
	}
	refused := Preview{
		Metadata: `{"src":"command"}`,
		Matchers: `alertname="DiskFull"`, End: "18:00", Now: now, EndsAt: now.Add(30 * time.Minute),
		ListError: "alertmanager answered 503 Service Unavailable",
		Refusal:   "amslack's silence rule needs the silence to fix the label cluster",
	}
	for name, p := range map[string]Preview{"silence-preview-wide": wide, "silence-preview-broken": broken, "silence-preview-refused": refused} {
		t.Run(name, func(t *testing.T) {
			v := SilencePreviewModal(p)
			if !slack.ValidateUniqueBlockID(v) {
				t.Error("block ids are not unique")
			}
			checkGolden(t, name, modalJSON(t, v))
		})
	}
}

// TestSilencePreviewContent checks what the preview says in each case, and
// that text from outside can neither ping nor link.
func TestSilencePreviewContent(t *testing.T) {
	now := time.Date(2025, 11, 28, 17, 30, 0, 0, time.UTC)
	var alerts []PreviewAlert
	for i := range 12 {
		alerts = append(alerts, PreviewAlert{Labels: map[string]string{"alertname": "<!channel>", "i": strings.Repeat("x", i)}})
	}
	p := Preview{Group: "<!here> Disk", Count: 40, Alerts: alerts, Now: now, EndsAt: now.Add(90 * time.Minute)}
	s := string(modalJSON(t, SilencePreviewModal(p)))
	for _, want := range []string{
		`*Matches 40 alerts now*`,
		`…and 30 more`,
		`&lt;!here&gt; Disk`,
		`Fri 28 Nov 2025 19:00 UTC, 1h 30m from now`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("preview lacks %q: %s", want, s)
		}
	}
	if strings.Contains(s, "<!channel>") || strings.Contains(s, "<!here>") {
		t.Errorf("outside text not escaped: %s", s)
	}
	if strings.Contains(s, PreviewConfirmID) {
		t.Error("a preview with no alert outside the group asks for a confirm")
	}
	p.Outside = 2
	if s := string(modalJSON(t, SilencePreviewModal(p))); !strings.Contains(s, PreviewConfirmID) || !strings.Contains(s, "2 of the 40 alerts matched lie outside this alert group") {
		t.Errorf("a wider preview lacks its warning or confirm: %s", s)
	}
	if got := (Preview{}); !strings.Contains(previewCount(got), "Matches no alert now") {
		t.Errorf("count of none = %q", previewCount(got))
	}
}

func TestPreviewReplies(t *testing.T) {
	until := time.Date(2025, 12, 1, 8, 0, 0, 0, time.UTC)
	bob := alertgroup.User{ID: "U0002BOB", Name: "bob"}
	for _, tc := range []struct{ got, want string }{
		{PreviewSilencedReply(3, until, mustZone(t, "Europe/Berlin"), "s-1"), "Silenced 3 alerts until Mon 1 Dec 2025 09:00 Europe/Berlin (your time) (silence s-1)."},
		{PreviewSilencedReply(1, until, nil, "<s>"), "Silenced 1 alert until Mon 1 Dec 2025 08:00 UTC (silence &lt;s&gt;)."},
		{PreviewAlertsSilencedNote(bob, 1, 2, 2*time.Hour, `instance="db-1"`), `🔕 Silenced 1 of 2 alerts by <@U0002BOB> for 2h: instance="db-1"`},
		{BusinessSilencedReply("Until Mon 09:00 Europe/Berlin · 03:00 your time", "s-2"), "Silenced until Mon 09:00 Europe/Berlin · 03:00 your time (silence s-2)."},
		{PreviewConfirmNeeded(1, true), "Tick this box to confirm: the silence also mutes 1 alert outside this alert group."},
		{PreviewConfirmNeeded(2, false), "Tick this box to confirm: the silence also mutes 2 alerts outside this channel's alert groups."},
		{BusinessDayOption("09:00 Europe/Berlin").Text, "Until next business day 09:00 Europe/Berlin"},
		{BusinessDayOption(strings.Repeat("x", 100)).Value, UntilBusinessValue},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if n := len([]rune(BusinessDayOption(strings.Repeat("x", 100)).Text)); n > maxOptionText {
		t.Errorf("option text of %d characters, Slack allows %d", n, maxOptionText)
	}
}
