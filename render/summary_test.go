package render

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/alertmanager/template"
)

func TestSummary(t *testing.T) {
	start := testNow().Add(-23 * time.Minute)
	a := func(fp, status, instance string) template.Alert {
		al := template.Alert{
			Status:      status,
			Labels:      template.KV{"alertname": "DiskFull", "instance": instance},
			Fingerprint: fp,
			StartsAt:    start,
		}
		if status == "resolved" {
			al.EndsAt = testNow()
		}
		return al
	}
	group := func(status string, alerts ...template.Alert) *template.Data {
		return &template.Data{Status: status, CommonLabels: template.KV{"alertname": "DiskFull"}, Alerts: alerts}
	}
	many := func(n int, status string) *template.Data {
		d := group(status)
		for i := range n {
			d.Alerts = append(d.Alerts, a(fmt.Sprintf("f%04d", i), status, fmt.Sprintf("db-%04d", i)))
		}
		return d
	}
	fixtures := func(name string) *template.Data { return loadPayload(t, name).Data }

	tests := []struct {
		name      string
		prev, cur *template.Data
		want      string
	}{
		{name: "first notification", prev: nil, cur: group("firing", a("1", "firing", "db-1"))},
		{name: "no current", prev: group("firing"), cur: nil},
		{
			name: "nothing changed",
			prev: group("firing", a("1", "firing", "db-1"), a("2", "firing", "db-2")),
			cur:  group("firing", a("2", "firing", "db-2"), a("1", "firing", "db-1")),
		},
		{
			name: "new alerts",
			prev: group("firing", a("1", "firing", "db-1")),
			cur:  group("firing", a("1", "firing", "db-1"), a("4", "firing", "db-4"), a("3", "firing", "db-3")),
			want: "2 new alerts firing: instance=db-3, instance=db-4",
		},
		{
			name: "one resolved, one new",
			prev: group("firing", a("1", "firing", "db-1"), a("2", "firing", "db-2")),
			cur:  group("firing", a("1", "resolved", "db-1"), a("2", "firing", "db-2"), a("3", "firing", "db-3")),
			want: "1 new alert firing: instance=db-3\n1 resolved: instance=db-1",
		},
		{
			name: "firing again",
			prev: group("firing", a("1", "resolved", "db-1"), a("2", "firing", "db-2")),
			cur:  group("firing", a("1", "firing", "db-1"), a("2", "firing", "db-2")),
			want: "1 new alert firing: instance=db-1",
		},
		{
			name: "gone without a resolved notification",
			prev: group("firing", a("1", "firing", "db-1"), a("2", "firing", "db-2")),
			cur:  group("firing", a("2", "firing", "db-2")),
			want: "1 no longer firing: instance=db-1",
		},
		{
			name: "resolved alert dropped from the list",
			prev: group("firing", a("1", "resolved", "db-1"), a("2", "firing", "db-2")),
			cur:  group("firing", a("2", "firing", "db-2")),
		},
		{
			name: "all resolved",
			prev: group("firing", a("1", "firing", "db-1"), a("2", "firing", "db-2")),
			cur:  group("resolved", a("1", "resolved", "db-1"), a("2", "resolved", "db-2")),
			want: "All resolved after 23m",
		},
		{
			name: "all resolved, fixtures",
			prev: fixtures("v035-firing.json"),
			cur:  fixtures("v035-resolved.json"),
			want: "All resolved after 21s",
		},
		{
			name: "HA duplicate",
			prev: fixtures("v035-ha-duplicate-peer-a.json"),
			cur:  fixtures("v035-ha-duplicate-peer-b.json"),
		},
		{
			name: "no fingerprints: labels identify alerts",
			prev: group("firing", a("", "firing", "db-1")),
			cur:  group("firing", a("", "firing", "db-1"), a("", "firing", "db-2")),
			want: "1 new alert firing: instance=db-2",
		},
		{
			name: "only the alert name sets it apart",
			prev: &template.Data{Status: "firing"},
			cur:  &template.Data{Status: "firing", Alerts: template.Alerts{{Status: "firing", Labels: template.KV{"alertname": "A&B"}, Fingerprint: "1"}}},
			want: "1 new alert firing: alertname=A&amp;B",
		},
		{
			name: "long lists are cut",
			prev: group("firing"),
			cur:  many(25, "firing"),
			want: "25 new alerts firing: instance=db-0000, instance=db-0001, instance=db-0002, instance=db-0003, " +
				"instance=db-0004, instance=db-0005, instance=db-0006, instance=db-0007, instance=db-0008, " +
				"instance=db-0009 …and 15 more",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Summary(tc.prev, tc.cur)
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("Summary (-got +want):\n%s", diff)
			}
		})
	}
}

func TestSummaryBounded(t *testing.T) {
	long := strings.Repeat("<&>", 2000)
	prev, cur := &template.Data{Status: "firing"}, &template.Data{Status: "firing"}
	for i := range 1000 {
		l := template.KV{"alertname": long, "instance": fmt.Sprint(i, long)}
		prev.Alerts = append(prev.Alerts, template.Alert{Status: "firing", Labels: l, Fingerprint: fmt.Sprint("p", i)})
		cur.Alerts = append(cur.Alerts,
			template.Alert{Status: "firing", Labels: l, Fingerprint: fmt.Sprint("c", i)},
			template.Alert{Status: "resolved", Labels: l, Fingerprint: fmt.Sprint("r", i)})
	}
	got := Summary(prev, cur)
	if n := runes(got); n > maxSummary || n == 0 {
		t.Errorf("Summary has %d runes, want 1 to %d", n, maxSummary)
	}
	if strings.Count(got, "\n") != 2 {
		t.Errorf("Summary = %q, want three lines", got)
	}
}
