package main

import (
	"path"
	"regexp"
	"strings"
)

// licenseMarkers identify the Apache License 2.0's full text (the license
// rule accepts Apache-2.0, MIT, BSD, LGPL-3, GPL-3 and AGPL-3, detected at
// 90% confidence: the full text, not a reference to it).
var licenseMarkers = []string{
	"Apache License",
	"Version 2.0, January 2004",
	"TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
	"Grant of Copyright License.",
	"Grant of Patent License.",
	"END OF TERMS AND CONDITIONS",
}

// license: LICENSE at the top of the folder, the Apache License 2.0, with
// the template's {name of copyright owner} and {yyyy} filled in.
func (c *checker) license() {
	data, ok := c.read("LICENSE")
	if !ok {
		c.report("license-not-provided", Error, "%s/LICENSE is missing", c.root)
		return
	}
	text := string(data)
	for _, m := range licenseMarkers {
		if !strings.Contains(text, m) {
			c.report("license-not-valid", Error, "LICENSE is not the full Apache License 2.0 text (no %q)", m)
			return
		}
	}
	if strings.Contains(text, "{name of copyright owner}") || strings.Contains(text, "{yyyy}") {
		c.report("license-with-generic-text", Warning, "LICENSE still has the template's {name of copyright owner} or {yyyy}")
	}
}

var htmlCommentRe = regexp.MustCompile(`(?s)<!--(.*?)-->`)

// docs: readme (README.md, not empty; comments are a warning) and
// changelog (CHANGELOG.md, not empty), shown in Grafana's catalog.
func (c *checker) docs() {
	readme, ok := c.read("README.md")
	switch {
	case !ok:
		c.report("missing-readme", Error, "%s/README.md is missing", c.root)
	case strings.TrimSpace(string(readme)) == "":
		c.report("missing-readme", Error, "README.md is empty")
	case htmlCommentRe.Match(readme):
		c.report("readme-comment", Warning, "README.md has HTML comments")
	}
	changelog, ok := c.read("CHANGELOG.md")
	if !ok || strings.TrimSpace(string(changelog)) == "" {
		c.report("missing-changelog", Warning, "%s/CHANGELOG.md is missing or empty", c.root)
	}
}

// frontend: modulejs (a module.js), jssourcemap (a module.js.map beside
// each) and backenddebug (no standalone.txt or pid.txt left by a debug
// run).
func (c *checker) frontend() {
	modules := 0
	for _, name := range sortedKeys(c.files) {
		switch path.Base(name) {
		case "module.js":
			modules++
			if _, ok := c.files[name+".map"]; !ok {
				c.report("js-map-not-found", Error, "%s.map is missing: the archive carries the source maps", name)
			}
		case "standalone.txt", "pid.txt":
			c.report("backend-debug-file-present", Error, "%s is a backend debug file: it keeps Grafana from starting the plugin", name)
		}
	}
	if modules == 0 {
		c.report("missing-modulejs", Error, "%s/module.js is missing", c.root)
	}
}
