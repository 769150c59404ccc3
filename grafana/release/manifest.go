package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ManifestFile is the Go SDK's build manifest inside the plugin folder.
const ManifestFile = "go_plugin_build_manifest"

// GoManifest is the go_plugin_build_manifest of the Go sources under root
// (the module root: the plugin links internal/ and queries/ too), in the
// format of grafana-plugin-sdk-go's build.GenerateManifestFile
// (build/utils/manifest.go): one "<sha256 hex>:<slash path>" line per .go
// file, node_modules skipped. The validator (gomanifest) hashes every .go
// file of the released source code and requires each in the manifest
// with its hash, and every manifest entry in the source.
func GoManifest(root string) (string, error) {
	files, err := goFiles(root)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(data)
		b.WriteString(hex.EncodeToString(sum[:]) + ":" + rel + "\n")
	}
	return b.String(), nil
}

// goFiles lists the .go files under root as slash paths relative to it,
// in WalkDir's lexical order as the SDK does, skipping node_modules as the SDK and the validator do, and
// hidden directories (.git, the data directory .phonesignals: never
// source, and not in a clone the validator reads).
func goFiles(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return fs.SkipDir
		}
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".go") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out, err
}

// ParseManifest reads a go_plugin_build_manifest as the validator does:
// each non-empty line is "<sha256>:<path>", exactly one colon.
func ParseManifest(data []byte) (map[string]string, error) {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) != 2 {
			return nil, fmt.Errorf("line %d %q: want <sha256>:<path>", n, line)
		}
		sum, path := strings.TrimSpace(parts[0]), strings.ReplaceAll(strings.TrimSpace(parts[1]), `\`, "/")
		if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("line %d %q: %q is not a sha256 in hex", n, line, sum)
		}
		m[path] = sum
	}
	return m, sc.Err()
}

// VerifyManifest compares a parsed manifest with the .go files under root
// both ways, as the validator does with the source code it is given; a
// file hashed with Windows line endings also matches.
func VerifyManifest(m map[string]string, root string) ([]string, error) {
	files, err := goFiles(root)
	if err != nil {
		return nil, err
	}
	var issues []string
	seen := map[string]bool{}
	for _, rel := range files {
		seen[rel] = true
		want, ok := m[rel]
		if !ok {
			issues = append(issues, fmt.Sprintf("%s is in the source code but not in the manifest", rel))
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		unix := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		lin, win := sha256.Sum256(unix), sha256.Sum256(bytes.ReplaceAll(unix, []byte("\n"), []byte("\r\n")))
		if want != hex.EncodeToString(lin[:]) && want != hex.EncodeToString(win[:]) {
			issues = append(issues, fmt.Sprintf("sha256 of %s (%s) does not match the manifest (%s)", rel, hex.EncodeToString(lin[:]), want))
		}
	}
	for rel := range m {
		if !seen[rel] {
			issues = append(issues, fmt.Sprintf("%s is in the manifest but not in the source code", rel))
		}
	}
	sort.Strings(issues)
	return issues, nil
}
