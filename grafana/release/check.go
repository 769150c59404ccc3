package main

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
)

// The offline rules of Grafana's plugin validator
// (github.com/grafana/plugin-validator, pkg/analysis/passes), checked on a
// release archive. Each Problem names the validator's rule. The online
// rules (published version, org on grafana.com, virus scan, the source
// map diff, osv-scanner) need grafana.com or the network and are left to
// the validator itself.

// Severity is the validator's: an Error blocks publishing, a Warning not.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Problem is one finding, under the validator's rule name.
type Problem struct {
	Rule     string
	Severity Severity
	Msg      string
}

func (p Problem) String() string { return fmt.Sprintf("%s [%s]: %s", p.Severity, p.Rule, p.Msg) }

// CheckOptions are what an archive is checked against.
type CheckOptions struct {
	// Platforms must each have a backend binary. Default AllPlatforms.
	Platforms []Platform
	// SourceDir, when set, is the plugin's source (the module root): the
	// go_plugin_build_manifest must list exactly its .go files, hashes
	// matching, as the validator checks with a sourceCodeUri.
	SourceDir string
}

// checker holds one archive being checked.
type checker struct {
	opts     CheckOptions
	root     string               // the top folder
	files    map[string]*zip.File // by path under root
	problems []Problem
}

func (c *checker) report(rule string, sev Severity, format string, args ...any) {
	c.problems = append(c.problems, Problem{Rule: rule, Severity: sev, Msg: fmt.Sprintf(format, args...)})
}

// Check runs the offline rules on the archive at zipPath. An error means
// the archive could not be read at all.
func Check(zipPath string, opts CheckOptions) ([]Problem, error) {
	if len(opts.Platforms) == 0 {
		opts.Platforms = AllPlatforms
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", zipPath, err)
	}
	defer zr.Close()
	c := &checker{opts: opts, files: map[string]*zip.File{}}
	if !c.layout(zr.File) {
		return c.problems, nil
	}
	meta, ok := c.metadata()
	if ok {
		c.pluginJSON(meta)
		c.binaries(meta)
		c.paths(meta)
		c.manifest(meta)
	}
	c.license()
	c.docs()
	c.frontend()
	return c.problems, nil
}

// layout: the archive, permissions and archivename rules: one top folder
// (named by the id: checked with plugin.json), no dist/ inside it, only
// regular files and directories, nothing world-writable, no path leaving
// the folder.
func (c *checker) layout(entries []*zip.File) bool {
	if len(entries) == 0 {
		c.report("empty-archive", Error, "the archive is empty")
		return false
	}
	tops := map[string]bool{}
	for _, f := range entries {
		name := strings.TrimPrefix(f.Name, "./")
		top, rest, _ := strings.Cut(name, "/")
		tops[top] = true
		if strings.HasPrefix(f.Name, "/") || strings.Contains(f.Name, `\`) || hasDotDot(name) {
			c.report("archive-files-error", Error, "entry %q is not a relative slash path inside the top folder", f.Name)
		}
		c.mode(f)
		if rest == "" && !f.FileInfo().IsDir() {
			c.report("no-root-dir", Error, "%q is a file at the top of the archive: the archive holds one folder named by the plugin id", f.Name)
			continue
		}
		if rest != "" && !strings.HasSuffix(rest, "/") {
			c.files[rest] = f
		}
		c.root = top
	}
	if len(tops) != 1 {
		keys := sortedKeys(tops)
		c.report("more-than-one-dir", Error, "the archive has %d top-level entries %v: want one folder named by the plugin id", len(keys), keys)
		return false
	}
	for p := range c.files {
		if p == "dist" || strings.HasPrefix(p, "dist/") {
			c.report("dist", Error, "%s/dist: the folder must be named by the plugin id and hold dist's content itself", c.root)
			break
		}
	}
	return true
}

// mode: no symlink or device, nothing world-writable.
func (c *checker) mode(f *zip.File) {
	m := f.Mode()
	if m&(fs.ModeSymlink|fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0 {
		c.report("archive-files-error", Error, "%s is a %s: the archive holds regular files and folders only", f.Name, m.Type())
	}
	if m.Perm()&0o002 != 0 {
		c.report("world-writable", Error, "%s is world-writable (%04o)", f.Name, m.Perm())
	}
}

func hasDotDot(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// read returns the content of the file at p under the root.
func (c *checker) read(p string) ([]byte, bool) {
	f, ok := c.files[p]
	if !ok {
		return nil, false
	}
	rc, err := f.Open()
	if err != nil {
		c.report("archive-files-error", Error, "reading %s: %v", f.Name, err)
		return nil, false
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		c.report("archive-files-error", Error, "reading %s: %v", f.Name, err)
		return nil, false
	}
	return data, true
}
