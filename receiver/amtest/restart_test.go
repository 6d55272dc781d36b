package amtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/amtest"
)

// TestRestart restarts a real Alertmanager on the same storage: the silence
// survives at the same URL, the alert does not.
func TestRestart(t *testing.T) {
	am := amtest.Start(t)
	url := am.URL
	labels := map[string]string{"alertname": "DiskFull", "instance": "db-1"}
	am.PostAlerts(t, amtest.Alert{Labels: labels})

	now := time.Now()
	body, _ := json.Marshal(map[string]any{
		"matchers":  []amtest.Matcher{{Name: "alertname", Value: "DiskFull"}},
		"startsAt":  now,
		"endsAt":    now.Add(time.Hour),
		"createdBy": "test",
		"comment":   "ACK! looking",
	})
	resp, err := http.Post(am.URL+"/api/v2/silences", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create silence: %s: %s", resp.Status, data)
	}
	var created struct {
		SilenceID string `json:"silenceID"`
	}
	if err := json.Unmarshal(data, &created); err != nil {
		t.Fatal(err)
	}
	if n := len(am.Alerts(t)); n != 1 {
		t.Fatalf("before the restart Alerts() = %d alerts, want 1", n)
	}

	am.Restart(t)
	if am.URL != url {
		t.Errorf("URL after restart = %s, want %s", am.URL, url)
	}
	if got := am.Alerts(t); len(got) != 0 {
		t.Errorf("after the restart Alerts() = %+v, want none: Alertmanager keeps alerts in memory only", got)
	}
	if active := am.ActiveSilences(t); len(active) != 1 || active[0].ID != created.SilenceID {
		t.Errorf("after the restart ActiveSilences() = %+v, want the one with id %s", active, created.SilenceID)
	}
	am.PostAlerts(t, amtest.Alert{Labels: labels})
	if n := len(am.Alerts(t)); n != 1 {
		t.Errorf("after posting again Alerts() = %d alerts, want 1", n)
	}
}
