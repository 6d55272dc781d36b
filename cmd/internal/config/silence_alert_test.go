package config

import (
	"slices"
	"strings"
	"testing"
)

func TestSilenceAlertDropLabels(t *testing.T) {
	base := "slack: {bot_token: xoxb-x}\nroutes: [{channel: C0123456789}]\n"
	for _, tt := range []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "default none", in: "", want: nil},
		{name: "set", in: "interactions: {silence_alert_drop_labels: [pod, instance_id]}\n", want: []string{"pod", "instance_id"}},
		{name: "not a label name", in: "interactions: {silence_alert_drop_labels: [pod, '']}\n",
			wantErr: `interactions.silence_alert_drop_labels[1]: "" is not a label name`},
		{name: "twice", in: "interactions: {silence_alert_drop_labels: [pod, pod]}\n",
			wantErr: `interactions.silence_alert_drop_labels[1]: "pod" is listed twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(base + tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Interactions.SilenceAlertDropLabels; !slices.Equal(got, tt.want) {
				t.Errorf("silence_alert_drop_labels = %q, want %q", got, tt.want)
			}
		})
	}
}
