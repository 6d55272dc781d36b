package oncall

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/amslack/amslack/cmd/internal/app"
	"github.com/amslack/amslack/cmd/internal/preview/browsertest"
	"github.com/amslack/amslack/receiver/amtest"
)

// oncallScreenshot is README.md's picture of the on-call workflow in the
// preview; TestOnCallInBrowser takes it.
var oncallScreenshot = filepath.Join("..", "..", "..", "..", "examples", "oncall.png")

var updateScreenshot = flag.Bool("update-screenshot", false, "write TestOnCallInBrowser's screenshot to examples/oncall.png")

const refreshOncall = "go test ./cmd/internal/preview/oncall -run TestOnCallInBrowser -update-screenshot"

const (
	channel = "C0PREVIEW01"
	alice   = "U0PREVIEWA"
	bob     = "U0PREVIEWB"
)

// TestOnCallInBrowser runs amslack in preview mode, in process, with a real
// Alertmanager, and uses the on-call features on the preview page in
// headless Chromium: the per-alert silence select, the silence preview
// modal with its live count, which an edited matcher changes (Enter in the
// field, and the Refresh button, each answered with views.update), App
// Home for two users, with the firing groups and the user's own silences,
// whose Expire button works, and an escalation in the message's thread.
// Its final screenshot is README.md's picture of the on-call workflow,
// examples/oncall.png.
func TestOnCallInBrowser(t *testing.T) {
	amtest.Require(t)
	browsertest.Chromium(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	am := amtest.StartConfig(t, amtest.Config{
		WebhookURL: "http://" + addr + "/webhook",
		Receiver:   "team-db",
		GroupBy:    []string{"alertname", "cluster"},
	})
	cfg := filepath.Join(dir, "amslack.yml")
	config := fmt.Sprintf(`
slack: {mode: preview, signing_secret: preview-secret}
alertmanager: {url: %s}
routes:
  - name: default
    channel: %s
    silence_durations: [30m, 1h, 4h]
    escalate:
      steps:
        - {after: 1s, mention: "<@U0PREVIEWC>"}
`, am.URL, channel)
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	a, err := app.New(app.Options{
		ConfigFile: cfg, StoragePath: filepath.Join(dir, "data"), ListenAddress: addr,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Errorf("stop amslack: %v", err)
		}
		if t.Failed() {
			t.Logf("amslack's log:\n%s", logs.String())
		}
	})

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
	has := func(sel, text string) string {
		return fmt.Sprintf(`(document.querySelector(%q)?.innerText ?? "").includes(%q)`, sel, text)
	}

	do("open the preview", chromedp.Navigate("http://"+addr+"/preview?user="+alice),
		chromedp.WaitVisible(chromedp.CSS(`[data-role=home-open]`)))

	// A group of two alerts through the real Alertmanager, and a group of
	// one in another cluster.
	disk := func(cluster, instance, severity string) amtest.Alert {
		return amtest.Alert{
			Labels:      map[string]string{"alertname": "DiskFull", "cluster": cluster, "instance": instance, "severity": severity},
			Annotations: map[string]string{"summary": "Disk almost full on " + instance},
		}
	}
	am.PostAlerts(t, disk("prod", "db-1", "critical"), disk("prod", "db-2", "critical"))
	prod := fmt.Sprintf(`.message[data-channel=%q]:not([data-thread-ts])`, channel)
	do("the message appears", chromedp.WaitVisible(chromedp.CSS(prod+` select[data-action-id="silence_alert"]`)))
	ts, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).dataset.ts`, prod)))
	if err != nil || ts == "" {
		t.Fatalf("message ts: %q %v", ts, err)
	}
	prod = fmt.Sprintf(`.message[data-ts=%q]`, ts)
	am.PostAlerts(t, disk("staging", "db-9", "warning"))
	waitPage("the staging group's message", fmt.Sprintf(`document.querySelectorAll('.message[data-channel=%q]:not([data-thread-ts])').length === 2`, channel))

	// The per-alert select lists the group's two alerts by what tells
	// them apart.
	options, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(
		`[...document.querySelectorAll('%s select[data-action-id="silence_alert"] option:not([disabled])')].map((o) => o.textContent)`, prod)))
	if err != nil || len(options) != 2 || !strings.Contains(options[0]+options[1], "db-1") || !strings.Contains(options[0]+options[1], "db-2") {
		t.Errorf("silence_alert options = %q, %v; want db-1 and db-2", options, err)
	}

	// Custom silence… opens the preview with the group's count.
	modal := `.modal[data-callback-id="silence_preview"]`
	count := modal + ` [data-block-id="preview_count"]`
	matchers := modal + ` input[data-block-id="preview_matchers"]`
	do("open the silence preview", chromedp.Click(chromedp.CSS(prod+` [data-action-id="silence_custom"]`)),
		chromedp.WaitVisible(chromedp.CSS(count)))
	waitPage("the group's two alerts counted", has(count, "Matches 2 alerts now"))
	hash := func() string {
		h, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).dataset.hash`, modal)))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	opened := hash()

	// Enter in the widened matchers asks for a new preview, which amslack
	// sends with views.update: three alerts, one outside the group.
	do("widen the matchers and press Enter",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, matchers)),
		chromedp.SendKeys(chromedp.CSS(matchers), `alertname="DiskFull"`+kb.Enter))
	waitPage("the widened count", has(count, "Matches 3 alerts now")+` && `+has(modal, "outside this alert group"))
	if widened := hash(); widened == opened {
		t.Errorf("the modal's hash stayed %q across views.update", widened)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).value`, matchers))); v != `alertname="DiskFull"` {
		t.Errorf("after the update the matchers read %q, want what was typed", v)
	}
	// Submitted so, without ticking the box, the modal stays open with
	// the box marked.
	confirmError := modal + ` .block[data-block-id="preview_confirm"] [data-role=field-error]`
	do("submit without confirming", chromedp.Click(chromedp.CSS(modal+` [data-role=view-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(confirmError)))
	waitPage("the box's error", has(confirmError, "Tick this box"))

	// Narrowed to db-1 with the Refresh preview button.
	do("narrow the matchers and press Refresh",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, matchers)),
		chromedp.SendKeys(chromedp.CSS(matchers), `alertname="DiskFull", instance="db-1"`),
		chromedp.Click(chromedp.CSS(modal+` [data-action-id="preview_refresh"]`)))
	waitPage("the narrowed count", has(count, "Matches 1 alert now"))
	artifact(t, ctx, "oncall-modal.png", "", 1000)
	do("comment and submit",
		chromedp.SendKeys(chromedp.CSS(modal+` textarea[data-block-id="preview_comment"]`), "replacing the disk"),
		chromedp.Click(chromedp.CSS(modal+` [data-role=view-submit]`)),
		chromedp.WaitNotPresent(chromedp.CSS(modal)))
	waitPage("the message shows one of two silenced", has(prod, "1 of 2 silenced"))
	var silenceID string
	for deadline := time.Now().Add(20 * time.Second); silenceID == "" && time.Now().Before(deadline); {
		for _, s := range am.ActiveSilences(t) {
			if strings.Contains(s.CreatedBy, alice) {
				silenceID = s.ID
			}
		}
		if silenceID == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if silenceID == "" {
		t.Fatalf("no silence by alice in Alertmanager: %+v", am.Silences(t))
	}

	// The thread tells the story so far: the escalation (its step is due
	// a second after the message; amslack looks every 15 seconds) and the
	// silence of one alert. Once the status line has faded, this is the
	// README's picture.
	replies := prod + ` [data-role=replies]`
	waitPage("the escalation", has(prod, "Escalated to @carol"))
	do("open the thread", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('%s [data-role=thread-toggle]').click()`, prod)),
		chromedp.WaitVisible(chromedp.CSS(replies+` .message`)))
	waitPage("the thread's notes", has(replies, "Escalated to @carol")+` && `+has(replies, "Silenced 1 of 2 alerts by @alice"))
	waitPage("the status line faded", `document.querySelector("[data-role=status]").className === "status"`)
	shot, path := artifact(t, ctx, "oncall.png", prod, 0)
	browsertest.CheckScreenshot(t, oncallScreenshot, shot, path, refreshOncall, *updateScreenshot)

	// App Home: the firing groups, and alice's own silence with its
	// Expire button.
	home := `section[data-role=home]`
	do("open App Home", chromedp.Click(chromedp.CSS(`[data-role=home-open]`)), chromedp.WaitVisible(chromedp.CSS(home)))
	waitPage("alice's Home", has(home, "Firing (2)")+` && `+has(home, "Your silences and acknowledgements (1)"))
	expire := home + ` [data-action-id="silence_expire"]`
	do("alice's Expire button", chromedp.WaitVisible(chromedp.CSS(expire)))
	artifact(t, ctx, "oncall-home.png", "", 0)

	// Its links lead to the messages.
	do("follow a link to the message", chromedp.Click(chromedp.CSS(home+` a[data-jump-ts="`+ts+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(prod+`.highlight`)))
	do("open App Home again", chromedp.Click(chromedp.CSS(`[data-role=home-open]`)), chromedp.WaitVisible(chromedp.CSS(expire)))

	// Bob's Home lists the same groups and none of alice's silences.
	do("switch to bob", choose(`select[data-role=user-switcher]`, bob))
	waitPage("bob's Home", has(home, "Firing (2)")+` && `+has(home, "Your silences and acknowledgements (0)"))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, expire))); n != 0 {
		t.Errorf("bob's Home shows %d Expire buttons", n)
	}

	// Alice expires her silence from Home: it ends in Alertmanager, and
	// the thread says so.
	do("switch back to alice", choose(`select[data-role=user-switcher]`, alice))
	waitPage("alice's Home again", has(home, "Your silences and acknowledgements (1)"))
	do("expire from Home", chromedp.Click(chromedp.CSS(expire)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-role=confirm][open] [data-role=confirm-yes]`)),
		chromedp.Click(chromedp.CSS(`dialog[data-role=confirm][open] [data-role=confirm-yes]`)))
	waitPage("Home without the silence", has(home, "Your silences and acknowledgements (0)"))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if s := am.Silence(t, silenceID); s.Status.State == "expired" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("silence %s is %q in Alertmanager, want expired", silenceID, am.Silence(t, silenceID).Status.State)
		}
	}
	do("back to the channel", chromedp.Click(chromedp.CSS(`#channel-list a`)), chromedp.WaitVisible(chromedp.CSS(prod)))
	waitPage("the expiry in the thread", has(replies, "Silence expired by @alice"))

	// Silence one alert… silences db-2 alone, at once.
	do("silence db-2 alone", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector('%s select[data-action-id="silence_alert"]');
		s.value = [...s.options].find((o) => o.textContent.includes("db-2")).value;
		s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, prod)))
	waitPage("db-2's silence on the message", has(prod, "1 of 2 silenced"))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		states := map[string]string{}
		for _, a := range am.Alerts(t, `alertname="DiskFull"`, `cluster="prod"`) {
			states[a.Labels["instance"]] = a.Status.State
		}
		if states["db-1"] == "active" && states["db-2"] == "suppressed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager's alerts are %v, want db-2 alone suppressed", states)
		}
	}

	for _, ex := range exceptions() {
		t.Errorf("page threw: %s", ex)
	}
}

// artifact saves a screenshot of the page as name in the artifact
// directory, and returns it and its path. The page scrolls inside a
// window-high layout, so a screenshot is as high as the window whatever it
// shows: it is cut below what upTo selects (all the page's content when
// "") and made at least minHeight high.
func artifact(t *testing.T, ctx context.Context, name, upTo string, minHeight int64) ([]byte, string) {
	t.Helper()
	if upTo == "" {
		upTo = ".topbar *, #channels *, .sidebar *"
	}
	height, err := chromedp.Run(ctx, chromedp.Evaluate[int64](fmt.Sprintf(`(() => {
		const bottoms = [...document.querySelectorAll(%q)].map((e) => e.getBoundingClientRect().bottom);
		return Math.ceil(Math.max(...bottoms)) + 6;
	})()`, upTo)))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, max(height, minHeight))); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	// The window's own size again, for the steps that follow.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1000)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(browsertest.ArtifactDir(t), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return shot, path
}

// freeAddr returns a loopback address with a port that was free a moment
// ago: Alertmanager's configuration names amslack's before amslack starts.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// lockedBuffer collects amslack's log, which its goroutines write.
type lockedBuffer struct {
	// mu guards b.
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
