//go:build linux

package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalClickHouseSecured (issue 8, item 6): the CLI's local server has
// a password of its own, kept at 0600 in owner-only directories; the CLI
// uses it, and `clickhouse status` says how to connect without printing it.
func TestLocalClickHouseSecured(t *testing.T) {
	n := newNode(t)
	n.ok("migrate") // starts the local server and connects with the password
	pwFile := filepath.Join(n.chDir(), "password")
	pw, err := os.ReadFile(pwFile)
	if err != nil || len(strings.TrimSpace(string(pw))) < 32 {
		t.Fatalf("password file %s: %q, %v", pwFile, pw, err)
	}
	for path, want := range map[string]os.FileMode{n.dataDir: 0o700, n.chDir(): 0o700, filepath.Join(n.chDir(), "data"): 0o700, pwFile: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %o, want %o", path, fi.Mode().Perm(), want)
		}
	}
	status := n.ok("clickhouse", "status")
	if strings.Contains(status, strings.TrimSpace(string(pw))) {
		t.Fatalf("clickhouse status printed the password:\n%s", status)
	}
	client := filepath.Join(n.chDir(), "client.xml")
	if want := "clickhouse-client --config-file " + client; !strings.Contains(status, want) || strings.Contains(status, "--password") {
		t.Fatalf("clickhouse status does not say how to connect without a password flag (%s):\n%s", want, status)
	}
	if fi, err := os.Stat(client); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v; want 0600", client, err, fi)
	}
}
