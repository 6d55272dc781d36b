package render

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/alertgroup"
)

// TestRenderApprovalExpiry checks the approvals line: approvals past their
// time are left out, and the line says when the next one ends.
func TestRenderApprovalExpiry(t *testing.T) {
	now := testNow() // 14:30 UTC
	tests := []struct {
		name  string
		users []alertgroup.User
		until map[string]time.Time
		want  string // the approvals line; "" for none
	}{
		{
			name:  "one expired, one counting",
			users: []alertgroup.User{{ID: "U1"}, {ID: "U2"}},
			until: map[string]time.Time{"U1": now.Add(-time.Minute), "U2": now.Add(15 * time.Minute)},
			want:  "Approve restart: 1/2 approvals (<@U2>), expires 14:45 UTC",
		},
		{
			name:  "the earliest end is shown",
			users: []alertgroup.User{{ID: "U1"}, {ID: "U2"}},
			until: map[string]time.Time{"U1": now.Add(5 * time.Minute), "U2": now.Add(15 * time.Minute)},
			want:  "Approve restart: 2/2 approvals (<@U1>, <@U2>), expires 14:35 UTC",
		},
		{
			name:  "another day",
			users: []alertgroup.User{{ID: "U1"}},
			until: map[string]time.Time{"U1": now.Add(12 * time.Hour)},
			want:  "Approve restart: 1/2 approvals (<@U1>), expires 2026-11-30 02:30 UTC",
		},
		{
			name:  "all expired",
			users: []alertgroup.User{{ID: "U1"}},
			until: map[string]time.Time{"U1": now},
		},
		{
			name:  "no times recorded",
			users: []alertgroup.User{{ID: "U1"}},
			want:  "Approve restart: 1/2 approvals (<@U1>)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := inputOf(loadPayload(t, "v035-firing.json"))
			in.Options = richOptions(t)
			in.State = alertgroup.State{Approvals: map[string][]alertgroup.User{"approve_restart": tt.users}}
			if tt.until != nil {
				in.State.ApprovalsUntil = map[string]map[string]time.Time{"approve_restart": tt.until}
			}
			var got string
			for _, text := range contextTexts(Render(withControls(in)), blockState) {
				for line := range strings.Lines(text) {
					if strings.HasPrefix(line, "Approve restart:") {
						got = strings.TrimSuffix(line, "\n")
					}
				}
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("approvals line (-got +want):\n%s", diff)
			}
		})
	}
}
