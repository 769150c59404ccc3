package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeSection is the text of the top-level README's "## title" section.
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	i := strings.Index(s, "\n## "+title+"\n")
	if i < 0 {
		t.Fatalf("README.md has no section %q", "## "+title)
	}
	s = s[i+1:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+3]
	}
	return s
}

// TestReadmeConnectYourRealAccount (issue 18, section 5): the README says
// where each credential comes from, and every `org connect` flag its
// commands use is one the command defines.
func TestReadmeConnectYourRealAccount(t *testing.T) {
	sec := readmeSection(t, "Connect your real account")
	for _, want := range []string{
		"Integrations & API", "API Keys", "API ID", "API token", "Webhooks", // Aircall Dashboard
		"webhooks serve", "--webhook-token-file",
		"Developer Console", "REST API", "JWT", "Client ID", "Client Secret", // RingCentral
		"--client-id", "--client-secret-file", "--jwt-file", "--api-id", "--api-token-file",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("README \"Connect your real account\" does not mention %q", want)
		}
	}
	if testing.Short() {
		return
	}
	cmd := exec.Command("go", "run", "./cmd/phonesignals", "org", "connect", "--help")
	cmd.Dir = repoRoot(t)
	help, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("phonesignals org connect --help: %v\n%s", err, help)
	}
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(--[a-z-]+)`).FindAllStringSubmatch(string(help), -1) {
		defined[m[1]] = true
	}
	used := 0
	for _, line := range strings.Split(strings.ReplaceAll(sec, "\\\n", " "), "\n") { // continuation lines joined
		if !strings.Contains(line, "org connect") {
			continue
		}
		for _, f := range regexp.MustCompile(`--[a-z-]+`).FindAllString(line, -1) {
			used++
			if !defined[f] {
				t.Errorf("README: %q uses %s, which `org connect` does not define (it has %v)", strings.TrimSpace(line), f, sortedKeys(defined))
			}
		}
	}
	if used == 0 {
		t.Error("README \"Connect your real account\" shows no org connect command")
	}
}

// TestReadmePackaging: the README says how a release archive is made.
func TestReadmePackaging(t *testing.T) {
	sec := readmeSection(t, "Grafana")
	for _, want := range []string{"make grafana-zip", "go_plugin_build_manifest", "LICENSE", "this machine's backend only"} {
		if !strings.Contains(sec, want) {
			t.Errorf("README's Grafana section does not mention %q", want)
		}
	}
}
