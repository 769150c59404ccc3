package main

import (
	"archive/zip"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const testID = "phonesignals-phonesignals-datasource"

// entry is one file of a test archive.
type entry struct {
	mode fs.FileMode
	body []byte
}

// goodArchive is a release archive that passes every rule for the host
// platform: the test binary stands in for the backend (a Go binary with
// the host's build info), the manifest covers src.
func goodArchive(t *testing.T, src string) map[string]entry {
	t.Helper()
	root := repoRoot(t)
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pj, err := RenderPluginJSON(read("grafana/src/plugin.json"), "0.1.0", "2026-12-04")
	if err != nil {
		t.Fatal(err)
	}
	bin := hostBinary(t)
	manifest, err := GoManifest(src)
	if err != nil {
		t.Fatal(err)
	}
	d := testID + "/"
	return map[string]entry{
		d:                   {fs.ModeDir | 0o755, nil},
		d + "plugin.json":   {0o644, pj},
		d + "module.js":     {0o644, []byte("define([],function(){});\n")},
		d + "module.js.map": {0o644, []byte("{}\n")},
		d + "README.md":     {0o644, []byte("# phonesignals\n")},
		d + "CHANGELOG.md":  {0o644, []byte("# Changelog\n\n## 0.1.0\n")},
		d + "LICENSE":       {0o644, read("LICENSE")},
		d + "img/logo.svg":  {0o644, read("grafana/src/img/logo.svg")},
		d + ManifestFile:    {0o644, []byte(manifest)},
		d + BinaryName("gpx_phonesignals", HostPlatform()): {0o755, bin},
	}
}

var hostBin []byte

// hostBinary is the test binary itself: a Go binary built for the host.
func hostBinary(t *testing.T) []byte {
	t.Helper()
	if hostBin == nil {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		if hostBin, err = os.ReadFile(exe); err != nil {
			t.Fatal(err)
		}
	}
	return hostBin
}

func writeZip(t *testing.T, entries map[string]entry) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plugin.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := &zip.FileHeader{Name: n, Method: zip.Store} // fast: the binary is large
		h.SetMode(entries[n].mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(entries[n].body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func sourceTree(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	writeTree(t, src, map[string]string{"go.mod": "module x\n", "pkg/main.go": "package main\n"})
	return src
}

func rules(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Rule)
	}
	return out
}

func editJSON(t *testing.T, e map[string]entry, from, to string) {
	t.Helper()
	p := testID + "/plugin.json"
	s := string(e[p].body)
	if !strings.Contains(s, from) {
		t.Fatalf("plugin.json has no %q", from)
	}
	e[p] = entry{0o644, []byte(strings.Replace(s, from, to, 1))}
}

// TestCheckRules: a good archive passes; each mutation breaks the
// validator rule it should.
func TestCheckRules(t *testing.T) {
	src := sourceTree(t)
	host := BinaryName("gpx_phonesignals", HostPlatform())
	d := testID + "/"
	cases := []struct {
		name   string
		mutate func(map[string]entry)
		rule   string
	}{
		{"good", func(map[string]entry) {}, ""},
		{"folder not named by the id", func(e map[string]entry) { rename(e, testID, "dist") }, "no-ident-root-dir"},
		{"two top folders", func(e map[string]entry) { e["other/"] = entry{fs.ModeDir | 0o755, nil} }, "more-than-one-dir"},
		{"a file at the top", func(e map[string]entry) { e["README.md"] = entry{0o644, []byte("x")} }, "more-than-one-dir"},
		{"dist inside the folder", func(e map[string]entry) { e[d+"dist/module.js"] = entry{0o644, []byte("x")} }, "dist"},
		{"binary not executable", func(e map[string]entry) { e[d+host] = entry{0o644, e[d+host].body} }, "binary-executable-permissions"},
		{"binary group-writable", func(e map[string]entry) { e[d+host] = entry{0o775, e[d+host].body} }, "binary-executable-permissions"},
		{"world-writable file", func(e map[string]entry) { e[d+"README.md"] = entry{0o666, e[d+"README.md"].body} }, "world-writable"},
		{"symlink", func(e map[string]entry) { e[d+"link"] = entry{fs.ModeSymlink | 0o777, []byte("/etc/passwd")} }, "archive-files-error"},
		{"path escaping", func(e map[string]entry) { e[d+"../x"] = entry{0o644, []byte("x")} }, "archive-files-error"},
		{"binary missing", func(e map[string]entry) { delete(e, d+host) }, "backend-binary-missing"},
		{"binary misnamed", func(e map[string]entry) { e[d+"gpx_phonesignals_plan9_386.exe"] = e[d+host] }, "backend-binary-name"},
		{"binary for another platform", func(e map[string]entry) { e[d+"gpx_phonesignals_freebsd_riscv64"] = e[d+host] }, "backend-binary-name"},
		{"not a Go binary", func(e map[string]entry) { e[d+host] = entry{0o755, []byte("#!/bin/sh\n")} }, "backend-binary-name"},
		{"no LICENSE", func(e map[string]entry) { delete(e, d+"LICENSE") }, "license-not-provided"},
		{"not Apache-2.0", func(e map[string]entry) { e[d+"LICENSE"] = entry{0o644, []byte("MIT License\n")} }, "license-not-valid"},
		{"template LICENSE", func(e map[string]entry) {
			e[d+"LICENSE"] = entry{0o644, []byte(strings.Replace(string(e[d+"LICENSE"].body), "2026 phonesignals authors", "{yyyy} {name of copyright owner}", 1))}
		}, "license-with-generic-text"},
		{"no plugin.json", func(e map[string]entry) { delete(e, d+"plugin.json") }, "missing-metadata"},
		{"version placeholder left", func(e map[string]entry) { editJSON(t, e, `"0.1.0"`, `"%VERSION%"`) }, "wrong-plugin-version"},
		{"version not semver", func(e map[string]entry) { editJSON(t, e, `"0.1.0"`, `"0.1"`) }, "wrong-plugin-version"},
		{"date placeholder left", func(e map[string]entry) { editJSON(t, e, `"2026-12-04"`, `"%TODAY%"`) }, "invalid-metadata"},
		{"no grafanaDependency", func(e map[string]entry) { editJSON(t, e, `"grafanaDependency": ">=13.2.0",`, ``) }, "invalid-grafana-dependency"},
		{"bad grafanaDependency", func(e map[string]entry) { editJSON(t, e, `">=13.2.0"`, `"thirteen"`) }, "invalid-grafana-dependency"},
		{"no executable", func(e map[string]entry) { editJSON(t, e, `"executable": "gpx_phonesignals",`, ``) }, "backend-binary-missing"},
		{"backend false", func(e map[string]entry) { editJSON(t, e, `"backend": true`, `"backend": false`) }, "alerting-found-but-backend-false"},
		{"backend false, no alerting", func(e map[string]entry) {
			editJSON(t, e, `"backend": true`, `"backend": false`)
			editJSON(t, e, `"alerting": true`, `"alerting": false`)
		}, "backend-found-but-not-declared"},
		{"no id", func(e map[string]entry) { editJSON(t, e, `"id": "`+testID+`",`, ``) }, "invalid-metadata"},
		{"name is the id", func(e map[string]entry) { editJSON(t, e, `"name": "phonesignals"`, `"name": "`+testID+`"`) }, "human-friendly-name"},
		{"unknown key", func(e map[string]entry) { editJSON(t, e, `"metrics": true`, `"metrics": true, "colour": "blue"`) }, "invalid-metadata"},
		{"no README", func(e map[string]entry) { delete(e, d+"README.md") }, "missing-readme"},
		{"README comment", func(e map[string]entry) { e[d+"README.md"] = entry{0o644, []byte("# x\n<!-- todo -->\n")} }, "readme-comment"},
		{"no CHANGELOG", func(e map[string]entry) { delete(e, d+"CHANGELOG.md") }, "missing-changelog"},
		{"no module.js", func(e map[string]entry) { delete(e, d+"module.js"); delete(e, d+"module.js.map") }, "missing-modulejs"},
		{"no source map", func(e map[string]entry) { delete(e, d+"module.js.map") }, "js-map-not-found"},
		{"debug file", func(e map[string]entry) { e[d+"standalone.txt"] = entry{0o644, []byte("1")} }, "backend-debug-file-present"},
		{"no logo", func(e map[string]entry) { delete(e, d+"img/logo.svg") }, "path-not-exists"},
		{"unsafe logo", func(e map[string]entry) {
			e[d+"img/logo.svg"] = entry{0o644, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)}
		}, "unsafe-svg-file"},
		{"no manifest", func(e map[string]entry) { delete(e, d+ManifestFile) }, "no-go-manifest"},
		{"manifest of binaries", func(e map[string]entry) { e[d+ManifestFile] = entry{0o644, []byte(sum("x") + "  " + host + "\n")} }, "no-go-manifest"},
		{"manifest of other sources", func(e map[string]entry) {
			e[d+ManifestFile] = entry{0o644, []byte(sum("package main // old\n") + ":pkg/main.go\n")}
		}, "go-manifest-issue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := goodArchive(t, src)
			c.mutate(e)
			problems, err := Check(writeZip(t, e), CheckOptions{Platforms: []Platform{HostPlatform()}, SourceDir: src})
			if err != nil {
				t.Fatal(err)
			}
			got := rules(problems)
			if c.rule == "" && len(problems) > 0 || c.rule != "" && !contains(got, c.rule) {
				t.Errorf("rules %v, want %q; problems:\n%v", got, c.rule, problems)
			}
		})
	}
}

func rename(e map[string]entry, from, to string) {
	for n, v := range e {
		if strings.HasPrefix(n, from+"/") {
			delete(e, n)
			e[to+strings.TrimPrefix(n, from)] = v
		}
	}
}

// TestCheckWantsEveryPlatform: a release needs all six binaries.
func TestCheckWantsEveryPlatform(t *testing.T) {
	src := sourceTree(t)
	problems, err := Check(writeZip(t, goodArchive(t, src)), CheckOptions{SourceDir: src})
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, p := range problems {
		if p.Rule == "backend-binary-missing" {
			missing++
		}
	}
	if missing != len(AllPlatforms)-1 {
		t.Errorf("%d missing binaries reported, want %d: %v", missing, len(AllPlatforms)-1, problems)
	}
}

// TestZipNormalisesModes: Zip names the folder by the plugin id and
// writes binaries 0755 and the rest 0644 whatever the files' modes in
// dist, so the archive passes however it was built.
func TestZipNormalisesModes(t *testing.T) {
	src := sourceTree(t)
	dist := t.TempDir()
	for name, e := range goodArchive(t, src) {
		rel := strings.TrimPrefix(name, testID+"/")
		if rel == "" {
			continue
		}
		mode := fs.FileMode(0o666)
		if strings.HasPrefix(rel, "gpx_") {
			mode = 0o700
		}
		writeTree(t, dist, map[string]string{rel: string(e.body)})
		if err := os.Chmod(filepath.Join(dist, rel), mode); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "x.zip")
	if err := Zip(dist, out); err != nil {
		t.Fatal(err)
	}
	problems, err := Check(out, CheckOptions{Platforms: []Platform{HostPlatform()}, SourceDir: src})
	if err != nil || len(problems) > 0 {
		t.Fatalf("Zip's archive: %v, %v", problems, err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dist, "link")); err != nil {
		t.Fatal(err)
	}
	if err := Zip(dist, out); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Zip packed a symlink: %v", err)
	}
}
