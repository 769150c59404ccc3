package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/internal/store"
)

// TestClientCommandKeepsThePasswordOffTheCommandLine (issue 18, section
// 5): the demo's "Query it" command connects with a 0600 clickhouse-client
// configuration file, never with the password on the command line.
func TestClientCommandKeepsThePasswordOffTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	r := &run{cfg: Config{DataDir: dir}, out: &out}
	const pw = "s3cret-demo-password"
	cmd := r.clientCommand(store.Config{Addr: "127.0.0.1:41234", Username: "default", Password: pw})
	path := filepath.Join(dir, "clickhouse", "client.xml")
	if cmd != "clickhouse-client --config-file "+path || strings.Contains(cmd, pw) {
		t.Fatalf("command %q, want clickhouse-client --config-file %s", cmd, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %o, want 600", path, fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{"<port>41234</port>", "<user>default</user>", "<password>" + pw + "</password>"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s", path, want)
		}
	}
	if strings.Contains(out.String(), pw) {
		t.Errorf("the demo printed the password: %s", out.String())
	}
	if cmd := r.clientCommand(store.Config{Addr: "127.0.0.1:9000"}); cmd != "clickhouse-client --port 9000" {
		t.Errorf("without a password: %q", cmd)
	}
}
