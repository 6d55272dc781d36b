package config

import (
	"strings"
	"testing"
	"time"
)

// TestDedupTTLCoversSlackReplayWindow checks that a click cannot be
// forgotten while Slack would still accept a replay of its request.
func TestDedupTTLCoversSlackReplayWindow(t *testing.T) {
	tests := []struct {
		ttl     string
		wantErr bool
	}{
		{"1m", true},
		{"5m", true},
		{"5m29s", true},
		{"5m30s", false},
		{"10m", false},
	}
	for _, tt := range tests {
		t.Run(tt.ttl, func(t *testing.T) {
			_, err := Parse([]byte("routes: [{channel: C0123456789}]\ninteractions: {dedup_ttl: " + tt.ttl + "}"))
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "interactions.dedup_ttl: must be at least 5m30s") {
					t.Errorf("Parse() error = %v, want one naming interactions.dedup_ttl and 5m30s", err)
				}
				return
			}
			if err != nil {
				t.Errorf("Parse() error = %v", err)
			}
		})
	}
}

func TestApprovalWindow(t *testing.T) {
	c, err := Parse([]byte("routes: [{channel: C0123456789}]"))
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(c.Interactions.ApprovalWindow); got != 15*time.Minute {
		t.Errorf("default approval_window = %v, want 15m", got)
	}
	c, err = Parse([]byte("routes: [{channel: C0123456789}]\ninteractions: {approval_window: 1h}"))
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(c.Interactions.ApprovalWindow); got != time.Hour {
		t.Errorf("approval_window = %v, want 1h", got)
	}
	for _, bad := range []string{"30s", "25h"} {
		_, err := Parse([]byte("routes: [{channel: C0123456789}]\ninteractions: {approval_window: " + bad + "}"))
		if err == nil || !strings.Contains(err.Error(), "interactions.approval_window: ") {
			t.Errorf("approval_window %s: Parse() error = %v, want one naming interactions.approval_window", bad, err)
		}
	}
}
