package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdkutils "github.com/grafana/grafana-plugin-sdk-go/build/utils"
)

// writeTree writes files (slash paths) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestGoManifestIsTheSDKs: the manifest is byte for byte what
// grafana-plugin-sdk-go's build (mage buildAll) writes for the same tree:
// "<sha256>:<path>" per .go file, node_modules left out.
func TestGoManifestIsTheSDKs(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":                       "module x\n",
		"a.go":                         "package a\n",
		"a/b.go":                       "package b\n",
		"pkg/main.go":                  "package main\n",
		"pkg/main_test.go":             "package main\n",
		"README.md":                    "not go\n",
		"node_modules/flatted/flat.go": "package flatted\n",
	})
	got, err := GoManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // the SDK hashes the tree under the working directory
	want, err := sdkutils.GenerateManifest()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("GoManifest:\n%s\nthe SDK's:\n%s", got, want)
	}
	if !strings.Contains(got, sum("package b\n")+":a/b.go\n") || strings.Contains(got, "node_modules") {
		t.Errorf("manifest:\n%s", got)
	}
}

// TestVerifyManifest: the validator's gomanifest comparison both ways.
func TestVerifyManifest(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.go": "package a\n", "b/b.go": "package b\n", ".hidden/x.go": "package x\n"})
	m, err := GoManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseManifest([]byte(m))
	if err != nil || len(parsed) != 2 {
		t.Fatalf("ParseManifest: %v, %v", parsed, err)
	}
	if issues, err := VerifyManifest(parsed, dir); err != nil || len(issues) != 0 {
		t.Fatalf("fresh manifest: %v, %v", issues, err)
	}
	writeTree(t, dir, map[string]string{"a.go": "package a // changed\n", "c.go": "package c\n"})
	if err := os.Remove(filepath.Join(dir, "b", "b.go")); err != nil {
		t.Fatal(err)
	}
	issues, err := VerifyManifest(parsed, dir)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(issues, "\n")
	for _, want := range []string{"sha256 of a.go", "c.go is in the source code but not in the manifest", "b/b.go is in the manifest but not in the source code"} {
		if !strings.Contains(joined, want) {
			t.Errorf("issues lack %q:\n%s", want, joined)
		}
	}
	for _, bad := range []string{"abc  a.go\n", "nothex:a.go\n", sum("x") + ":a.go:extra\n"} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("ParseManifest(%q) accepted it", bad)
		}
	}
}
