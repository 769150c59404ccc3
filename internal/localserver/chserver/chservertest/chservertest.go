package chservertest

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
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
)

// testDirPrefix names the temporary directories of Shared's servers;
// the pid after it says which test binary owns one.
const testDirPrefix = "phonesignals-chserver-"

var shared struct {
	once sync.Once
	srv  *chserver.Server
	err  error
	seq  atomic.Int64
}

// Shared returns the clickhouse-server shared by every test of this test
// binary, starting it on first use in a temporary directory. Sharing one
// server per binary keeps tests fast (one start, not one per test); give
// each test its own database with Database.
//
// The server is killed by the kernel when the test binary exits (Linux
// parent-death signal), and leftover directories of dead test binaries are
// removed by the next Shared. It skips the test only when
// PHONESIGNALS_SKIP_CLICKHOUSE=1; a missing binary otherwise fails it,
// naming the install command, so CI cannot silently lose coverage.
func Shared(t testing.TB) *chserver.Server {
	t.Helper()
	if os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip(chserver.EnvSkip + "=1: skipping a test that needs clickhouse-server 18.16")
	}
	shared.once.Do(func() {
		sweepTestDirs()
		dir, err := os.MkdirTemp("", testDirPrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			shared.err = fmt.Errorf("creating a directory for the test clickhouse-server: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*chserver.DefaultStartTimeout)
		defer cancel()
		shared.srv, shared.err = chserver.StartChild(ctx, chserver.Config{Dir: dir})
		if shared.err != nil {
			_ = os.RemoveAll(dir)
		}
	})
	if shared.err != nil {
		t.Fatalf("this test needs clickhouse-server 18.16 (Debian package; set %s=1 to skip such tests): %v", chserver.EnvSkip, shared.err)
	}
	return shared.srv
}

// sweepTestDirs removes the directories of Shared servers whose test
// binary has exited; the server itself died with it.
func sweepTestDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), testDirPrefix+"*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), testDirPrefix)
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() || chserver.ProcessAlive(pid) {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// Database creates a database for t alone on s and drops it when t
// ends, so tests sharing a server never see each other's tables. The name
// is derived from the test name, for reading the server's logs.
func Database(t testing.TB, s *chserver.Server) string {
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
