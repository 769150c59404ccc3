package chserver

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// TestEnsurePasswordAndStablePorts: the server Ensure manages has a random
// password kept at 0600 in owner-only directories, refuses clients without
// it, and comes back on the same ports after a stop (on fresh ones when
// another program took them meanwhile).
func TestEnsurePasswordAndStablePorts(t *testing.T) {
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
	pwFile := filepath.Join(dir, "password")
	if s.Password() == "" || len(s.Password()) < 32 || s.PasswordFile() != pwFile {
		t.Fatalf("password %d chars in %q; want a random one in %s", len(s.Password()), s.PasswordFile(), pwFile)
	}
	wantMode(t, pwFile, 0o600)
	for _, d := range []string{dir, filepath.Join(dir, "data"), filepath.Join(dir, "log")} {
		wantMode(t, d, 0o700)
	}
	for _, f := range []string{"users.xml", "config.xml", "server.json"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), s.Password()) {
			t.Fatalf("%s holds the password in plain text", f)
		}
	}

	// Native protocol: refused without the password, served with it.
	native := func(pw string) error {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{s.Addr()}, Auth: clickhouse.Auth{Username: "default", Password: pw}})
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Ping(ctx)
	}
	if err := native(""); err == nil {
		t.Fatal("a client without the password was let in")
	}
	if err := native(s.Password()); err != nil {
		t.Fatalf("a client with the password: %v", err)
	}
	// HTTP: the same.
	resp, err := http.Post("http://"+s.HTTPAddr()+"/?user=default", "text/plain", strings.NewReader("SELECT 1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("HTTP without the password answered 200")
	}
	if out, err := s.Query(ctx, "SELECT 1"); err != nil || strings.TrimSpace(out) != "1" {
		t.Fatalf("Query with the password: %q, %v", out, err)
	}

	// Stopped and started again: same ports, same password.
	tcp, httpPort, pw := s.TCPPort(), s.HTTPPort(), s.Password()
	if err := s.Terminate(); err != nil {
		t.Fatal(err)
	}
	again, err := Ensure(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if again.Reused() || again.TCPPort() != tcp || again.HTTPPort() != httpPort || again.Password() != pw {
		t.Fatalf("restarted server: reused=%v ports %d/%d, want a new process on %d/%d with the same password",
			again.Reused(), again.TCPPort(), again.HTTPPort(), tcp, httpPort)
	}
	if found, err := Lookup(ctx, dir); err != nil || found.Password() != pw {
		t.Fatalf("Lookup: %v (password kept: %v)", err, found != nil && found.Password() == pw)
	}

	// Another program takes the port meanwhile: fresh ports, recorded.
	if err := again.Terminate(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", again.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	moved, err := Ensure(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatalf("Ensure with its old port taken: %v", err)
	}
	if moved.TCPPort() == tcp {
		t.Fatal("started on a port another program holds")
	}
	if err := moved.Terminate(); err != nil {
		t.Fatal(err)
	}
	ln.Close()
	last, err := Ensure(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if last.TCPPort() != moved.TCPPort() {
		t.Fatalf("after moving to %d, restarted on %d", moved.TCPPort(), last.TCPPort())
	}
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o, want %o", path, got, want)
	}
}
