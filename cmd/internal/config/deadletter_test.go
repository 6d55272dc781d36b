package config

import (
	"strings"
	"testing"
	"time"
)

func TestDeadLetterLimits(t *testing.T) {
	tests := []struct {
		delivery      string
		wantLimit     int
		wantRetention time.Duration
		wantErr       string
	}{
		{delivery: "{}", wantLimit: 10000, wantRetention: 7 * 24 * time.Hour},
		{delivery: "{dead_letter_limit: 50, dead_letter_retention: 2d}", wantLimit: 50, wantRetention: 48 * time.Hour},
		{delivery: "{dead_letter_limit: -1}", wantErr: "delivery.dead_letter_limit: must be positive, got -1"},
		{delivery: "{dead_letter_retention: 30m}", wantErr: "delivery.dead_letter_retention: must be at least 1h, got 30m"},
	}
	for _, tt := range tests {
		t.Run(tt.delivery, func(t *testing.T) {
			c, err := Parse([]byte("routes: [{channel: C0123456789}]\ndelivery: " + tt.delivery))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Parse() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Delivery.DeadLetterLimit; got != tt.wantLimit {
				t.Errorf("dead_letter_limit = %d, want %d", got, tt.wantLimit)
			}
			if got := time.Duration(c.Delivery.DeadLetterRetention); got != tt.wantRetention {
				t.Errorf("dead_letter_retention = %s, want %s", got, tt.wantRetention)
			}
		})
	}
}
