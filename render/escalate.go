package render

import (
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

// EscalatedNote is the thread note of an escalation step that calls
// mention, a Slack mention (<@U…>, <!subteam^S…>, <!here>, <!channel>) that
// the configuration checked, about the group data with key groupKey, which
// has been firing for firing without an acknowledgement.
func EscalatedNote(mention string, data *template.Data, groupKey string, firing time.Duration) string {
	return Mrkdwnf("📣 Escalated to %s: %s has been firing for %s, unacknowledged",
		Markup(mention), groupTitle(data, groupKey), model.Duration(firing))
}

// broadcastMark starts a thread note that must also show in the channel:
// chat.postMessage's reply_broadcast
// (https://api.slack.com/methods/chat.postMessage#arg_reply_broadcast). A
// record separator cannot come from Slack text that amslack writes.
const broadcastMark = "\x1ebroadcast\x1e"

// urgentMark starts a thread note that is posted even on a route whose
// thread replies are off: it calls someone.
const urgentMark = "\x1eurgent\x1e"

// UrgentNote marks note to be posted in the thread even where thread
// replies are off, and also shown in the channel when broadcast is set.
func UrgentNote(note string, broadcast bool) string {
	if broadcast {
		return broadcastMark + note
	}
	return urgentMark + note
}

// ParseNote returns the text of a thread note and whether it is urgent
// (see UrgentNote) and to be broadcast.
func ParseNote(note string) (text string, urgent, broadcast bool) {
	if t, ok := strings.CutPrefix(note, broadcastMark); ok {
		return t, true, true
	}
	if t, ok := strings.CutPrefix(note, urgentMark); ok {
		return t, true, false
	}
	return note, false, false
}
