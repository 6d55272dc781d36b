package app

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogPreviewURL: in preview mode the start-up log gives the page's full
// URL, and warns when the listener takes every interface.
func TestLogPreviewURL(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amslack.yml")
	if err := os.WriteFile(cfg, []byte("slack: {mode: preview, signing_secret: s}\nalertmanager: {url: 'http://127.0.0.1:9093'}\nroutes: [{channel: C0PREVIEW01}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a, err := New(Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.closeStorage()
	// The main and a separate public handler share one preview, whose
	// metrics register once.
	a.handler(nil)
	a.publicHandler()

	for _, tt := range []struct {
		addr string
		tls  bool
		url  string
		warn bool
	}{
		{"127.0.0.1:9097", false, "http://127.0.0.1:9097/preview", false},
		{"[::1]:9097", true, "https://[::1]:9097/preview", false},
		{"0.0.0.0:9097", false, "http://127.0.0.1:9097/preview", true},
		{"[::]:9097", false, "http://127.0.0.1:9097/preview", true},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			logs.Reset()
			addr, err := net.ResolveTCPAddr("tcp", tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			a.logPreviewURL(addr, tt.tls)
			out := logs.String()
			if want := `msg="Local preview ready" url=` + tt.url; !strings.Contains(out, want) {
				t.Errorf("log %q does not say %s", out, want)
			}
			if got := strings.Contains(out, "every interface"); got != tt.warn {
				t.Errorf("warning about every interface = %v, want %v: %s", got, tt.warn, out)
			}
		})
	}
}
