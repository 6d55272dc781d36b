package main

import (
	"testing"
	"time"
)

// TestCriticalBehindOtherChannels runs the critical phase with its backlog
// spread over channels of their own, on a tight workspace limit: the
// critical alert goes to Slack within a workspace slot or two, not behind
// the warnings of the other channels.
func TestCriticalBehindOtherChannels(t *testing.T) {
	if testing.Short() {
		t.Skip("runs amslack and a fake Slack for a few seconds")
	}
	o := defaultOptions()
	o.Groups, o.Channels, o.Notifications = 2, 2, 1
	// 10 messages a second across the workspace: the 60 warnings take six
	// seconds, one of them a slot.
	o.CriticalBacklog, o.CriticalChannels, o.WorkspacePerMinute = 60, 60, 600
	o.BaselineWrites = 20
	o.Timeout = time.Minute
	rep, err := storm(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.TimedOut || len(rep.Errors) > 0 {
		t.Fatalf("timed out %v, errors %q", rep.TimedOut, rep.Errors)
	}
	c := rep.Critical
	if c == nil || !c.Delivered || c.BacklogAccepted != o.CriticalBacklog || c.SlotOf != "workspace" {
		t.Fatalf("critical phase: %+v", c)
	}
	if c.Slots > 2 {
		t.Errorf("the critical alert took %.0f ms, %.1f workspace slots, with %d calls before it; want at most 2 slots", c.TimeMS, c.Slots, c.CallsBefore)
	}
}
