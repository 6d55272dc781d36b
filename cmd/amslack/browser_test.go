package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/amslack/amslack/cmd/internal/preview/browsertest"
	"github.com/amslack/amslack/receiver/amtest"
)

// TestPreviewInBrowser starts amslack in preview mode with a real
// Alertmanager, sends an alert, and uses the preview page in headless
// Chromium: Silence → 1h creates a real silence, and a two-person approval
// runs the example action server's restart once. Its final screenshot is
// README.md's picture of the preview, examples/preview.png, and the test
// fails when that picture no longer matches the page (checkScreenshot).
func TestPreviewInBrowser(t *testing.T) {
	amtest.Require(t)
	browsertest.Chromium(t)
	dir := t.TempDir()
	actionAddr, actionLog := startActionServer(t, dir)
	addr := freeAddr(t)
	am := amtest.StartConfig(t, amtest.Config{
		WebhookURL: "http://" + addr + "/webhook",
		Receiver:   "team-db",
		GroupBy:    []string{"alertname", "cluster"},
	})
	cfg := filepath.Join(dir, "amslack.yml")
	const channel = "C0PREVIEW01"
	writeFile(t, cfg, fmt.Sprintf(`
slack: {mode: preview, signing_secret: preview-secret}
alertmanager: {url: %s}
routes: [{name: default, channel: %s, silence_durations: [30m, 1h, 4h]}]
actions:
  - id: approve_restart
    label: Approve restart
    url: http://%s/restart
    style: danger
    confirm: {title: "Restart the database?", text: "This restarts the primary.", confirm: Restart, deny: Cancel}
    allow: {users: [U0PREVIEWA, U0PREVIEWB]}
    approvals: 2
    secret_file: action.secret
`, am.URL, channel, actionAddr))
	p := startAmslackFile(t, cfg, filepath.Join(dir, "data"), addr)

	ctx := browsertest.Start(t)

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	waitPage := func(step, predicate string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-role=status]")?.textContent ?? ""`))
			t.Fatalf("%s: %v (page status %q)", step, err, status)
		}
	}
	choose := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, value))
	}
	msg := fmt.Sprintf(`.message[data-channel=%q]:not([data-thread-ts])`, channel)
	text := func(js string) string {
		return fmt.Sprintf(`(document.querySelector(%q)?.innerText ?? "").includes(%q)`, msg, js)
	}

	do("open the preview", chromedp.Navigate(p.URL+"/preview?user=U0PREVIEWA"), chromedp.WaitVisible(chromedp.CSS(`select[data-role=user-switcher]`)))
	banner, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil || !strings.Contains(banner, "local preview") {
		t.Errorf("the page does not say it is a local preview: %v", err)
	}

	// An alert through the real Alertmanager.
	labels := map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": "db-1", "severity": "critical"}
	am.PostAlerts(t, amtest.Alert{Labels: labels, Annotations: map[string]string{"summary": "Disk almost full on db-1"}})
	do("the message appears", chromedp.WaitVisible(chromedp.CSS(msg+` [data-action-id="silence"]`)))

	// Silence → 1h.
	do("choose Silence 1h", choose(msg+` select[data-action-id="silence"]`, "1h"))
	waitPage("the message shows the silence", text("Silenced by"))
	var active []amtest.Silence
	for deadline := time.Now().Add(20 * time.Second); len(active) == 0 && time.Now().Before(deadline); {
		active = am.ActiveSilences(t)
		if len(active) == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if len(active) != 1 || !strings.Contains(active[0].CreatedBy, "U0PREVIEWA") {
		t.Fatalf("active silences in Alertmanager: %+v", active)
	}

	// Two-person approval: alice, then bob.
	approve := func(who string) {
		t.Helper()
		do(who+" approves",
			chromedp.Click(chromedp.CSS(msg+` [data-action-id="approve_restart"]`)),
			chromedp.WaitVisible(chromedp.CSS(`dialog[data-role=confirm][open] [data-role=confirm-yes]`)),
			chromedp.Click(chromedp.CSS(`dialog[data-role=confirm][open] [data-role=confirm-yes]`)),
		)
	}
	approve("alice")
	waitPage("approval progress 1/2", text("1/2"))
	if strings.Contains(actionLog.Output(), `"action run"`) {
		t.Fatal("the action ran after one approval")
	}
	do("switch to bob", choose(`select[data-role=user-switcher]`, "U0PREVIEWB"))
	approve("bob")
	waitPage("the action's result", text("restart scheduled"))
	if n := strings.Count(actionLog.Output(), `"action run"`); n != 1 {
		t.Errorf("the action ran %d times, want 1", n)
	}

	// The page scrolls inside a window-high layout, so a screenshot is as
	// high as the window whatever it shows. Sized to its content, with room
	// below for the status line, the picture grows and shrinks with the
	// page, which is what checkScreenshot compares.
	height, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`(() => {
		const bottoms = [...document.querySelectorAll(".topbar *, #channels *, .sidebar *")].map((e) => e.getBoundingClientRect().bottom);
		return Math.ceil(Math.max(...bottoms)) + 64;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	do("fit the window to the page", chromedp.EmulateViewport(1280, height))
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(browsertest.ArtifactDir(t), "preview-end-to-end.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	checkScreenshot(t, shot, path)
}

// readmeScreenshot is the picture of the preview that README.md shows; it
// is this test's final screenshot.
var readmeScreenshot = filepath.Join("..", "..", "examples", "preview.png")

var updateScreenshot = flag.Bool("update-screenshot", false, "write TestPreviewInBrowser's screenshot to examples/preview.png")

// screenshotSizeTolerance is how far, as a fraction, the committed
// screenshot's file size may be from a fresh one's. Between runs only the
// times shown change, which moves the size of the PNG of some 96 KB by well
// under 1 %; a line more or less changes the height, and a button or a
// reworded block the size by several per cent.
const screenshotSizeTolerance = 0.10

// checkScreenshot compares the committed README screenshot with the fresh
// one, fresh, saved at path: a page that has changed since it was taken
// renders at another size. With -update-screenshot it replaces the
// committed one instead.
func checkScreenshot(t *testing.T, fresh []byte, path string) {
	t.Helper()
	const refresh = "go test ./cmd/amslack -run TestPreviewInBrowser -update-screenshot"
	if *updateScreenshot {
		if err := os.WriteFile(readmeScreenshot, fresh, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s; look at it before committing", readmeScreenshot)
		return
	}
	committed, err := os.ReadFile(readmeScreenshot)
	if err != nil {
		t.Fatalf("the README screenshot: %v; create it with: %s", err, refresh)
	}
	size := func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }
	got, err := size(fresh)
	if err != nil {
		t.Fatalf("fresh screenshot: %v", err)
	}
	want, err := size(committed)
	if err != nil {
		t.Fatalf("%s: %v; refresh it with: %s", readmeScreenshot, err, refresh)
	}
	ratio := float64(len(fresh)) / float64(len(committed))
	if got.Width != want.Width || got.Height != want.Height || math.Abs(ratio-1) > screenshotSizeTolerance {
		t.Errorf("%s is stale: it is %d×%d px and %d bytes, the page now renders %d×%d px and %d bytes (%+.0f%%, tolerance ±%.0f%%; fresh picture: %s). Look at the fresh picture, then refresh it with: %s",
			readmeScreenshot, want.Width, want.Height, len(committed), got.Width, got.Height, len(fresh), (ratio-1)*100, screenshotSizeTolerance*100, path, refresh)
	}
}
