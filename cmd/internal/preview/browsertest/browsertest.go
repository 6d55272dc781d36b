// Package browsertest starts headless Chromium for the tests that drive the
// local preview page in a real browser, and checks the screenshots they
// take for the README.
package browsertest

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
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

// Exceptions gathers the uncaught exceptions of the page in the tab ctx
// from now on; the function it returns lists those thrown so far.
func Exceptions(ctx context.Context) func() []string {
	var mu sync.Mutex
	var got []string
	thrown := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range thrown {
			if err != nil {
				return
			}
			msg := ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil {
				msg += " " + ex.Description
			}
			mu.Lock()
			got = append(got, msg)
			mu.Unlock()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
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

// ScreenshotSizeTolerance is how far, as a fraction, a committed
// screenshot's file size may be from a fresh one's. Between runs only the
// times shown change, which moves the size of a PNG of some 100 KB by well
// under 1 %; a line more or less changes the height, and a button or a
// reworded block the size by several per cent.
const ScreenshotSizeTolerance = 0.10

// CheckScreenshot compares the committed screenshot at committed with
// fresh, a new one of the same page saved at freshPath: a page that has
// changed since the committed one was taken renders at another size. With
// update it writes fresh to committed instead. refresh is the command
// that refreshes it, for the failure message.
func CheckScreenshot(t testing.TB, committed string, fresh []byte, freshPath, refresh string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(committed, fresh, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s; look at it before committing", committed)
		return
	}
	old, err := os.ReadFile(committed)
	if err != nil {
		t.Fatalf("the committed screenshot: %v; create it with: %s", err, refresh)
	}
	size := func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }
	got, err := size(fresh)
	if err != nil {
		t.Fatalf("fresh screenshot: %v", err)
	}
	want, err := size(old)
	if err != nil {
		t.Fatalf("%s: %v; refresh it with: %s", committed, err, refresh)
	}
	ratio := float64(len(fresh)) / float64(len(old))
	if got.Width != want.Width || got.Height != want.Height || math.Abs(ratio-1) > ScreenshotSizeTolerance {
		t.Errorf("%s is stale: it is %d×%d px and %d bytes, the page now renders %d×%d px and %d bytes (%+.0f%%, tolerance ±%.0f%%; fresh picture: %s). Look at the fresh picture, then refresh it with: %s",
			committed, want.Width, want.Height, len(old), got.Width, got.Height, len(fresh), (ratio-1)*100, ScreenshotSizeTolerance*100, freshPath, refresh)
	}
}
