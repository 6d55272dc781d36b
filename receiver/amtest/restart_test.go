package amtest_test

import (
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

	id := am.CreateSilence(t, "test", "ACK! looking", time.Hour, map[string]string{"alertname": "DiskFull"})
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
	if active := am.ActiveSilences(t); len(active) != 1 || active[0].ID != id {
		t.Errorf("after the restart ActiveSilences() = %+v, want the one with id %s", active, id)
	}
	am.PostAlerts(t, amtest.Alert{Labels: labels})
	if n := len(am.Alerts(t)); n != 1 {
		t.Errorf("after posting again Alerts() = %d alerts, want 1", n)
	}
}
