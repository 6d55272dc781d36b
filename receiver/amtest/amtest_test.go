package amtest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/receiver/amtest"
)

func TestConfigYAMLText(t *testing.T) {
	tests := []struct {
		name string
		cfg  amtest.Config
		want string
	}{
		{
			name: "defaults",
			cfg:  amtest.Config{},
			want: `route:
  receiver: "amslack"
  group_by: ["alertname"]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 3600s
receivers:
  - name: "amslack"
`,
		},
		{
			name: "webhook",
			cfg: amtest.Config{
				WebhookURL: "http://127.0.0.1:1/webhook", Receiver: "team-db",
				GroupBy: []string{"alertname", "instance"}, GroupWait: 500 * time.Millisecond,
			},
			want: `route:
  receiver: "team-db"
  group_by: ["alertname", "instance"]
  group_wait: 500ms
  group_interval: 2s
  repeat_interval: 3600s
receivers:
  - name: "team-db"
    webhook_configs:
      - url: "http://127.0.0.1:1/webhook"
        send_resolved: true
`,
		},
		{
			name: "verbatim",
			cfg:  amtest.Config{YAML: "route: {receiver: x}\nreceivers: [{name: x}]\n", Receiver: "ignored"},
			want: "route: {receiver: x}\nreceivers: [{name: x}]\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.cfg.YAMLText(), tt.want); diff != "" {
				t.Errorf("YAMLText() mismatch (-got +want):\n%s", diff)
			}
		})
	}
}

// TestAlertmanager starts a real Alertmanager, posts an alert, sees it
// delivered to a webhook, silences it and reads the silence back.
func TestAlertmanager(t *testing.T) {
	delivered := make(chan map[string]any, 10)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg map[string]any
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			t.Errorf("decode webhook: %v", err)
		}
		select {
		case delivered <- msg:
		default:
		}
	}))
	t.Cleanup(sink.Close)

	am := amtest.StartConfig(t, amtest.Config{WebhookURL: sink.URL, Receiver: "team-db"})
	labels := map[string]string{"alertname": "DiskFull", "instance": "db-1"}
	am.PostAlerts(t, amtest.Alert{Labels: labels, Annotations: map[string]string{"summary": "disk full"}})

	select {
	case msg := <-delivered:
		if diff := cmp.Diff(msg["receiver"], any("team-db")); diff != "" {
			t.Errorf("webhook receiver (-got +want):\n%s", diff)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook delivery within 30s")
	}

	alerts := am.Alerts(t, `alertname="DiskFull"`)
	if len(alerts) != 1 {
		t.Fatalf("Alerts() = %d alerts, want 1", len(alerts))
	}
	if diff := cmp.Diff(alerts[0].Labels, labels); diff != "" {
		t.Errorf("alert labels (-got +want):\n%s", diff)
	}

	id := am.CreateSilence(t, "test", "ACK! looking", time.Hour, map[string]string{"alertname": "DiskFull"})

	active := am.ActiveSilences(t)
	if len(active) != 1 || active[0].ID != id {
		t.Fatalf("ActiveSilences() = %+v, want the one with id %s", active, id)
	}
	got := am.Silence(t, id)
	if diff := cmp.Diff(got.Comment, "ACK! looking"); diff != "" {
		t.Errorf("silence comment (-got +want):\n%s", diff)
	}

	am.ResolveAlerts(t, labels)
	for _, a := range am.Alerts(t, `alertname="DiskFull"`) {
		t.Errorf("alert still listed after resolving: %+v", a)
	}
}
