package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/amslack/amslack/receiver/amtest"
	"github.com/amslack/amslack/render/preview/browsertest"
)

// TestPreviewInBrowser starts amslack in preview mode with a real
// Alertmanager, sends an alert, and uses the preview page in headless
// Chromium: Silence → 1h creates a real silence, and a two-person approval
// runs the example action server's restart once.
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

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(browsertest.ArtifactDir(t), "preview-end-to-end.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
