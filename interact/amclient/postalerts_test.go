package amclient_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/amtest"
)

// TestPostAlerts posts a firing and a resolved alert to a real
// Alertmanager, which lists the firing one with its labels, annotations,
// start and generator URL, and not the resolved one.
func TestPostAlerts(t *testing.T) {
	am := amtest.Start(t)
	c, err := amclient.New(am.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-5 * time.Minute).Truncate(time.Millisecond)
	firing := amclient.PostableAlert{
		Labels:       map[string]string{"alertname": "DiskFull", "instance": "db-1"},
		Annotations:  map[string]string{"summary": "Disk almost full on db-1"},
		StartsAt:     start,
		GeneratorURL: "http://prometheus.example/graph?g0.expr=disk",
	}
	resolved := amclient.PostableAlert{
		Labels:   map[string]string{"alertname": "DiskFull", "instance": "db-2"},
		StartsAt: start,
		EndsAt:   time.Now().Add(-time.Second),
	}
	if err := c.PostAlerts(t.Context(), []amclient.PostableAlert{firing, resolved}); err != nil {
		t.Fatal(err)
	}
	got := am.Alerts(t, `alertname="DiskFull"`)
	if len(got) != 1 {
		t.Fatalf("Alertmanager lists %d alerts, want the firing one: %+v", len(got), got)
	}
	if diff := cmp.Diff([]any{got[0].Labels, got[0].Annotations, got[0].StartsAt.UTC()},
		[]any{firing.Labels, firing.Annotations, start.UTC()}); diff != "" {
		t.Errorf("listed alert (-got +want):\n%s", diff)
	}
}

// TestPostAlertsErrors tells an Alertmanager that refuses the alerts (a
// *StatusError) from one that does not answer.
func TestPostAlertsErrors(t *testing.T) {
	am := amtest.Start(t)
	c, err := amclient.New(am.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	// An alert without labels is invalid (Alertmanager's types.Alert.Validate).
	err = c.PostAlerts(t.Context(), []amclient.PostableAlert{{Labels: map[string]string{}}})
	var se *amclient.StatusError
	if !errors.As(err, &se) || se.Code != 400 {
		t.Errorf("PostAlerts(no labels) = %v, want a 400 StatusError", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	c, err = amclient.New(closed, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = c.PostAlerts(t.Context(), []amclient.PostableAlert{{Labels: map[string]string{"alertname": "X"}}})
	if err == nil || errors.As(err, &se) {
		t.Errorf("PostAlerts(nobody listening) = %v, want an error that is not a StatusError", err)
	}
}
