package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// TestDeadLetterListEscapesTerminalControls dead-letters a notification
// whose receiver and group key hold terminal escape sequences, a line break
// and a fake table row: `amslack dlq list` prints them as visible escapes,
// so the terminal is neither cleared nor shown a row that does not exist.
func TestDeadLetterListEscapesTerminalControls(t *testing.T) {
	fake, slackURL := fakeSlack(t, slackfake.Options{})
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x}\nroutes: [{channel: C0DLQESC01}]\n", slackURL)
	p := startAmslack(t, cfg, "")
	fake.FailNext("chat.postMessage", 1, 200, "channel_not_found")
	// JSON escapes: ESC [2J clears the screen, ESC [H homes the cursor, a
	// C1 CSI (U+009B) and DEL, then a line that looks like a dead letter.
	payload := strings.NewReplacer(
		`"receiver":"storm"`, `"receiver":"storm\u001b]0;owned\u0007"`,
		`"groupKey":"{}:{alertname=\"Escape\"}"`, `"groupKey":"{}:{alertname=\"Escape\"}\u001b[2J\u001b[H\u009b31m\u007f\n999  2026-01-01T00:00:00Z  C0FAKE0001  fake  firing  0  fine  {}"`,
	).Replace(string(groupPayload("Escape", "firing")))
	if code, body := postWebhook(t, p.URL+"/webhook", []byte(payload), nil); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}

	list := func() string {
		t.Helper()
		out, err := exec.Command(binary, "dlq", "--amslack.url="+p.URL, "list").Output()
		if err != nil {
			t.Fatalf("amslack dlq list: %v\n%s", err, out)
		}
		return string(out)
	}
	out := list()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out, "1 dead letters"); out = list() {
		if time.Now().After(deadline) {
			t.Fatalf("the dead letter did not appear:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, r := range out {
		if r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f) {
			t.Errorf("output holds control character %U at byte %d:\n%q", r, i, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("%d lines, want the header, one dead letter and the count:\n%s", n, out)
	}
	for _, want := range []string{`\x1b[2J`, `\x1b[H`, `\u009b31m`, `\x7f`, `\n999`, `\x1b]0;owned\a`, "channel_not_found"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not show %q:\n%s", want, out)
		}
	}
}

func TestTerminalSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                     "plain",
		`{}:{alertname="DiskFull"}`: `{}:{alertname="DiskFull"}`,
		"web.hook team-db":          "web.hook team-db",
		"ünïcödé ✓":                 "ünïcödé ✓",
		"":                          "",
		"a\x1b[2Jb":                 `"a\x1b[2Jb"`,
		"tab\there":                 `"tab\there"`,
		"line\nbreak\r":             `"line\nbreak\r"`,
		"del\x7f":                   `"del\x7f"`,
		"c1\u009b31m":               `"c1\u009b31m"`,
		"bidi\u202eevil":            `"bidi\u202eevil"`,
		"bad\xffutf8":               `"bad\xffutf8"`,
	} {
		if got := terminalSafe(in); got != want {
			t.Errorf("terminalSafe(%q) = %s, want %s", in, got, want)
		}
	}
}
