package render

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
)

func TestSilenceNotes(t *testing.T) {
	alice := alertgroup.User{ID: "U0001ALICE", Name: "alice"}
	ends := testNow().Add(time.Hour)
	token := fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|2026-11-29 15:30 UTC>", ends.Unix())
	for _, tc := range []struct {
		name, got, want string
	}{
		{"seen", SilenceSeenNote(alertgroup.User{Name: "bob"}, ends, time.Hour, `alertname="DiskFull"`),
			"🔕 Silenced by bob until " + token + " (1h): `alertname=\"DiskFull\"`"},
		{"seen from Slack", SilenceSeenNote(alice, ends, 90*time.Minute, `a="b"`),
			"🔕 Silenced by <@U0001ALICE> until " + token + " (1h 30m): `a=\"b\"`"},
		{"seen escapes", SilenceSeenNote(alertgroup.User{Name: "<!channel>"}, ends, time.Hour, "a=\"`<b>`\""),
			"🔕 Silenced by &lt;!channel&gt; until " + token + " (1h): `a=\"'&lt;b&gt;'\"`"},
		{"changed", SilenceChangedNote(alertgroup.User{Name: "bob"}, ends),
			"✏️ Silence changed in Alertmanager by bob: it now ends " + token},
		{"expired", SilenceExpiredNote(3, false), "🔔 Silence expired: 3 alerts still firing"},
		{"expired one", SilenceExpiredNote(1, false), "🔔 Silence expired: 1 alert still firing"},
		{"expired early", SilenceExpiredNote(2, true), "🔔 Silence expired early in Alertmanager: 2 alerts still firing"},
		{"expired covered", SilenceExpiredNote(0, false), "🔔 Silence expired; none of its alerts fires unsilenced"},
		{"extended", SilenceExtendedNote(alice, time.Hour, ends), "⏩ Silence extended by <@U0001ALICE> by 1h, until " + token},
		{"expired by", SilenceExpiredByNote(alice), "🔔 Silence expired by <@U0001ALICE>"},
		{"extended reply", SilenceExtendedReply("id-1", time.Hour, ends), "Silence id-1 extended by 1h, until 2026-11-29 15:30 UTC."},
		{"extend failed", SilenceExtendFailedReply("id-1", errors.New("<bad>")), "Alertmanager did not extend silence id-1: &lt;bad&gt;. Nothing was changed."},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestSilenceExpiringGolden(t *testing.T) {
	m := SilenceExpiringMessage(SilenceExpiring{
		By: alertgroup.User{Name: "bob"}, EndsAt: testNow().Add(10 * time.Minute), Left: 9*time.Minute + 45*time.Second,
		Matchers: `alertname="DiskFull", cluster="prod"`,
		Controls: []Control{
			{ActionID: "silence_extend", Text: "Extend 1h", Value: "5b1c6f0e", Style: "primary"},
			{ActionID: "silence_expire", Text: "Expire now", Value: "5b1c6f0e", Style: "danger"},
		},
	})
	if err := Validate(m); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if want := "⏳ Silence by bob expires in 10m"; m.Text != want {
		t.Errorf("text = %q, want %q", m.Text, want)
	}
	checkGolden(t, "silence-expiring", marshal(t, m))
}

// TestSilenceExpiringLimits checks that long matchers and a long author
// stay within a section's limit.
func TestSilenceExpiringLimits(t *testing.T) {
	m := SilenceExpiringMessage(SilenceExpiring{
		By: alertgroup.User{Name: strings.Repeat("<b>", 500)}, EndsAt: testNow(), Left: 20 * time.Second,
		Matchers: strings.Repeat(`x=~"<&>"`, 1000),
	})
	if err := Validate(m); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if !strings.Contains(m.Text, "expires in 20s") {
		t.Errorf("text = %q", m.Text)
	}
}
