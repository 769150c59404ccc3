package chdb

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// requireLib returns the libchdb path, skipping only when the developer
// opted out with PHONESIGNALS_SKIP_CHDB=1: a missing library is otherwise a
// failure, so CI cannot silently stop checking SQL against current
// ClickHouse.
func requireLib(t *testing.T) string {
	t.Helper()
	if os.Getenv("PHONESIGNALS_SKIP_CHDB") == "1" {
		t.Skip("PHONESIGNALS_SKIP_CHDB=1: skipping the libchdb tests")
	}
	p, err := LibPath()
	if err != nil {
		t.Fatalf("libchdb is required for this test (set PHONESIGNALS_SKIP_CHDB=1 to skip): %v", err)
	}
	return p
}

func TestLibPath(t *testing.T) {
	// A fake repository with and without an installed library.
	withLib := t.TempDir()
	mustWrite(t, filepath.Join(withLib, "go.mod"), "module x\n")
	lib := filepath.Join(withLib, filepath.FromSlash(RepoLibPath))
	mustWrite(t, lib, "not really ELF")
	deep := filepath.Join(withLib, "internal", "pkg")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	withoutLib := t.TempDir()
	mustWrite(t, filepath.Join(withoutLib, "go.mod"), "module x\n")
	empty := filepath.Join(t.TempDir(), "empty.so")
	mustWrite(t, empty, "")

	tests := []struct {
		name    string
		env     string
		dir     string
		want    string
		wantErr string
	}{
		{name: "found from a package directory", dir: deep, want: lib},
		{name: "found at the root", dir: withLib, want: lib},
		{name: "env wins", env: lib, dir: withoutLib, want: lib},
		{name: "not installed", dir: withoutLib, wantErr: "make chdb"},
		{name: "env names a missing file", env: filepath.Join(withoutLib, "nope.so"), dir: withLib, wantErr: EnvLibPath},
		{name: "env names an empty file", env: empty, dir: withLib, wantErr: "non-empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvLibPath, tt.env)
			t.Chdir(tt.dir)
			got, err := LibPath()
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("LibPath() = %q, want an error containing %q", got, tt.wantErr)
				}
				if !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "install-chdb.sh") {
					t.Fatalf("LibPath() error = %v, want ErrLibraryNotFound mentioning %q and install-chdb.sh", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LibPath(): %v", err)
			}
			if got != tt.want {
				t.Fatalf("LibPath() = %q, want %q", got, tt.want)
			}
		})
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEngine runs every engine check on one DB, in order, because libchdb
// boots its engine once per process and allows a single connection.
func TestEngine(t *testing.T) {
	lib := requireLib(t)
	dir := t.TempDir()
	db, err := Open(lib, dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })

	t.Run("version", func(t *testing.T) {
		out, err := db.Query("SELECT version()", "TSV")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(out), "26.") {
			t.Fatalf("version() = %q, want 26.x", out)
		}
	})

	t.Run("one connection per process", func(t *testing.T) {
		other, err := Open(lib, t.TempDir())
		if err == nil {
			_ = other.Close()
			t.Fatal("second Open succeeded, want ErrAlreadyOpen")
		}
		if !errors.Is(err, ErrAlreadyOpen) {
			t.Fatalf("second Open: %v, want ErrAlreadyOpen", err)
		}
	})

	t.Run("merge tree round trip", func(t *testing.T) {
		for _, q := range []string{
			"CREATE DATABASE IF NOT EXISTS ps_test",
			"CREATE TABLE ps_test.calls (id UInt32, org LowCardinality(String), dur UInt32) ENGINE = MergeTree ORDER BY (org, id)",
			"INSERT INTO ps_test.calls VALUES (2, 'acme', 30), (1, 'acme', 10), (3, 'beta', 5)",
		} {
			if err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		out, err := db.Query("SELECT id, org, dur FROM ps_test.calls ORDER BY id", "JSONEachRow")
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			ID  uint32 `json:"id"`
			Org string `json:"org"`
			Dur uint32 `json:"dur"`
		}
		var got []row
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			var r row
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("decoding %q: %v", sc.Text(), err)
			}
			got = append(got, r)
		}
		want := []row{{1, "acme", 10}, {2, "acme", 30}, {3, "beta", 5}}
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("row %d = %v, want %v", i, got[i], want[i])
			}
		}
	})

	t.Run("errors carry the ClickHouse message", func(t *testing.T) {
		tests := []struct {
			sql  string
			want string
		}{
			{"SELECT * FROM ps_test.missing", "UNKNOWN_TABLE"},
			{"SELEC 1", "SYNTAX_ERROR"},
		}
		for _, tt := range tests {
			_, err := db.Query(tt.sql, "TSV")
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("Query(%q) error = %v, want a *QueryError", tt.sql, err)
			}
			if !strings.Contains(qe.Message, tt.want) || qe.Query != tt.sql {
				t.Fatalf("Query(%q) error = %+v, want message containing %q", tt.sql, qe, tt.want)
			}
		}
	})

	t.Run("concurrent queries", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				out, err := db.Query("SELECT count() FROM numbers(100000)", "TSV")
				if err == nil && strings.TrimSpace(string(out)) != "100000" {
					err = errors.New("count() = " + string(out))
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("Go signal handlers survive", func(t *testing.T) {
		// A nil dereference is a SIGSEGV that the Go runtime turns into a
		// panic; had libchdb's handler replaced Go's, this would hang or
		// kill the process instead of recovering.
		defer func() {
			if recover() == nil {
				t.Fatal("nil dereference did not panic")
			}
		}()
		var p *int
		_ = *p
	})

	t.Run("data persists across reopen", func(t *testing.T) {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Query("SELECT 1", ""); !errors.Is(err, ErrClosed) {
			t.Fatalf("Query after Close: %v, want ErrClosed", err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		db2, err := Open(lib, dir)
		if err != nil {
			t.Fatalf("reopening %s: %v", dir, err)
		}
		t.Cleanup(func() { _ = db2.Close() })
		out, err := db2.Query("SELECT sum(dur) FROM ps_test.calls", "")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(out)); got != "45" {
			t.Fatalf("sum(dur) after reopen = %q, want 45", got)
		}
	})
}
