package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// semverRe is a SemVer 2.0.0 version (https://semver.org), as
// plugin.json's info.version must be.
var semverRe = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// PackageVersion is the "version" of a package.json: the plugin's version,
// as create-plugin takes it.
func PackageVersion(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if !semverRe.MatchString(pkg.Version) {
		return "", fmt.Errorf("%s: version %q is not a semantic version (MAJOR.MINOR.PATCH)", path, pkg.Version)
	}
	return pkg.Version, nil
}

// BuildDate is the build's UTC date, YYYY-MM-DD: from SOURCE_DATE_EPOCH
// (reproducible builds) when set, else today.
func BuildDate() (string, error) {
	t := time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", fmt.Errorf("SOURCE_DATE_EPOCH %q: want UNIX seconds", s)
		}
		t = time.Unix(sec, 0)
	}
	return t.UTC().Format(time.DateOnly), nil
}

// RenderPluginJSON replaces create-plugin's placeholders in plugin.json:
// %VERSION% by version, %TODAY% by date and %PLUGIN_ID% by the id. The
// result must be a JSON object with no placeholder left.
func RenderPluginJSON(src []byte, version, date string) ([]byte, error) {
	if !semverRe.MatchString(version) {
		return nil, fmt.Errorf("version %q is not a semantic version (MAJOR.MINOR.PATCH)", version)
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, fmt.Errorf("date %q: want YYYY-MM-DD", date)
	}
	var meta struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(src, &meta); err != nil {
		return nil, fmt.Errorf("plugin.json: %w", err)
	}
	out := bytes.ReplaceAll(src, []byte("%VERSION%"), []byte(version))
	out = bytes.ReplaceAll(out, []byte("%TODAY%"), []byte(date))
	out = bytes.ReplaceAll(out, []byte("%PLUGIN_ID%"), []byte(meta.ID))
	if m := regexp.MustCompile(`%[A-Z_]+%`).Find(out); m != nil {
		return nil, fmt.Errorf("plugin.json: unknown placeholder %s", m)
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("plugin.json is not valid JSON once rendered")
	}
	return out, nil
}

// writePluginJSON renders src with packageJSON's version and the build
// date into out.
func writePluginJSON(src, packageJSON, out string) error {
	raw, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	version, err := PackageVersion(packageJSON)
	if err != nil {
		return err
	}
	date, err := BuildDate()
	if err != nil {
		return err
	}
	rendered, err := RenderPluginJSON(raw, version, date)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if !strings.HasSuffix(string(rendered), "\n") {
		rendered = append(rendered, '\n')
	}
	return os.WriteFile(out, rendered, 0o644)
}
