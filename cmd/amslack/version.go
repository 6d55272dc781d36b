package main

import (
	"regexp"
	"runtime/debug"
	"time"

	"github.com/prometheus/common/version"
)

func init() {
	if bi, ok := debug.ReadBuildInfo(); ok {
		stampVersion(bi)
	} else if version.Version == "" {
		version.Version = "(devel)"
	}
}

// pseudoVersion matches the end of a Go pseudo-version, such as
// v0.0.0-20261130175608-d318c40e3b1c: the commit's UTC time and the first
// 12 hex digits of its hash, optionally followed by +dirty or
// +incompatible (go.dev/ref/mod#pseudo-versions).
var pseudoVersion = regexp.MustCompile(`[-.]([0-9]{14})-([0-9a-f]{12})(\+[a-z]+)?$`)

// stampVersion fills in the version information that amslack --version and
// amslack_build_info report, from what the Go toolchain records in the
// binary; values set with -ldflags -X (the container image sets the
// version) are kept.
//
// go build in a git checkout records the commit (vcs.revision), its time
// (vcs.time) and whether the tree had uncommitted changes (vcs.modified),
// and, since Go 1.24, a module version derived from them. go install
// module@version records that version and no vcs settings; a pseudo-version
// still names the commit. go run records neither ((devel)).
func stampVersion(bi *debug.BuildInfo) {
	if version.Version == "" {
		version.Version = "(devel)"
		if bi.Main.Version != "" {
			version.Version = bi.Main.Version
		}
	}
	var rev, at string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		if m := pseudoVersion.FindStringSubmatch(bi.Main.Version); m != nil {
			rev = m[2]
			if t, err := time.Parse("20060102150405", m[1]); err == nil {
				at = t.UTC().Format(time.RFC3339)
			}
		}
	}
	if version.Revision == "" && rev != "" {
		version.Revision = rev
		if modified {
			version.Revision += "-modified"
		}
	}
	if version.BuildDate == "" {
		version.BuildDate = at
	}
}
