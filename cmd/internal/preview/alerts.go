package preview

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

// alerts holds the example Alertmanager notifications that the page offers
// to send. These files are the project's only copy of them; tests read them
// here too.
//
//go:embed alerts/*.json
var alerts embed.FS

// ExampleAlerts returns the example Alertmanager notifications by name (the
// file name without .json), for Options.Examples.
func ExampleAlerts() map[string][]byte {
	out := map[string][]byte{}
	entries, _ := fs.ReadDir(alerts, "alerts")
	for _, e := range entries {
		b, err := alerts.ReadFile(path.Join("alerts", e.Name()))
		if err == nil {
			out[strings.TrimSuffix(e.Name(), ".json")] = b
		}
	}
	return out
}
