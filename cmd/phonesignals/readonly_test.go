package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// TestCLIReadCommandsChangeNothing: a command that only reads never
// creates a database, migrates, or installs or starts a server; a store
// that is missing says so and names `phonesignals migrate`.
func TestCLIReadCommandsChangeNothing(t *testing.T) {
	e := newCLIEnv(t)
	missing := &cliEnv{srv: e.srv, db: e.db + "_missing", dataDir: e.dataDir}
	for _, args := range [][]string{
		{"org", "list"},
		{"employees", "list", "--org", "acme"},
		{"cycles", "list", "--org", "acme"},
		{"review", "--org", "acme", "--cycle", "2026-09"},
		{"doctor", "--org", "acme", "--offline"},
		{"sync", "status", "--org", "acme"},
		{"dlq", "list"},
		{"aggregates", "verify"},
	} {
		for _, env := range []*cliEnv{missing, e} { // no database; a database with no schema
			_, err := env.fail(t, args...)
			if !strings.Contains(err.Error(), "phonesignals migrate") {
				t.Errorf("%s on database %s: %v, want an error naming phonesignals migrate", strings.Join(args, " "), env.db, err)
			}
		}
	}
	if got := strings.TrimSpace(e.query(t, "SELECT count() FROM system.databases WHERE name = '"+missing.db+"'")); got != "0" {
		t.Fatalf("read commands created database %s (%s)", missing.db, got)
	}
	if got := strings.TrimSpace(e.query(t, "SELECT count() FROM system.tables WHERE database = '"+e.db+"'")); got != "0" {
		t.Fatalf("read commands created %s tables in %s", got, e.db)
	}
	// Behind: migrated, then one migration forgotten.
	e.ok(t, "migrate")
	e.ok(t, "org", "list")
	e.query(t, "ALTER TABLE "+e.db+".schema_migrations DELETE WHERE version = (SELECT max(version) FROM "+e.db+".schema_migrations)")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := e.run(t, "org", "list")
		if err != nil && strings.Contains(err.Error(), "run `phonesignals migrate`") && strings.Contains(err.Error(), "is at migration") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("org list on a store one migration behind: %v", err)
		}
	}

	// No --clickhouse: the local server of a new data dir is not started.
	fresh := filepath.Join(t.TempDir(), "fresh")
	app := newApp()
	app.ExitErrHandler = func(*cli.Context, error) {}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := app.RunContext(ctx, []string{"phonesignals", "--data-dir", fresh, "--log-level", "warn", "org", "list"})
	if err == nil || !strings.Contains(err.Error(), "phonesignals clickhouse start") {
		t.Fatalf("org list on a new data dir: %v, want an error naming clickhouse start", err)
	}
	if _, err := os.Stat(filepath.Join(fresh, "clickhouse")); !os.IsNotExist(err) {
		t.Fatalf("org list on a new data dir made %s (%v)", filepath.Join(fresh, "clickhouse"), err)
	}
}

// TestCLIClickHouseStatusExit: `clickhouse status` with no server running
// exits 1, naming the start command.
func TestCLIClickHouseStatusExit(t *testing.T) {
	app := newApp()
	app.ExitErrHandler = func(*cli.Context, error) {}
	err := app.RunContext(context.Background(), []string{"phonesignals", "--data-dir", t.TempDir(), "clickhouse", "status"})
	var ec cli.ExitCoder
	if !errors.As(err, &ec) || ec.ExitCode() != 1 || !strings.Contains(err.Error(), "phonesignals clickhouse start") {
		t.Fatalf("clickhouse status with no server: %v, want exit 1 naming clickhouse start", err)
	}
}
