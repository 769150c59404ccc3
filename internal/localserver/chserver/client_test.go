package chserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clickhouseClient runs the real clickhouse-client with args and returns
// its output.
func clickhouseClient(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("clickhouse-client")
	if err != nil {
		t.Fatalf("this test needs clickhouse-client (%s): %v", InstallCommand, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestConnectHintKeepsThePasswordOffTheCommandLine (issue 18, section 5):
// the hint connects with a 0600 clickhouse-client configuration file
// holding the password, and the real client (18.16 here) connects with
// it; the hint and its command line carry no password, so it never shows
// in /proc/PID/cmdline.
func TestConnectHintKeepsThePasswordOffTheCommandLine(t *testing.T) {
	needBinary(t)
	ctx := testContext(t)
	dir := filepath.Join(t.TempDir(), "clickhouse")
	t.Cleanup(func() {
		if s, _ := Lookup(context.Background(), dir); s != nil {
			_ = s.Terminate()
		}
	})
	s, err := Ensure(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hint, err := s.ConnectHint("system")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, clientConfigFile)
	if strings.Contains(hint, s.Password()) || strings.Contains(hint, "--password") || strings.Contains(hint, "$(cat") {
		t.Fatalf("the hint puts the password on a command line:\n%s", hint)
	}
	want := "clickhouse-client --config-file " + cfg + " -d system"
	if !strings.Contains(hint, "connect: "+want+"\n") {
		t.Fatalf("hint:\n%s\nwant the line: connect: %s", hint, want)
	}
	wantMode(t, cfg, 0o600)

	// The command of the hint, run as printed, connects and authenticates.
	args := append(strings.Fields(want)[1:], "-q", "SELECT currentDatabase(), count() FROM system.one")
	out, err := clickhouseClient(t, args...)
	if err != nil || out != "system\t1" {
		t.Fatalf("%s: %q, %v", want, out, err)
	}
	// The password is what let it in: the same without it is refused.
	if out, err := clickhouseClient(t, "--port", itoa(s.TCPPort()), "-q", "SELECT 1"); err == nil {
		t.Fatalf("clickhouse-client without the configuration connected (%q): the test proves nothing", out)
	}

	// After a restart on other ports the hint rewrites the file.
	c := Client{Host: "127.0.0.1", Port: 1, User: "default", Password: "stale"}
	if err := c.WriteConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConnectHint("system"); err != nil {
		t.Fatal(err)
	}
	if out, err := clickhouseClient(t, "--config-file", cfg, "-q", "SELECT 1"); err != nil || out != "1" {
		t.Fatalf("after rewriting %s: %q, %v", cfg, out, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestClientConfigEscapes: the file is XML whatever the password holds,
// and owner-only.
func TestClientConfigEscapes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ch", "client.xml")
	c, err := ClientFor("db.example.com:9440", "", `p<&>"'`)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteConfig(path); err != nil {
		t.Fatal(err)
	}
	wantMode(t, path, 0o600)
	wantMode(t, filepath.Dir(path), 0o700)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<host>db.example.com</host>", "<port>9440</port>", "<user>default</user>", "<password>p&lt;&amp;&gt;&#34;&#39;</password>"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("client.xml lacks %s:\n%s", want, data)
		}
	}
	if _, err := ClientFor("no-port", "u", "p"); err == nil {
		t.Error("ClientFor accepted an address without a port")
	}
	if got := ConnectCommand("/d/client.xml", "phonesignals"); got != "clickhouse-client --config-file /d/client.xml -d phonesignals" {
		t.Errorf("ConnectCommand: %q", got)
	}
}

// TestHintsNameNoPassword: the demo's and `clickhouse status`'s hints
// build on ConnectCommand; neither source puts a --password in a command
// it prints.
func TestHintsNameNoPassword(t *testing.T) {
	for _, f := range []string{"../../testkit/demo/demo.go", "../../../cmd/phonesignals/cmd_clickhouse.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "--password") {
			t.Errorf("%s suggests clickhouse-client --password: a command line is readable by every user of the machine; use a client configuration file (chserver.ConnectCommand)", f)
		}
	}
}
