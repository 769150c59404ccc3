package main

import (
	"bytes"
	"debug/buildinfo"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// binaries: backendbinary and binarypermissions. Every platform asked for
// has its binary, named <executable>_<os>_<arch>[.exe]; every file named
// after the executable is a Go binary built for the platform its name
// says, and (but .exe) has mode exactly 0755; one targets linux/amd64.
func (c *checker) binaries(m Metadata) {
	if !m.Backend || m.Executable == "" {
		c.report("backend-binary-missing", Error, "plugin.json: backend %v, executable %q: a release of this plugin carries its backend", m.Backend, m.Executable)
		return
	}
	for _, p := range c.opts.Platforms {
		want := path.Join(path.Dir(m.Executable), BinaryName(path.Base(m.Executable), p))
		if _, ok := c.files[want]; !ok {
			c.report("backend-binary-missing", Error, "no backend binary for %s: %s/%s is missing", p, c.root, want)
		}
	}
	linuxAMD64 := false
	for _, name := range sortedKeys(c.files) {
		if path.Dir(name) != path.Dir(m.Executable) || !strings.HasPrefix(path.Base(name), path.Base(m.Executable)) {
			continue
		}
		if p, ok := c.binary(name, m.Executable); ok && p == (Platform{"linux", "amd64"}) {
			linuxAMD64 = true
		}
	}
	if !linuxAMD64 && containsPlatform(c.opts.Platforms, Platform{"linux", "amd64"}) {
		c.report("backend-binary-not-linux-amd64", Error, "no backend binary targets linux/amd64 (by its Go build info): Grafana requires one")
	}
}

func containsPlatform(ps []Platform, p Platform) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

var binaryNameRe = regexp.MustCompile(`^_([a-z0-9]+)_([a-z0-9]+)(\.exe)?$`)

// binary checks one file named after the executable and returns the
// platform its Go build info says.
func (c *checker) binary(name, executable string) (Platform, bool) {
	f := c.files[name]
	isExe := strings.HasSuffix(name, ".exe")
	if perm := f.Mode().Perm(); !isExe && perm != 0o755 {
		c.report("binary-executable-permissions", Error, "%s has mode %04o: backend binaries must have exactly 0755", name, perm)
	}
	sub := binaryNameRe.FindStringSubmatch(strings.TrimPrefix(path.Base(name), path.Base(executable)))
	if sub == nil || (sub[1] == "windows") != isExe {
		c.report("backend-binary-name", Error, "%s: Grafana starts %s_<os>_<arch> (.exe on windows only)", name, path.Base(executable))
		return Platform{}, false
	}
	data, ok := c.read(name)
	if !ok {
		return Platform{}, false
	}
	info, err := buildinfo.Read(bytes.NewReader(data))
	if err != nil {
		c.report("backend-binary-name", Error, "%s is not a Go binary with build info: %v", name, err)
		return Platform{}, false
	}
	var got Platform
	for _, s := range info.Settings {
		switch s.Key {
		case "GOOS":
			got.OS = s.Value
		case "GOARCH":
			got.Arch = s.Value
		}
	}
	if got != (Platform{sub[1], sub[2]}) {
		c.report("backend-binary-name", Error, "%s is built for %s, not the platform its name says", name, got)
	}
	return got, true
}

// paths: logos and metadatapaths (the logos and screenshots plugin.json
// names are relative, without a leading . or /, and in the archive) and
// unsafesvg for the logos.
func (c *checker) paths(m Metadata) {
	refs := map[string]string{"small logo": m.Info.Logos.Small, "large logo": m.Info.Logos.Large}
	for _, s := range m.Info.Screenshots {
		refs["screenshot "+s.Name] = s.Path
	}
	for _, kind := range sortedKeys(refs) {
		p := refs[kind]
		u, err := url.Parse(p)
		switch {
		case strings.TrimSpace(p) == "":
			c.report("logos", Error, "plugin.json: the %s path is empty", kind)
		case err != nil || u.IsAbs():
			c.report("path-relative-to-metadata", Error, "plugin.json: the %s path %q must be relative to plugin.json", kind, p)
		case strings.HasPrefix(p, ".") || strings.HasPrefix(p, "/"):
			c.report("invalid-relative-path", Error, "plugin.json: the %s path %q must not start with . or /", kind, p)
		default:
			if data, ok := c.read(p); !ok {
				c.report("path-not-exists", Error, "plugin.json: the %s %s is not in the archive", kind, p)
			} else if strings.HasSuffix(p, ".svg") {
				c.svg(p, data)
			}
		}
	}
}

// svg: the unsafesvg rule's forbidden elements, plus event handler
// attributes and external references.
func (c *checker) svg(name string, data []byte) {
	forbidden := map[string]bool{"script": true, "iframe": true, "foreignobject": true, "audio": true, "noscript": true, "template": true}
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			c.report("unsafe-svg-file", Error, "%s is not well-formed XML: %v", name, err)
			return
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if forbidden[strings.ToLower(el.Name.Local)] {
			c.report("unsafe-svg-file", Error, "%s has a <%s> element", name, el.Name.Local)
		}
		for _, a := range el.Attr {
			if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") || (a.Name.Local == "href" && !strings.HasPrefix(a.Value, "#")) {
				c.report("unsafe-svg-file", Error, "%s: <%s %s=%q> is not allowed", name, el.Name.Local, a.Name.Local, a.Value)
			}
		}
	}
}

// manifest: gomanifest. A backend plugin carries go_plugin_build_manifest
// in the SDK's format; with CheckOptions.SourceDir it lists exactly that
// source's .go files with their hashes.
func (c *checker) manifest(m Metadata) {
	if !m.Backend {
		return
	}
	data, ok := c.read(ManifestFile)
	if !ok {
		c.report("no-go-manifest", Error, "%s/%s is missing: the Go SDK's build writes it (sha256 of each .go file)", c.root, ManifestFile)
		return
	}
	entries, err := ParseManifest(data)
	if err == nil && len(entries) == 0 {
		err = fmt.Errorf("it lists no file")
	}
	if err != nil {
		c.report("no-go-manifest", Error, "%s: %v", ManifestFile, err)
		return
	}
	if c.opts.SourceDir == "" {
		return
	}
	issues, err := VerifyManifest(entries, c.opts.SourceDir)
	if err != nil {
		c.report("invalid-go-manifest", Error, "%s against %s: %v", ManifestFile, c.opts.SourceDir, err)
		return
	}
	for _, is := range issues {
		c.report("go-manifest-issue", Error, "%s", is)
	}
}
