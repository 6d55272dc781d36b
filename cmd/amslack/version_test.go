package main

import (
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/version"
)

// TestVersionFromGitCheckout checks that amslack built with go build in a
// git checkout, as TestMain builds it, reports the checkout's commit and
// its time in --version. go build stamps them into the binary when
// -buildvcs is auto, its default (go help buildflag).
func TestVersionFromGitCheckout(t *testing.T) {
	if err := exec.Command("git", "rev-parse", "HEAD").Run(); err != nil {
		t.Skipf("not a git checkout (git rev-parse HEAD: %v): the revision comes from the git stamp of go build", err)
	}
	// The commit the binary was built from: HEAD, or an ancestor of it
	// when a commit was made since TestMain built it.
	info, err := exec.Command("go", "version", "-m", binary).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	m := regexp.MustCompile(`\tbuild\tvcs\.revision=([0-9a-f]{40})\n`).FindSubmatch(info)
	if m == nil {
		t.Fatalf("go build did not stamp the commit into the binary:\n%s", info)
	}
	rev := string(m[1])
	if err := exec.Command("git", "merge-base", "--is-ancestor", rev, "HEAD").Run(); err != nil {
		t.Fatalf("the binary is stamped with %s, which is not HEAD or an ancestor of it: %v", rev, err)
	}
	ct, err := exec.Command("git", "show", "-s", "--format=%cI", rev).Output()
	if err != nil {
		t.Fatalf("git show: %v", err)
	}
	commitTime, err := time.Parse(time.RFC3339, strings.TrimSpace(string(ct)))
	if err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(binary, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("amslack --version: %v\n%s", err, out)
	}
	got := string(out)
	// A tree with uncommitted changes is stamped as modified.
	if !regexp.MustCompile(`revision: ` + rev + `(-modified)?\)`).MatchString(got) {
		t.Errorf("--version does not name commit %s as the revision:\n%s", rev, got)
	}
	if !strings.Contains(got, "build date:       "+commitTime.UTC().Format(time.RFC3339)) {
		t.Errorf("--version does not give the commit time %s as the build date:\n%s", commitTime.UTC().Format(time.RFC3339), got)
	}
	if !strings.Contains(got, "version v") || !strings.Contains(got, rev[:12]) {
		t.Errorf("--version does not give the module version go build derives from commit %s:\n%s", rev[:12], got)
	}
}

// TestStampVersion covers the ways amslack is built: from a checkout, with
// go install at a release or at a commit, and with the version set by
// -ldflags as the container image does.
func TestStampVersion(t *testing.T) {
	saved := []string{version.Version, version.Revision, version.BuildDate}
	t.Cleanup(func() { version.Version, version.Revision, version.BuildDate = saved[0], saved[1], saved[2] })

	vcs := func(rev, at, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: at}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "d318c40e3b1c9ed3d32f9323bf7a7f52a3c2062c"
	for _, tt := range []struct {
		name                 string
		ldflagsVersion       string
		main                 string
		settings             []debug.BuildSetting
		wantVersion, wantRev string
		wantDate             string
	}{
		{
			name: "go build in a clean checkout", main: "v0.0.0-20261130175608-d318c40e3b1c",
			settings:    vcs(rev, "2026-11-30T17:56:08Z", "false"),
			wantVersion: "v0.0.0-20261130175608-d318c40e3b1c", wantRev: rev, wantDate: "2026-11-30T17:56:08Z",
		},
		{
			name: "go build with uncommitted changes", main: "v0.0.0-20261130175608-d318c40e3b1c+dirty",
			settings:    vcs(rev, "2026-11-30T17:56:08Z", "true"),
			wantVersion: "v0.0.0-20261130175608-d318c40e3b1c+dirty", wantRev: rev + "-modified", wantDate: "2026-11-30T17:56:08Z",
		},
		{
			name: "go install at a release", main: "v1.4.0",
			wantVersion: "v1.4.0", wantRev: "unknown",
		},
		{
			name: "go install at a commit", main: "v1.4.1-0.20261130175608-d318c40e3b1c",
			wantVersion: "v1.4.1-0.20261130175608-d318c40e3b1c", wantRev: "d318c40e3b1c", wantDate: "2026-11-30T17:56:08Z",
		},
		{
			name: "go run", main: "(devel)",
			wantVersion: "(devel)", wantRev: "unknown",
		},
		{
			name: "image built with VERSION", ldflagsVersion: "v1.5.0", main: "(devel)",
			settings:    vcs(rev, "2026-11-30T17:56:08Z", "false"),
			wantVersion: "v1.5.0", wantRev: rev, wantDate: "2026-11-30T17:56:08Z",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version.Version, version.Revision, version.BuildDate = tt.ldflagsVersion, "", ""
			stampVersion(&debug.BuildInfo{Main: debug.Module{Path: "github.com/amslack/amslack", Version: tt.main}, Settings: tt.settings})
			if version.Version != tt.wantVersion || version.GetRevision() != tt.wantRev || version.BuildDate != tt.wantDate {
				t.Errorf("version %q, revision %q, build date %q; want %q, %q, %q",
					version.Version, version.GetRevision(), version.BuildDate, tt.wantVersion, tt.wantRev, tt.wantDate)
			}
			// amslack_build_info takes its labels from the same variables.
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(versioncollector.NewCollector("amslack"))
			want := `# HELP amslack_build_info A metric with a constant '1' value labeled by version, revision, branch, goversion from which amslack was built, and the goos and goarch for the build.
# TYPE amslack_build_info gauge
amslack_build_info{branch="",goarch="` + version.GoArch + `",goos="` + version.GoOS + `",goversion="` + version.GoVersion + `",revision="` + tt.wantRev + `",tags="` + version.GetTags() + `",version="` + tt.wantVersion + `"} 1
`
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "amslack_build_info"); err != nil {
				t.Error(err)
			}
		})
	}
}
