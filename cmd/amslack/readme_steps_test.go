package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// shellBlocks returns the ```sh blocks of text, in order.
func shellBlocks(text string) []string {
	re := regexp.MustCompile("(?s)```sh\n(.*?)```")
	var out []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestReadmeInstallSteps follows the README's Install section as a new user
// would: it clones the repository and runs the build commands exactly as
// written, then the binary they built. Only the clone's address is
// replaced, by this checkout, since the tests reach no network. `go install
// …@latest` needs the module proxy to serve this module, and the image build
// a container engine; neither is followed here.
func TestReadmeInstallSteps(t *testing.T) {
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not a git checkout: the Install steps start with git clone")
	}
	var build string
	for _, b := range shellBlocks(readmeSection(t, "Install")) {
		if strings.Contains(b, "git clone ") {
			build = b
		}
	}
	if build == "" {
		t.Fatal("the Install section has no block that clones and builds amslack")
	}
	const upstream = "git clone https://github.com/amslack/amslack.git"
	if !strings.Contains(build, upstream) {
		t.Fatalf("the build block does not clone with %q:\n%s", upstream, build)
	}
	script := "set -eu\n" + strings.Replace(build, upstream, "git clone "+strings.TrimSpace(string(root))+" amslack", 1)
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = t.TempDir()
	// The steps assume Go's default settings. A machine's GOFLAGS, from
	// the environment or go env -w (-buildvcs=false, say), would change
	// what they build; -buildvcs=auto is Go's default.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOFLAGS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GOFLAGS=-buildvcs=auto")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's build steps failed: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`amslack, version \S+ \(branch: \S*, revision: [0-9a-f]{40}`).Match(out) {
		t.Errorf("./amslack --version after the README's build does not name a version and revision:\n%s", out)
	}
}
