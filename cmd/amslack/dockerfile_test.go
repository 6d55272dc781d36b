package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	stage int // index of the FROM that starts its stage
	cmd   string
	args  string
}

// parseDockerfile reads the project's Dockerfile into instructions.
func parseDockerfile(t *testing.T) []instruction {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	stage := -1
	var cur string
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		cmd, args, _ := strings.Cut(cur, " ")
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{stage: stage, cmd: cmd, args: strings.TrimSpace(args)})
		cur = ""
	}
	return out
}

// TestDockerfile checks what the image is made of, since no container
// engine runs in the tests: the default configuration is one the operator
// provides, the volume belongs to the user the image runs as, and the
// version comes from a build argument.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t)
	last := 0
	for _, in := range ins {
		last = in.stage
	}
	var cmdArgs []string
	var user, volume string
	var chownedStorage, versionArg bool
	var buildLine string
	for _, in := range ins {
		switch {
		case in.cmd == "COPY" && in.stage == last:
			if strings.Contains(in.args, "examples/") || strings.Contains(in.args, "/etc/amslack") {
				t.Errorf("the image ships a configuration (COPY %s): a container started without its own would run with it", in.args)
			}
			// Distroless's nonroot user is uid 65532
			// (github.com/GoogleContainerTools/distroless, base/base.bzl).
			if strings.Contains(in.args, "--chown=65532:65532") && strings.HasSuffix(in.args, " /var/lib/amslack") {
				chownedStorage = true
			}
		case in.cmd == "USER" && in.stage == last:
			user = in.args
		case in.cmd == "VOLUME" && in.stage == last:
			volume = in.args
		case in.cmd == "CMD" && in.stage == last:
			if err := json.Unmarshal([]byte(in.args), &cmdArgs); err != nil {
				t.Errorf("CMD %s is not in exec form: %v", in.args, err)
			}
		case in.cmd == "ARG" && in.stage < last && strings.HasPrefix(in.args, "VERSION"):
			versionArg = true
		case in.cmd == "RUN" && strings.Contains(in.args, "go build"):
			buildLine = in.args
		}
	}
	if want := []string{"--config.file=/etc/amslack/amslack.yml", "--storage.path=/var/lib/amslack"}; strings.Join(cmdArgs, " ") != strings.Join(want, " ") {
		t.Errorf("CMD %q, want %q", cmdArgs, want)
	}
	if user != "65532:65532" && user != "nonroot:nonroot" {
		t.Errorf("USER %q, want the distroless nonroot user", user)
	}
	if !strings.Contains(volume, "/var/lib/amslack") {
		t.Errorf("VOLUME %q, want /var/lib/amslack", volume)
	}
	if !chownedStorage {
		t.Error("/var/lib/amslack is not copied into the image owned by 65532:65532: a volume mounted there is created owned by root, and amslack cannot write its outbox")
	}
	if !versionArg {
		t.Error("the build stage declares no ARG VERSION")
	}
	if !strings.Contains(buildLine, "-X github.com/prometheus/common/version.Version=${VERSION}") {
		t.Errorf("go build does not set the version from VERSION: RUN %s", buildLine)
	}
	if !strings.Contains(buildLine, "./cmd/amslack") {
		t.Errorf("go build does not build ./cmd/amslack: RUN %s", buildLine)
	}

	// The Go image must be able to build the module.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	if from := ins[0]; from.cmd != "FROM" || !strings.HasPrefix(from.args, "golang:"+string(goVersion[1])+" ") {
		t.Errorf("the build stage is FROM %s; go.mod needs Go %s", from.args, goVersion[1])
	}
}

// TestImageDefaultCommandWithoutConfig runs amslack with the arguments of
// the image's CMD and no configuration file, as a container started without
// one would: amslack must stop at once and say, in one line, which file is
// missing and what to do about it.
func TestImageDefaultCommandWithoutConfig(t *testing.T) {
	var args []string
	for _, in := range parseDockerfile(t) {
		if in.cmd == "CMD" {
			args = nil
			if err := json.Unmarshal([]byte(in.args), &args); err != nil {
				t.Fatal(err)
			}
		}
	}
	var cfg string
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			cfg = v
		}
		// The image's storage path is its volume; here it is a
		// temporary directory, which amslack must not need to reach.
		if strings.HasPrefix(a, "--storage.path=") {
			args[i] = "--storage.path=" + filepath.Join(t.TempDir(), "data")
		}
	}
	if cfg == "" {
		t.Fatalf("the image's CMD %q gives no --config.file", args)
	}
	if _, err := os.Stat(cfg); err == nil {
		t.Skipf("%s exists on this machine, so the image's default command would find it", cfg)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	args = append(args, "--web.listen-address="+freeAddr(t))
	out, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("amslack did not exit within 30s without its configuration file:\n%s", out)
	}
	if err == nil {
		t.Fatalf("amslack exited 0 without its configuration file:\n%s", out)
	}
	var errorLines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, "level=ERROR") {
			errorLines = append(errorLines, l)
		}
	}
	if len(errorLines) != 1 {
		t.Fatalf("%d error lines, want 1:\n%s", len(errorLines), out)
	}
	line := errorLines[0]
	for _, want := range []string{"file=" + cfg, "--config.file", "mount", "examples/amslack.yml"} {
		if !strings.Contains(line, want) {
			t.Errorf("the error does not say %q:\n%s", want, line)
		}
	}
}
