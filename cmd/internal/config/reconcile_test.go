package config

import (
	"strings"
	"testing"
	"time"
)

// TestAckDurationOutlastsTwoReconcileIntervals checks that an
// acknowledgement silence cannot end before the reconciler, which extends
// it once it ends within two intervals, gets to it.
func TestAckDurationOutlastsTwoReconcileIntervals(t *testing.T) {
	tests := []struct {
		interactions string
		wantErr      bool
	}{
		{"{}", false},
		{"{ack_duration: 15m, reconcile_interval: 1m}", false},
		{"{ack_duration: 2m1s, reconcile_interval: 1m}", false},
		{"{ack_duration: 2m, reconcile_interval: 1m}", true},
		{"{ack_duration: 10m, reconcile_interval: 5m}", true},
		{"{ack_duration: 1m}", true},
		{"{reconcile_interval: 10m}", true},
		// Without a silence there is nothing to extend.
		{"{ack_mode: state, ack_duration: 1m, reconcile_interval: 1m}", false},
	}
	for _, tt := range tests {
		t.Run(tt.interactions, func(t *testing.T) {
			_, err := Parse([]byte("routes: [{channel: C0123456789}]\ninteractions: " + tt.interactions))
			if !tt.wantErr {
				if err != nil {
					t.Errorf("Parse() error = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "interactions.ack_duration: must be longer than twice interactions.reconcile_interval") {
				t.Errorf("Parse() error = %v, want one naming interactions.ack_duration and interactions.reconcile_interval", err)
			}
		})
	}
}

func TestResolveTimeout(t *testing.T) {
	c, err := Parse([]byte("routes: [{channel: C0123456789}]"))
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(c.Interactions.ResolveTimeout); got != 5*time.Minute {
		t.Errorf("default resolve_timeout = %v, want 5m", got)
	}
	c, err = Parse([]byte("routes: [{channel: C0123456789}]\ninteractions: {resolve_timeout: 10m}"))
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(c.Interactions.ResolveTimeout); got != 10*time.Minute {
		t.Errorf("resolve_timeout = %v, want 10m", got)
	}
}
