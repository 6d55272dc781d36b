// Package browsertest starts headless Chromium for the tests that drive the
// local preview page in a real browser.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// SkipMessage says how to get the browser.
const SkipMessage = "install chromium (apt-get install chromium)"

// Chromium returns the path of Debian's Chromium. Without one the test
// skips, or fails under CI=true, where it must be installed.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium under CI=true: " + SkipMessage)
	}
	t.Skip("no chromium: " + SkipMessage)
	return ""
}

// Start runs headless Chromium with a fresh profile and returns a tab that
// closes when the test ends. The flags keep it off the network: this
// machine's closed network refuses Chromium's background connections.
func Start(t testing.TB) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(Chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	// A bound for a hung browser, not a timing assertion.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// ArtifactDir is where screenshots go: $AMSLACK_ARTIFACTS if set, else a
// directory of the test's.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("AMSLACK_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
