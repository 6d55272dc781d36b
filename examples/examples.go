// Package examples holds amslack's runnable examples: configurations, the
// Slack app manifest, message templates, an internal action server, and
// Alertmanager notifications to try amslack with. The notifications are
// embedded so that the local preview can offer them.
package examples

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

//go:embed alerts/*.json
var alerts embed.FS

// Alerts returns the example Alertmanager notifications by name (the file
// name without .json).
func Alerts() map[string][]byte {
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
