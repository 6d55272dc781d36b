package main

import (
	"flag"
	"fmt"
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
// Alertmanager, sends a group of two alerts, and uses the preview page in
// headless Chromium: the "Silence one alert…" select lists both, Custom
// silence… opens the silence preview with the count of the alerts it
// matches, which an edited matcher changes; Silence → 1h creates a real
// silence, which App Home shows with the firing group; and a two-person
// approval runs the example action server's restart once. Its final
// screenshot is README.md's picture of the preview, examples/preview.png,
// and the test fails when that picture no longer matches the page
// (browsertest.CheckScreenshot).
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
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	exceptions := browsertest.Exceptions(ctx)

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-role=status]")?.textContent ?? ""`))
			t.Fatalf("%s: %v (page status %q)", step, err, status)
		}
	}
	// waitPage waits for a JavaScript predicate; the bound is for a hung
	// page, not a timing assertion.
	waitPage := func(step, predicate string) {
		t.Helper()
		do(step, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingTimeout(60*time.Second)))
	}
	choose := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, value))
	}
	msg := fmt.Sprintf(`.message[data-channel=%q]:not([data-thread-ts])`, channel)
	has := func(sel, text string) string {
		return fmt.Sprintf(`(document.querySelector(%q)?.innerText ?? "").includes(%q)`, sel, text)
	}
	text := func(s string) string { return has(msg, s) }

	do("open the preview", chromedp.Navigate(p.URL+"/preview?user=U0PREVIEWA"), chromedp.WaitVisible(chromedp.CSS(`select[data-role=user-switcher]`)))
	banner, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil || !strings.Contains(banner, "local preview") {
		t.Errorf("the page does not say it is a local preview: %v", err)
	}

	// A group of two alerts through the real Alertmanager.
	disk := func(instance string) amtest.Alert {
		return amtest.Alert{
			Labels:      map[string]string{"alertname": "DiskFull", "cluster": "prod", "instance": instance, "severity": "critical"},
			Annotations: map[string]string{"summary": "Disk almost full on " + instance},
		}
	}
	am.PostAlerts(t, disk("db-1"), disk("db-2"))
	do("the message appears", chromedp.WaitVisible(chromedp.CSS(msg+` select[data-action-id="silence_alert"]`)))
	ts, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).dataset.ts`, msg)))
	if err != nil || ts == "" {
		t.Fatalf("message ts: %q %v", ts, err)
	}

	// Silence one alert… lists the group's two alerts.
	options, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(
		`[...document.querySelectorAll('%s select[data-action-id="silence_alert"] option:not([disabled])')].map((o) => o.textContent)`, msg)))
	if err != nil || len(options) != 2 || !strings.Contains(options[0]+options[1], "db-1") || !strings.Contains(options[0]+options[1], "db-2") {
		t.Errorf("silence_alert options = %q, %v; want db-1 and db-2", options, err)
	}

	// Custom silence… opens the silence preview, which counts the alerts
	// that its matchers match in Alertmanager now: the group's two, then,
	// narrowed to db-1 and refreshed, one.
	modal := `.modal[data-callback-id="silence_preview"]`
	count := modal + ` [data-block-id="preview_count"]`
	matchers := modal + ` input[data-block-id="preview_matchers"]`
	do("open the silence preview", chromedp.Click(chromedp.CSS(msg+` [data-action-id="silence_custom"]`)),
		chromedp.WaitVisible(chromedp.CSS(count)))
	waitPage("the group's two alerts counted", has(count, "Matches 2 alerts now"))
	do("narrow the matchers and press Refresh preview",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, matchers)),
		chromedp.SendKeys(chromedp.CSS(matchers), `alertname="DiskFull", instance="db-1"`),
		chromedp.Click(chromedp.CSS(modal+` [data-action-id="preview_refresh"]`)))
	waitPage("the narrowed count", has(count, "Matches 1 alert now"))
	do("cancel the silence preview", chromedp.Click(chromedp.CSS(modal+` [data-role=view-close]`)),
		chromedp.WaitNotPresent(chromedp.CSS(modal)))
	if silences := am.Silences(t); len(silences) != 0 {
		t.Fatalf("the cancelled preview left silences in Alertmanager: %+v", silences)
	}

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

	// App Home lists the firing group with a link to its message, and
	// alice's silence with its Expire button.
	home := `section[data-role=home]`
	do("open App Home", chromedp.Click(chromedp.CSS(`[data-role=home-open]`)), chromedp.WaitVisible(chromedp.CSS(home)))
	waitPage("alice's Home", has(home, "Firing (1)")+` && `+has(home, "DiskFull")+` && `+has(home, "Your silences and acknowledgements (1)"))
	do("the group's link and the Expire button",
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`%s a[data-jump-ts=%q]`, home, ts))),
		chromedp.WaitVisible(chromedp.CSS(home+` [data-action-id="silence_expire"]`)))
	do("back to the channel", chromedp.Click(chromedp.CSS(`#channel-list a`)), chromedp.WaitVisible(chromedp.CSS(msg)))

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
	browsertest.CheckScreenshot(t, readmeScreenshot, shot, path, refreshReadmeScreenshot, *updateScreenshot)

	for _, ex := range exceptions() {
		t.Errorf("page threw: %s", ex)
	}
}

// readmeScreenshot is the picture of the preview that README.md shows; it
// is this test's final screenshot.
var readmeScreenshot = filepath.Join("..", "..", "examples", "preview.png")

var updateScreenshot = flag.Bool("update-screenshot", false, "write TestPreviewInBrowser's screenshot to examples/preview.png")

// refreshReadmeScreenshot is the command that refreshes readmeScreenshot.
const refreshReadmeScreenshot = "go test ./cmd/amslack -run TestPreviewInBrowser -update-screenshot"
