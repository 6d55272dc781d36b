package receiver

import (
	"fmt"
	"strings"

	"github.com/prometheus/alertmanager/template"
)

func newData(receiver string, ls map[string]string) *template.Data {
	kv := template.KV{}
	for k, v := range ls {
		kv[k] = v
	}
	return &template.Data{
		Receiver:     receiver,
		Status:       "firing",
		Alerts:       template.Alerts{{Status: "firing", Labels: kv, Fingerprint: "f1"}},
		CommonLabels: kv,
	}
}

// syntheticPayload is a webhook body with n alerts in one group whose key is
// the placeholder GROUPKEY.
func syntheticPayload(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"receiver":"team-db","status":"firing","alerts":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"DiskFull","cluster":"prod","instance":"db-%d","severity":"critical"},"annotations":{"summary":"Disk almost full on db-%d","runbook_url":"https://runbooks.example/disk"},"startsAt":"2026-11-29T14:12:02.164774892Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example/graph?g0.expr=disk","fingerprint":"%016x"}`, i, i, i)
	}
	b.WriteString(`],"groupLabels":{"alertname":"DiskFull"},"commonLabels":{"alertname":"DiskFull","cluster":"prod","severity":"critical"},"commonAnnotations":{"runbook_url":"https://runbooks.example/disk"},"externalURL":"http://127.0.0.1:9093","version":"4","groupKey":"GROUPKEY","truncatedAlerts":0}`)
	return []byte(b.String())
}
