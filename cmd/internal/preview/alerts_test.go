package preview

import (
	"encoding/json"
	"testing"
)

func TestExampleAlertsAreNotifications(t *testing.T) {
	got := ExampleAlerts()
	if len(got) < 3 {
		t.Fatalf("%d example notifications, want at least 3", len(got))
	}
	for name, b := range got {
		var m struct {
			Version  string `json:"version"`
			GroupKey string `json:"groupKey"`
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Version != "4" || m.GroupKey == "" {
			t.Errorf("%s: not a version 4 notification: %v", name, err)
		}
	}
}
