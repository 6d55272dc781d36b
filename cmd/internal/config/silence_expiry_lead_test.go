package config

import (
	"strings"
	"testing"
	"time"
)

// TestSilenceExpiryLead checks the default of
// interactions.silence_expiry_lead, that 0 turns the warning off, and the
// bound.
func TestSilenceExpiryLead(t *testing.T) {
	for _, tc := range []struct {
		doc     string
		want    time.Duration
		wantErr string
	}{
		{doc: "{}", want: DefaultSilenceExpiryLead},
		{doc: "interactions: {}", want: DefaultSilenceExpiryLead},
		{doc: "interactions: {silence_expiry_lead: 0s}", want: 0},
		{doc: "interactions: {silence_expiry_lead: 1m}", want: time.Minute},
		{doc: "interactions: {silence_expiry_lead: 30s}", wantErr: "interactions.silence_expiry_lead: must be 0 (off) or at least 1m, got 30s"},
	} {
		c, err := Parse([]byte(tc.doc))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.doc, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.doc, err)
			continue
		}
		if got := c.Interactions.SilenceExpiryLead; got == nil || time.Duration(*got) != tc.want {
			t.Errorf("%s: silence_expiry_lead = %v, want %s", tc.doc, got, tc.want)
		}
	}
}
