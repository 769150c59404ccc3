package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// Metadata is the part of plugin.json the rules read (the validator's
// metadata.Metadata), with the raw object for the schema's key lists.
type Metadata struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Executable string `json:"executable"`
	Backend    bool   `json:"backend"`
	Alerting   bool   `json:"alerting"`
	Info       struct {
		Version  string   `json:"version"`
		Updated  string   `json:"updated"`
		Keywords []string `json:"keywords"`
		Logos    struct {
			Small string `json:"small"`
			Large string `json:"large"`
		} `json:"logos"`
		Screenshots []struct {
			Name string `json:"name"`
			Path string `json:"path"`
		} `json:"screenshots"`
	} `json:"info"`
	Dependencies struct {
		GrafanaDependency string `json:"grafanaDependency"`
	} `json:"dependencies"`

	raw map[string]json.RawMessage
}

// From Grafana's plugin.schema.json (the validator's metadatavalid rule
// validates against it): the keys allowed at each level, those required,
// and the patterns of id and dependencies.grafanaDependency.
var (
	schemaTopKeys = []string{"$schema", "alerting", "annotations", "autoEnabled", "backend", "buildMode", "builtIn",
		"category", "dependencies", "docsPath", "enterpriseFeatures", "executable", "extensions", "hideFromList", "iam",
		"id", "includes", "info", "languages", "logs", "metrics", "mixed", "multiValueFilterOperators", "name",
		"pascalName", "preload", "queryOptions", "roles", "routes", "skipDataQuery", "state", "streaming",
		"suggestions", "tracing", "type"}
	schemaTopRequired = []string{"type", "name", "id", "info", "dependencies"}
	schemaInfoKeys    = []string{"author", "build", "description", "keywords", "links", "logos", "screenshots", "updated", "version"}
	schemaInfoReq     = []string{"logos", "version", "updated", "keywords"}
	schemaDepKeys     = []string{"extensions", "grafanaDependency", "grafanaVersion", "plugins"}
	schemaTypes       = []string{"app", "datasource", "panel", "renderer"}

	idRe = regexp.MustCompile(`^[0-9a-z]+\-([0-9a-z]+\-)?(app|panel|datasource)$`)
	// grafanaDependencyRe is the schema's pattern, an npm semver range.
	grafanaDependencyRe = regexp.MustCompile(`^(<=|>=|<|>|=|~|\^)?([0-9]+)(\.[0-9x\*]+)?(\.[0-9x\*]+)?(-[0-9A-Za-z-.]+)?(\s(<=|>=|<|=>)?([0-9]+)(\.[0-9x\*]+)?(\.[0-9x\*]+)?(-[0-9A-Za-z-.]+)?)?(\s\|\|\s(<=|>=|<|>|=|~|\^)?([0-9]+)(\.[0-9x\*]+)?(\.[0-9x\*]+)?(-[0-9A-Za-z-.]+)?(\s(<=|>=|<|=>)?([0-9]+)(\.[0-9x\*]+)?(\.[0-9x\*]+)?(-[0-9A-Za-z-.]+)?)?)*$`)
)

// metadata: plugin.json exists at the top of the folder and is a JSON
// object; the folder is named by its id (archivename).
func (c *checker) metadata() (Metadata, bool) {
	var m Metadata
	raw, ok := c.read("plugin.json")
	if !ok {
		c.report("missing-metadata", Error, "%s/plugin.json is missing", c.root)
		return m, false
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		c.report("invalid-metadata", Error, "plugin.json: %v", err)
		return m, false
	}
	_ = json.Unmarshal(raw, &m.raw)
	if m.ID != "" && c.root != m.ID {
		c.report("no-ident-root-dir", Error, "the archive's folder is %q: it must be named by the plugin id %q", c.root, m.ID)
	}
	return m, true
}

// pluginJSON: the schema's required and allowed keys and patterns, a
// SemVer version and a real date (no %VERSION% or %TODAY% left), the id's
// type suffix, a human-friendly name, and backend, executable and
// alerting consistent (backendbinary).
func (c *checker) pluginJSON(m Metadata) {
	c.keys("plugin.json", m.raw, schemaTopKeys, schemaTopRequired)
	var info, deps map[string]json.RawMessage
	_ = json.Unmarshal(m.raw["info"], &info)
	_ = json.Unmarshal(m.raw["dependencies"], &deps)
	c.keys("plugin.json info", info, schemaInfoKeys, schemaInfoReq)
	c.keys("plugin.json dependencies", deps, schemaDepKeys, []string{"grafanaDependency"})
	if !idRe.MatchString(m.ID) {
		c.report("invalid-metadata", Error, "plugin.json: id %q does not match %s", m.ID, idRe)
	}
	if !contains(schemaTypes, m.Type) {
		c.report("invalid-metadata", Error, "plugin.json: type %q: want one of %v", m.Type, schemaTypes)
	} else if parts := strings.Split(m.ID, "-"); parts[len(parts)-1] != m.Type {
		c.report("plugin-type-suffix", Error, "plugin.json: id %q should end with its type -%s", m.ID, m.Type)
	}
	if m.Name == "" || m.Name == m.ID {
		c.report("human-friendly-name", Error, "plugin.json: name %q should be human-friendly, not the id", m.Name)
	}
	if !semverRe.MatchString(m.Info.Version) {
		c.report("wrong-plugin-version", Error, "plugin.json: info.version %q is not a semantic version (MAJOR.MINOR.PATCH)", m.Info.Version)
	}
	if _, err := time.Parse(time.DateOnly, m.Info.Updated); err != nil {
		c.report("invalid-metadata", Error, "plugin.json: info.updated %q is not a date YYYY-MM-DD", m.Info.Updated)
	}
	if len(m.Info.Keywords) == 0 {
		c.report("invalid-metadata", Error, "plugin.json: info.keywords needs at least one keyword")
	}
	if dep := m.Dependencies.GrafanaDependency; dep == "" || !grafanaDependencyRe.MatchString(dep) {
		c.report("invalid-grafana-dependency", Error, "plugin.json: dependencies.grafanaDependency %q is not a valid version range (e.g. >=13.2.0)", dep)
	}
	c.backendFlags(m)
}

// backendFlags: the backendbinary rule's consistency of backend,
// executable and alerting.
func (c *checker) backendFlags(m Metadata) {
	switch {
	case m.Alerting && !m.Backend:
		c.report("alerting-found-but-backend-false", Error, "plugin.json: alerting is true but backend is false")
	case m.Executable != "" && !m.Backend:
		c.report("backend-found-but-not-declared", Error, "plugin.json: executable %q but backend is false", m.Executable)
	case m.Backend && m.Executable == "":
		c.report("backend-binary-missing", Error, "plugin.json: backend is true but there is no executable")
	}
}

// keys reports keys the schema does not allow and required ones missing.
func (c *checker) keys(where string, obj map[string]json.RawMessage, allowed, required []string) {
	for _, k := range sortedKeys(obj) {
		if !contains(allowed, k) {
			c.report("invalid-metadata", Error, "%s: %q is not a property the schema allows", where, k)
		}
	}
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			c.report("invalid-metadata", Error, "%s: %q is required", where, k)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
