package render

import (
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// reminderControls are the buttons the interaction side puts on the
// reminder.
var reminderControls = []Control{
	{ActionID: "ack_renew", Text: "Still on it", Value: "1764429122", Style: "primary"},
	{ActionID: "unack", Text: "Unacknowledge"},
}

func TestAckReminderGolden(t *testing.T) {
	p := loadPayload(t, "v035-firing.json")
	bob := alertgroup.User{ID: "U0002BOB", Name: "bob"}
	for name, r := range map[string]AckReminder{
		"ack-reminder":         {Acker: bob, Group: p.Data, GroupKey: p.GroupKey, For: time.Hour, Controls: reminderControls},
		"ack-reminder-renewed": {Acker: bob, Group: p.Data, GroupKey: p.GroupKey, For: 90 * time.Minute, Renewed: true, Controls: reminderControls},
	} {
		t.Run(name, func(t *testing.T) {
			m := AckReminderMessage(r)
			if err := Validate(m); err != nil {
				t.Errorf("Validate: %v", err)
			}
			checkGolden(t, name, marshal(t, m))
		})
	}
}

// TestAckReminderEscapes checks that a title from outside cannot ping or
// link, while the acker is mentioned in the text that notifications show.
func TestAckReminderEscapes(t *testing.T) {
	p := loadPayload(t, "v035-firing.json")
	p.Data.GroupLabels["alertname"] = "<!channel> " + strings.Repeat("x", 400)
	m := AckReminderMessage(AckReminder{Acker: alertgroup.User{ID: "U0002BOB"}, Group: p.Data, For: time.Hour, Controls: reminderControls})
	if err := Validate(m); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	text := sectionText(t, m, blockReminder)
	if strings.Contains(text, "<!channel>") || strings.Contains(m.Text, "<!channel>") {
		t.Errorf("title not escaped: %q / %q", text, m.Text)
	}
	if !strings.HasPrefix(m.Text, "⏰ <@U0002BOB>: ") || !strings.Contains(text, "<@U0002BOB>") {
		t.Errorf("acker not mentioned: %q / %q", m.Text, text)
	}
	if got := actionIDs(m); strings.Join(got, ",") != "ack_renew,unack" {
		t.Errorf("action ids = %v", got)
	}
}

func TestAckRenewReplies(t *testing.T) {
	until := time.Date(2026, 11, 29, 15, 30, 0, 0, time.UTC)
	for _, tc := range []struct{ got, want string }{
		{AckRenewedNote(alertgroup.User{ID: "U0002BOB"}), "🔁 <@U0002BOB> is still on it"},
		{AckRenewedReply(time.Hour, time.Time{}), "Noted: you are still on it. amslack reminds you again in 1h if it still fires."},
		{AckRenewedReply(time.Hour, until), "Noted: you are still on it. amslack reminds you again in 1h if it still fires. The acknowledgement silence now lasts until 2026-11-29 15:30 UTC."},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q\nwant %q", tc.got, tc.want)
		}
	}
}
