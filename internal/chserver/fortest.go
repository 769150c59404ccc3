package chserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TB is the part of testing.TB the test helpers use. Naming it here keeps
// the testing package out of binaries that import chserver for Ensure.
type TB interface {
	Helper()
	Name() string
	Cleanup(func())
	Skip(args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// EnvSkip names the environment variable that, set to 1, makes ForTest
// skip instead of fail when no server can run: the explicit opt-out for a
// developer without Debian's clickhouse-server. CI never sets it.
const EnvSkip = "PHONESIGNALS_SKIP_CLICKHOUSE"

// testDirPrefix names the temporary directories of ForTest's servers;
// the pid after it says which test binary owns one.
const testDirPrefix = "phonesignals-chserver-"

var shared struct {
	once sync.Once
	srv  *Server
	err  error
	seq  atomic.Int64
}

// ForTest returns the clickhouse-server shared by every test of this test
// binary, starting it on first use in a temporary directory. Sharing one
// server per binary keeps tests fast (one start, not one per test); give
// each test its own database with TestDatabase.
//
// The server is killed by the kernel when the test binary exits (Linux
// parent-death signal), and leftover directories of dead test binaries are
// removed by the next ForTest. It skips the test only when
// PHONESIGNALS_SKIP_CLICKHOUSE=1; a missing binary otherwise fails it,
// naming the install command, so CI cannot silently lose coverage.
func ForTest(t TB) *Server {
	t.Helper()
	if os.Getenv(EnvSkip) == "1" {
		t.Skip(EnvSkip + "=1: skipping a test that needs clickhouse-server 18.16")
	}
	shared.once.Do(func() {
		sweepTestDirs()
		dir, err := os.MkdirTemp("", testDirPrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			shared.err = fmt.Errorf("creating a directory for the test clickhouse-server: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*DefaultStartTimeout)
		defer cancel()
		shared.srv, shared.err = start(ctx, Config{Dir: dir}, startOpts{dieWithParent: true})
		if shared.err != nil {
			_ = os.RemoveAll(dir)
		}
	})
	if shared.err != nil {
		t.Fatalf("this test needs clickhouse-server 18.16 (Debian package; set %s=1 to skip such tests): %v", EnvSkip, shared.err)
	}
	return shared.srv
}

// sweepTestDirs removes the directories of ForTest servers whose test
// binary has exited; the server itself died with it.
func sweepTestDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), testDirPrefix+"*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), testDirPrefix)
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// TestDatabase creates a database for t alone on s and drops it when t
// ends, so tests sharing a server never see each other's tables. The name
// is derived from the test name, for reading the server's logs.
func (s *Server) TestDatabase(t TB) string {
	t.Helper()
	name := nonIdent.ReplaceAllString(t.Name(), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("t%d_%s", shared.seq.Add(1), strings.Trim(name, "_"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Query(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.Query(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("dropping test database: %v", err)
		}
	})
	return name
}
