// Command release builds and checks the phonesignals Grafana plugin's
// release archive, the one Grafana's plugin validator
// (github.com/grafana/plugin-validator) and grafana.com accept:
//
//	go run ./grafana/release plugin-json -src grafana/src/plugin.json -package grafana/package.json -out DIST/plugin.json
//	go run ./grafana/release version -package grafana/package.json
//	go run ./grafana/release manifest -root . -out DIST/go_plugin_build_manifest
//	go run ./grafana/release zip -dist grafana/dist [-out FILE.zip] [-platforms all|host] [-source .]
//	go run ./grafana/release check [-platforms all|host] [-source .] FILE.zip
//
// plugin-json fills create-plugin's %VERSION% (package.json's version) and
// %TODAY% (the build's UTC date, or SOURCE_DATE_EPOCH's) placeholders;
// manifest writes the Go SDK's go_plugin_build_manifest; zip packs a built
// dist/ as one folder named by the plugin id and checks it; check runs the
// validator's offline rules (check.go) on an archive. grafana/build.sh and
// `make grafana-zip` run them.
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
