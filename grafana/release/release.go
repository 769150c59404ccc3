package main

import (
	"fmt"
	"runtime"
	"strings"
)

// Platform is one GOOS/GOARCH pair Grafana runs plugins on.
type Platform struct{ OS, Arch string }

func (p Platform) String() string { return p.OS + "/" + p.Arch }

// AllPlatforms are the platforms a release carries a backend binary for:
// those create-plugin's mage buildAll builds. The validator requires
// linux/amd64.
var AllPlatforms = []Platform{
	{"linux", "amd64"}, {"linux", "arm64"}, {"linux", "arm"},
	{"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"},
}

// HostPlatform is the machine's own platform: `make grafana` and the tests
// build it alone.
func HostPlatform() Platform { return Platform{runtime.GOOS, runtime.GOARCH} }

// BinaryName is the file Grafana starts for executable on p:
// <executable>_<os>_<arch>, plus .exe on Windows (the SDK's build and
// Grafana's plugin loader use the same rule).
func BinaryName(executable string, p Platform) string {
	name := fmt.Sprintf("%s_%s_%s", executable, p.OS, p.Arch)
	if p.OS == "windows" {
		name += ".exe"
	}
	return name
}

// parsePlatforms reads -platforms: "all", "host", or a comma-separated
// list of OS/ARCH.
func parsePlatforms(s string) ([]Platform, error) {
	switch s {
	case "all", "":
		return AllPlatforms, nil
	case "host":
		return []Platform{HostPlatform()}, nil
	}
	var out []Platform
	for _, f := range strings.Split(s, ",") {
		os, arch, ok := strings.Cut(strings.TrimSpace(f), "/")
		if !ok || os == "" || arch == "" {
			return nil, fmt.Errorf("-platforms %q: want all, host or OS/ARCH[,OS/ARCH]", s)
		}
		out = append(out, Platform{os, arch})
	}
	return out, nil
}
