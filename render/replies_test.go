package render

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/alertgroup"
)

func TestReplies(t *testing.T) {
	until := time.Date(2024, 5, 1, 14, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	alice := alertgroup.User{ID: "U0123ABCD", Name: "alice"}
	outsider := alertgroup.User{ID: "not-an-id", Name: "<!channel> bob"}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{
			"silenced note",
			SilencedNote(alice, 4*time.Hour, until, `alertname="<!here>", env="a&b"`),
			`🔕 Silenced by <@U0123ABCD> for 4h, until 2024-05-01 12:30 UTC: alertname="&lt;!here&gt;", env="a&amp;b"`,
		},
		{
			"unsilenced note names a user without an id",
			UnsilencedNote(outsider),
			"🔔 Silence removed by &lt;!channel&gt; bob",
		},
		{
			"silenced reply",
			SilencedReply(48*time.Hour, until, "a1b2"),
			"Silenced for 2d, until 2024-05-01 12:30 UTC (silence a1b2).",
		},
		{
			"silence create failed escapes the error",
			SilenceCreateFailedReply(errors.New("bad <url|matcher>")),
			"Alertmanager did not create the silence: bad &lt;url|matcher&gt;. Nothing was changed.",
		},
		{
			"unknown action quotes the escaped id",
			UnknownActionReply("<!channel>"),
			`amslack does not know the action "&lt;!channel&gt;"; the message may come from an older configuration. Nothing was done.`,
		},
		{
			"already acked names, not mentions",
			AlreadyAckedReply(alice),
			"Already acknowledged by alice.",
		},
		{
			"acked without a silence",
			AckedReply(time.Hour, ""),
			"Acknowledged.",
		},
		{
			"acked with a silence",
			AckedReply(24*time.Hour, "s1"),
			"Acknowledged. The alerts are silenced for 1d (silence s1) and amslack extends that while they fire.",
		},
		{
			"resolved at an unknown time",
			ResolvedReply(time.Time{}),
			"This alert group has resolved; nothing was done.",
		},
		{
			"resolved",
			ResolvedReply(until),
			"This alert group resolved at 2024-05-01 12:30 UTC; nothing was done.",
		},
		{
			"approval note",
			ApprovalNote("Restart <pod>", alice, 1, 2),
			"Restart &lt;pod&gt;: approved by <@U0123ABCD> (1 of 2)",
		},
		{
			"approval recorded",
			ApprovalRecordedReply("Restart", 1, 3),
			"Approval of Restart recorded (1 of 3); waiting for 2 more.",
		},
		{
			"run not ok without detail",
			RunNotOKReply("Restart", ""),
			"Restart did not succeed: no detail given",
		},
		{
			"run done escapes the detail",
			RunDoneReply("Restart", "ok <!everyone>"),
			"Restart: ok &lt;!everyone&gt;",
		},
		{
			"run done without detail",
			RunDoneReply("Restart", ""),
			"Restart: done",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.got, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
}
