package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/amslack/amslack/receiver/slackapi/slackfake"
)

// readmeSection returns the README's section under the heading "## title",
// up to the next heading of that level.
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("the README has no section %q", title)
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	return section
}

// TestReadmeInstall checks that the README's Install section matches the
// module: the Go version go.mod needs, the module path to go install, the
// package to build, and the image's build argument.
func TestReadmeInstall(t *testing.T) {
	install := readmeSection(t, "Install")
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	module := regexp.MustCompile(`(?m)^module (\S+)`).FindSubmatch(mod)
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if module == nil || goVersion == nil {
		t.Fatal("go.mod lacks its module or go directive")
	}
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Go " + string(goVersion[1]) + " or later",
		"go install " + string(module[1]) + "/cmd/amslack@latest",
		"go build -v -o amslack ./cmd/amslack",
		"docker build --build-arg VERSION=",
	} {
		if !strings.Contains(install, want) {
			t.Errorf("the Install section does not say %q", want)
		}
	}
	if !strings.Contains(string(dockerfile), "\nARG VERSION") {
		t.Error("the README builds the image with VERSION, which the Dockerfile does not declare")
	}
}

// TestReadmeReadyLine checks the line the Quick start tells people to wait
// for.
func TestReadmeReadyLine(t *testing.T) {
	quick := readmeSection(t, "Quick start")
	m := regexp.MustCompile("`(msg=Listening address=)127.0.0.1:9097`").FindStringSubmatch(quick)
	if m == nil {
		t.Fatal("the Quick start does not say which line amslack logs when it is ready")
	}
	_, slackURL := fakeSlack(t, slackfake.Options{})
	cfg := fmt.Sprintf("slack: {api_url: %s/api/, bot_token: xoxb-x, signing_secret: s3cret}\nroutes: [{channel: C0READYL01}]\n", slackURL)
	p := startAmslack(t, cfg, "")
	if want := m[1] + p.addr; !strings.Contains(p.Output(), want) {
		t.Errorf("amslack did not log %q once ready:\n%s", want, p.Output())
	}
}
