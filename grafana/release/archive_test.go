package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReleaseArchive (issue 18, section 4) builds the plugin as `make
// grafana` does (grafana/build.sh: this machine's backend only), packs it
// as `make grafana-zip` does, and checks the archive against the plugin
// validator's offline rules with the repository as its source. `make
// grafana-zip` runs the same check on the six-platform build.
func TestReleaseArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin (webpack and the backend)")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed (make test installs it): the archive carries the frontend")
	}
	root := repoRoot(t)
	dist := filepath.Join(t.TempDir(), "dist")
	start := time.Now()
	cmd := exec.Command("bash", filepath.Join(root, "grafana", "build.sh"))
	cmd.Env = append(withoutGoTarget(os.Environ()), "DIST="+dist)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("grafana/build.sh: %v\n%s", err, out)
	}
	t.Logf("build.sh (host only) took %s", time.Since(start).Round(time.Second))

	// make grafana builds this machine's backend, not every platform.
	bins, _ := filepath.Glob(filepath.Join(dist, "gpx_*"))
	if host := filepath.Join(dist, BinaryName("gpx_phonesignals", HostPlatform())); len(bins) != 1 || bins[0] != host {
		t.Errorf("build.sh built %v: want %s alone (make grafana-zip builds every platform)", bins, host)
	}

	out := filepath.Join(t.TempDir(), "plugin.zip")
	problems := packAndCheck(t, dist, out, root)
	if onlyRule(problems, "go-manifest-issue") {
		// Someone edited a .go file between the build and the check.
		t.Logf("the source changed during the build (%v); hashing it again", problems)
		if err := run([]string{"manifest", "-root", root, "-out", filepath.Join(dist, ManifestFile)}, io.Discard); err != nil {
			t.Fatal(err)
		}
		problems = packAndCheck(t, dist, out, root)
	}
	for _, p := range problems {
		t.Error(p)
	}
	checkContent(t, out, root)
}

func packAndCheck(t *testing.T, dist, out, root string) []Problem {
	t.Helper()
	if err := Zip(dist, out); err != nil {
		t.Fatal(err)
	}
	problems, err := Check(out, CheckOptions{Platforms: []Platform{HostPlatform()}, SourceDir: root})
	if err != nil {
		t.Fatal(err)
	}
	return problems
}

func onlyRule(ps []Problem, rule string) bool {
	for _, p := range ps {
		if p.Rule != rule {
			return false
		}
	}
	return len(ps) > 0
}

func withoutGoTarget(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "GOOS=") && !strings.HasPrefix(e, "GOARCH=") && !strings.HasPrefix(e, "DIST=") {
			out = append(out, e)
		}
	}
	return out
}

// checkContent: the archive holds what the issue lists, the repository's
// LICENSE, and plugin.json with package.json's version and today's date.
func checkContent(t *testing.T, archive, root string) {
	t.Helper()
	zr, err := zip.OpenReader(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	d := testID + "/"
	want := []string{"plugin.json", "module.js", "README.md", "CHANGELOG.md", "LICENSE", "img/logo.svg", ManifestFile,
		BinaryName("gpx_phonesignals", HostPlatform()), "dashboards/phonesignals-team.json"}
	for _, w := range want {
		if _, ok := files[d+w]; !ok {
			t.Errorf("the archive has no %s%s; it has %v", d, w, sortedKeys(files))
		}
	}
	license, _ := os.ReadFile(filepath.Join(root, "LICENSE"))
	if !bytes.Equal(files[d+"LICENSE"], license) || len(license) == 0 {
		t.Error("the archive's LICENSE is not the repository's")
	}
	var pj struct {
		Info struct{ Version, Updated string } `json:"info"`
	}
	if err := json.Unmarshal(files[d+"plugin.json"], &pj); err != nil {
		t.Fatal(err)
	}
	version, _ := PackageVersion(filepath.Join(root, "grafana", "package.json"))
	today := time.Now().UTC().Format(time.DateOnly)
	yesterday := time.Now().UTC().Add(-24 * time.Hour).Format(time.DateOnly) // a build across midnight
	if pj.Info.Version != version || (pj.Info.Updated != today && pj.Info.Updated != yesterday) {
		t.Errorf("plugin.json info.version %q, updated %q: want %q (package.json) and %s (the build's date)", pj.Info.Version, pj.Info.Updated, version, today)
	}
	t.Logf("archive: %s", strings.Join(sortedKeys(files), " "))
}
