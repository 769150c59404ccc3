package chserver

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// needBinary fails (or skips, with PHONESIGNALS_SKIP_CLICKHOUSE=1) tests
// that start their own server rather than use ForTest.
func needBinary(t *testing.T) {
	t.Helper()
	if os.Getenv(EnvSkip) == "1" {
		t.Skip(EnvSkip + "=1")
	}
	if _, err := (Config{}).binary(context.Background()); err != nil {
		t.Fatalf("this test needs clickhouse-server 18.16 (set %s=1 to skip): %v", EnvSkip, err)
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{name: "minimal", cfg: Config{Dir: "/tmp/x"}},
		{name: "fixed ports", cfg: Config{Dir: "x", TCPPort: 9000, HTTPPort: 8123}},
		{name: "no dir", cfg: Config{}, want: []string{"Config.Dir"}},
		{name: "analyst", cfg: Config{Dir: "x", Analyst: &Analyst{Password: "p", Database: "phonesignals_analyst"}}},
		{name: "analyst without password", cfg: Config{Dir: "x", Analyst: &Analyst{Database: "a-b"}}, want: []string{"Config.Analyst", "a-b"}},
		{name: "bad ports", cfg: Config{Dir: "x", TCPPort: -1, HTTPPort: 70000}, want: []string{"Config.TCPPort", "Config.HTTPPort"}},
		{name: "same ports", cfg: Config{Dir: "x", TCPPort: 9000, HTTPPort: 9000}, want: []string{"Config.HTTPPort", "two different ports"}},
		{name: "everything wrong", cfg: Config{Binary: " x", StartTimeout: -time.Second, TCPPort: 1 << 20}, want: []string{"Config.Dir", "Config.Binary", "Config.StartTimeout", "Config.TCPPort"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors about %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestBinaryLookup(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "bin", "clickhouse-server")
	writeExe(t, exe)
	notExe := filepath.Join(dir, "plain")
	if err := os.WriteFile(notExe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	noPath := func(string) (string, error) { return "", exec.ErrNotFound }
	onPath := func(string) (string, error) { return exe, nil }

	tests := []struct {
		name        string
		cfg         Config
		lookPath    func(string) (string, error)
		wellKnown   []string
		euid        int
		install     func(string) error // given the well-known dir
		want        string
		wantErr     []string
		wantInstall bool
	}{
		{name: "explicit binary", cfg: Config{Binary: exe}, lookPath: noPath, want: exe},
		{name: "explicit binary missing", cfg: Config{Binary: filepath.Join(dir, "nope")}, lookPath: onPath, wantErr: []string{"Config.Binary"}},
		{name: "explicit binary not executable", cfg: Config{Binary: notExe}, lookPath: onPath, wantErr: []string{"not an executable"}},
		{name: "on PATH", lookPath: onPath, want: exe},
		{name: "in a well-known directory", lookPath: noPath, wellKnown: []string{filepath.Join(dir, "empty"), filepath.Dir(exe)}, want: exe},
		{name: "missing", lookPath: noPath, wantErr: []string{"not found", "apt-get install -y clickhouse-server clickhouse-client"}},
		{name: "missing, install without root", cfg: Config{Install: true}, lookPath: noPath, euid: 1000, wantErr: []string{"needs root", "sudo"}},
		{
			name: "missing, install as root", cfg: Config{Install: true}, lookPath: noPath,
			install: func(d string) error { writeExe(t, filepath.Join(d, "clickhouse-server")); return nil },
			want:    "INSTALLED", wantInstall: true,
		},
		{
			name: "install fails", cfg: Config{Install: true}, lookPath: noPath,
			install: func(string) error { return errors.New("apt-get install: exit status 100") },
			wantErr: []string{"installing clickhouse-server", "exit status 100"}, wantInstall: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			installDir := t.TempDir()
			installed := false
			setSeams(t, tt.lookPath, append(tt.wellKnown, installDir), tt.euid, func(context.Context) error {
				installed = true
				return tt.install(installDir)
			})
			got, err := tt.cfg.binary(context.Background())
			if installed != tt.wantInstall {
				t.Errorf("install ran: %v, want %v", installed, tt.wantInstall)
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("binary() = %q, want an error", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("binary() error = %q, want it to mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("binary(): %v", err)
			}
			want := tt.want
			if want == "INSTALLED" {
				want = filepath.Join(installDir, "clickhouse-server")
			}
			if got != want {
				t.Fatalf("binary() = %q, want %q", got, want)
			}
		})
	}
}

func writeExe(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func setSeams(t *testing.T, lp func(string) (string, error), dirs []string, euid int, install func(context.Context) error) {
	t.Helper()
	oldLP, oldDirs, oldEuid, oldInstall := lookPath, wellKnownDir, geteuid, runInstall
	t.Cleanup(func() { lookPath, wellKnownDir, geteuid, runInstall = oldLP, oldDirs, oldEuid, oldInstall })
	lookPath, wellKnownDir, geteuid, runInstall = lp, dirs, func() int { return euid }, install
}

func TestStartQueryStop(t *testing.T) {
	needBinary(t)
	ctx := testContext(t)
	s, err := Start(ctx, Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if s.Detached() || s.Reused() {
		t.Fatalf("Start returned detached=%v reused=%v, want an owned server", s.Detached(), s.Reused())
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr: []string{s.Addr()},
		Auth: clickhouse.Auth{Database: "default", Username: "default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatalf("SELECT version() over %s: %v", s.Addr(), err)
	}
	if !strings.HasPrefix(version, "18.") {
		t.Fatalf("version() = %q, want 18.x", version)
	}
	// The default profile must allow LowCardinality, which 18.16 gates.
	if err := conn.Exec(ctx, "CREATE TABLE default.lc (org LowCardinality(String)) ENGINE = MergeTree ORDER BY org"); err != nil {
		t.Fatalf("LowCardinality needs allow_experimental_low_cardinality_type in the profile: %v", err)
	}
	conn.Close()

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if ProcessAlive(s.Pid()) {
		t.Fatalf("pid %d still alive after Stop", s.Pid())
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("server still answers /ping after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestStartFailureQuotesLog(t *testing.T) {
	needBinary(t)
	ctx := testContext(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	s, err := Start(ctx, Config{Dir: dir, TCPPort: port, HTTPPort: 0, StartTimeout: 20 * time.Second})
	if err == nil {
		_ = s.Stop()
		t.Fatalf("Start on busy port %d succeeded", port)
	}
	for _, want := range []string{dir, "last lines of", "Address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error does not mention %q:\n%v", want, err)
		}
	}
}

func TestEnsure(t *testing.T) {
	needBinary(t)
	ctx := testContext(t)
	dir := t.TempDir()
	t.Cleanup(func() {
		if s, err := Lookup(context.Background(), dir); s != nil {
			_ = s.Terminate()
		} else if !errors.Is(err, ErrNotRunning) {
			t.Errorf("cleanup: %v", err)
		}
	})

	first, err := Ensure(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if first.Reused() || !first.Detached() {
		t.Fatalf("first Ensure: reused=%v detached=%v, want a new detached server", first.Reused(), first.Detached())
	}

	second, err := Ensure(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !second.Reused() || second.Pid() != first.Pid() || second.Addr() != first.Addr() {
		t.Fatalf("second Ensure: pid %d reused=%v at %s, want pid %d reused at %s", second.Pid(), second.Reused(), second.Addr(), first.Pid(), first.Addr())
	}
	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := first.Ping(ctx); err != nil {
		t.Fatalf("a detached server must survive Stop: %v", err)
	}

	t.Run("dead pid", func(t *testing.T) {
		old, err := Lookup(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(old.Pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitDead(t, old.Pid())
		s, err := Ensure(ctx, Config{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if s.Reused() || s.Pid() == old.Pid() {
			t.Fatalf("Ensure after the server died: pid %d reused=%v, want a new server", s.Pid(), s.Reused())
		}
	})

	t.Run("pid recycled by another program", func(t *testing.T) {
		old, err := Lookup(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.Terminate(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, stateFile)); !os.IsNotExist(err) {
			t.Fatalf("Terminate left %s behind (%v)", stateFile, err)
		}
		// server.json names a live process that is not our server (this
		// test binary) and ports something else listens on.
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		p := busy.Addr().(*net.TCPAddr).Port
		writeState(t, dir, state{Pid: os.Getpid(), TCPPort: p, HTTPPort: p})
		s, err := Ensure(ctx, Config{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if s.Reused() || s.Pid() == os.Getpid() || s.TCPPort() == p {
			t.Fatalf("Ensure over a recycled pid: pid %d port %d reused=%v", s.Pid(), s.TCPPort(), s.Reused())
		}
		if !ProcessAlive(os.Getpid()) {
			t.Fatal("unreachable: Ensure killed the test binary")
		}
	})

	t.Run("garbage server.json", func(t *testing.T) {
		old, err := Lookup(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.Terminate(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, stateFile), []byte("{not json"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Lookup(ctx, dir); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("Lookup over garbage: %v, want ErrNotRunning", err)
		}
		s, err := Ensure(ctx, Config{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if s.Reused() {
			t.Fatal("Ensure reused a server described by garbage")
		}
	})

	t.Run("other ports requested", func(t *testing.T) {
		old, err := Lookup(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		tcp, http, err := pickPorts(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Ensure(ctx, Config{Dir: dir, TCPPort: tcp, HTTPPort: http})
		if err != nil {
			t.Fatal(err)
		}
		if s.Reused() || s.TCPPort() != tcp || s.HTTPPort() != http || ProcessAlive(old.Pid()) {
			t.Fatalf("Ensure on new ports: pid %d ports %d/%d reused=%v, old alive=%v", s.Pid(), s.TCPPort(), s.HTTPPort(), s.Reused(), ProcessAlive(old.Pid()))
		}
	})
}

func writeState(t *testing.T, dir string, st state) {
	t.Helper()
	st.Config = newLayout(dir).Config
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stateFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !ProcessAlive(pid) {
			return
		}
	}
	t.Fatalf("pid %d did not die", pid)
}

// envHelperDir makes the test binary act as a short-lived CLI run that
// calls Ensure and exits, for TestEnsureOutlivesItsProcess.
const envHelperDir = "PHONESIGNALS_CHSERVER_HELPER_DIR"

func TestEnsureHelperProcess(t *testing.T) {
	dir := os.Getenv(envHelperDir)
	if dir == "" {
		t.Skip("helper for TestEnsureOutlivesItsProcess")
	}
	s, err := Ensure(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil { // as a CLI would on its way out
		t.Fatal(err)
	}
	os.Stdout.WriteString("PID=" + strconv.Itoa(s.Pid()) + "\n")
}

func TestEnsureOutlivesItsProcess(t *testing.T) {
	needBinary(t)
	ctx := testContext(t)
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestEnsureHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelperDir+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	_, after, ok := strings.Cut(string(out), "PID=")
	pidStr, _, _ := strings.Cut(after, "\n")
	pid, err := strconv.Atoi(pidStr)
	if !ok || err != nil {
		t.Fatalf("helper printed no pid:\n%s", out)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })

	s, err := Ensure(ctx, Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Reused() || s.Pid() != pid {
		t.Fatalf("Ensure after the starting process exited: pid %d reused=%v, want pid %d reused", s.Pid(), s.Reused(), pid)
	}
	if err := s.Terminate(); err != nil {
		t.Fatal(err)
	}
	if ProcessAlive(pid) {
		t.Fatalf("pid %d alive after Terminate", pid)
	}
	if _, err := Lookup(ctx, dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Lookup after Terminate: %v, want ErrNotRunning", err)
	}
}
