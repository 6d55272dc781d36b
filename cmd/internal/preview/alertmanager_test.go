package preview

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/amslack/amslack/interact/amclient"
	"github.com/amslack/amslack/receiver/amtest"
)

// envWithAlertmanager is a preview whose examples go to the Alertmanager at
// amURL, with its metrics in the returned registry.
func envWithAlertmanager(t *testing.T, amURL string, extra map[string][]byte) (*env, *prometheus.Registry) {
	t.Helper()
	c, err := amclient.New(amURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	e := newEnvWith(t, nil, func(o *Options) {
		o.Alertmanager, o.AlertmanagerURL, o.Registerer = c, amURL, reg
		for name, b := range extra {
			o.Examples[name] = b
		}
	})
	return e, reg
}

func (e *env) webhookCalls() int {
	e.hook.mu.Lock()
	defer e.hook.mu.Unlock()
	return len(e.hook.bodies)
}

// sendsOf reads amslack_preview_example_sends_total by result.
func sendsOf(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "amslack_preview_example_sends_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return got
}

// TestSendExampleToAlertmanager sends examples where an Alertmanager
// answers: their alerts go to it as Prometheus would send them, not to
// amslack's webhook handler, so Alertmanager knows what is silenced and
// acknowledged later.
func TestSendExampleToAlertmanager(t *testing.T) {
	am := amtest.Start(t)
	e, reg := envWithAlertmanager(t, am.URL, nil)

	var res apiResult
	status := e.call(t, "/preview/api/send-example", exampleRequest{Name: "v035-firing"}, &res)
	if want := "sent to Alertmanager at " + am.URL; status != http.StatusOK || !strings.HasPrefix(res.Note, want) {
		t.Fatalf("send = %d %+v, want 200 and a note starting %q", status, res, want)
	}
	if n := e.webhookCalls(); n != 0 {
		t.Errorf("the example also went to amslack's webhook handler %d times", n)
	}
	got := am.Alerts(t, `alertname="DiskFull"`)
	if len(got) != 2 {
		t.Fatalf("Alertmanager lists %d alerts, want the example's 2: %+v", len(got), got)
	}
	for _, a := range got {
		if a.Labels["cluster"] != "prod" || a.Annotations["runbook_url"] != "https://runbooks.example/disk" || a.Annotations["summary"] == "" {
			t.Errorf("alert lost the example's labels or annotations: %+v", a)
		}
		// Sent now, it starts within the last minute, and Alertmanager
		// sets the end of an alert sent without one.
		if time.Since(a.StartsAt) > time.Minute || !a.EndsAt.After(time.Now()) {
			t.Errorf("alert starts %s and ends %s, want a fresh firing alert", a.StartsAt, a.EndsAt)
		}
	}

	// The resolved example resolves them.
	if status := e.call(t, "/preview/api/send-example", exampleRequest{Name: "v035-resolved"}, &res); status != http.StatusOK {
		t.Fatalf("send resolved = %d %+v", status, res)
	}
	if got := am.Alerts(t, `alertname="DiskFull"`); len(got) != 0 {
		t.Errorf("Alertmanager lists %d alerts after the resolved example, want none: %+v", len(got), got)
	}
	if diff := cmp.Diff(sendsOf(t, reg), map[string]float64{"alertmanager": 2, "direct": 0, "refused": 0}); diff != "" {
		t.Errorf("amslack_preview_example_sends_total (-got +want):\n%s", diff)
	}
}

// TestSendExampleRefused sends an example Alertmanager refuses: the page
// gets Alertmanager's reason, and nothing goes to amslack.
func TestSendExampleRefused(t *testing.T) {
	am := amtest.Start(t)
	// An alert without labels fails Alertmanager's validation.
	bad := []byte(`{"version":"4","groupKey":"{}:{}","status":"firing","alerts":[{"status":"firing","labels":{},"startsAt":"2026-11-29T14:12:02Z"}]}`)
	e, _ := envWithAlertmanager(t, am.URL, map[string][]byte{"bad": bad})
	var res apiError
	status := e.call(t, "/preview/api/send-example", exampleRequest{Name: "bad"}, &res)
	if status != http.StatusBadGateway || !strings.Contains(res.Error, "Alertmanager at "+am.URL+" refused") || !strings.Contains(res.Error, "400") {
		t.Errorf("send = %d %+v, want 502 naming Alertmanager and its 400", status, res)
	}
	if n := e.webhookCalls(); n != 0 {
		t.Errorf("a refused example went to amslack %d times", n)
	}
	if v := testutil.ToFloat64(e.h.sends.WithLabelValues("refused")); v != 1 {
		t.Errorf("refused sends = %v, want 1", v)
	}
}

// TestSendExampleWithoutAlertmanager sends an example where no Alertmanager
// answers at the configured URL: it goes to amslack directly, and the note
// says so.
func TestSendExampleWithoutAlertmanager(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "http://" + l.Addr().String()
	l.Close()
	e, reg := envWithAlertmanager(t, nobody, nil)

	var res apiResult
	status := e.call(t, "/preview/api/send-example", exampleRequest{Name: "v035-firing"}, &res)
	want := apiResult{Status: http.StatusOK, Body: "ok", Note: "no Alertmanager at " + nobody + ": sent directly; acks are kept as they are"}
	if diff := cmp.Diff(res, want); status != http.StatusOK || diff != "" {
		t.Errorf("send = %d, answer (-got +want):\n%s", status, diff)
	}
	if n := e.webhookCalls(); n != 1 {
		t.Errorf("the example reached amslack's webhook handler %d times, want 1", n)
	}
	if diff := cmp.Diff(sendsOf(t, reg), map[string]float64{"alertmanager": 0, "direct": 1, "refused": 0}); diff != "" {
		t.Errorf("amslack_preview_example_sends_total (-got +want):\n%s", diff)
	}
}

func TestPostableAlerts(t *testing.T) {
	got, err := postableAlerts(readFile(t, "v035-resolved.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Labels["instance"] != "db-1" || got[0].EndsAt.IsZero() || got[0].GeneratorURL == "" {
		t.Errorf("resolved alerts = %+v, want both with their end", got)
	}
	got, err = postableAlerts(readFile(t, "v035-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range got {
		if !a.EndsAt.IsZero() || a.StartsAt.IsZero() {
			t.Errorf("firing alert %v: starts %s, ends %s; want a start and no end", a.Labels, a.StartsAt, a.EndsAt)
		}
	}
	if _, err := postableAlerts([]byte(`{"alerts":[]}`)); err == nil {
		t.Error("a payload without alerts gave no error")
	}
}
