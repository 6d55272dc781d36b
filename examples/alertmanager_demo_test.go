package examples

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAlertmanagerDemoConfig checks alertmanager-demo.yml with amtool, which
// Debian's prometheus-alertmanager package installs next to Alertmanager.
// cmd/amslack's TestDemoWithAlertmanager runs it with the real Alertmanager.
func TestAlertmanagerDemoConfig(t *testing.T) {
	amtool, err := exec.LookPath("amtool")
	if err != nil {
		const how = "install prometheus-alertmanager, which has amtool (apt-get install prometheus-alertmanager)"
		if os.Getenv("CI") == "true" {
			t.Fatal("no amtool under CI=true: " + how)
		}
		t.Skip("no amtool: " + how)
	}
	out, err := exec.Command(amtool, "check-config", "alertmanager-demo.yml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Errorf("amtool check-config alertmanager-demo.yml: %v\n%s", err, out)
	}
	// The demo's amslack (demo.yml) runs without webhook credentials on
	// the Quick start's address.
	b, err := os.ReadFile("alertmanager-demo.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"url: http://127.0.0.1:9097/webhook", "group_wait: 5s", "send_resolved: true"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("alertmanager-demo.yml does not say %q", want)
		}
	}
	if strings.Contains(string(b), "http_config") {
		t.Error("alertmanager-demo.yml sends credentials, which the demo does not expect")
	}
}
