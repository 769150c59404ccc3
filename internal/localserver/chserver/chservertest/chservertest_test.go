package chservertest

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func TestShared(t *testing.T) {
	s := Shared(t)
	if again := Shared(t); again != s {
		t.Fatalf("Shared started a second server (pid %d and %d)", s.Pid(), again.Pid())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := Database(t, s)
	other := Database(t, s)
	if db == other {
		t.Fatalf("Database returned %q twice", db)
	}

	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr: []string{s.Addr()},
		Auth: clickhouse.Auth{Database: db, Username: "default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE TABLE calls (id UInt32, org LowCardinality(String)) ENGINE = MergeTree ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO calls (id, org)")
	if err != nil {
		t.Fatal(err)
	}
	if err := batch.Column(0).Append([]uint32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := batch.Column(1).Append([]string{"a", "b", "a"}); err != nil {
		t.Fatal(err)
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	out, err := s.Query(ctx, "SELECT org, count() FROM "+db+".calls GROUP BY org ORDER BY org")
	if err != nil {
		t.Fatal(err)
	}
	if out != "a\t2\nb\t1\n" {
		t.Fatalf("got %q", out)
	}
	if _, err := s.Query(ctx, "SELECT * FROM "+other+".calls"); err == nil || !strings.Contains(err.Error(), "doesn't exist") {
		t.Fatalf("the other test database must be empty, got %v", err)
	}
}

func TestSweepTestDirs(t *testing.T) {
	// A pid that certainly exited: a finished child of ours.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	deadDir, err := os.MkdirTemp("", testDirPrefix+strconv.Itoa(cmd.Process.Pid)+"-")
	if err != nil {
		t.Fatal(err)
	}
	liveDir, err := os.MkdirTemp("", testDirPrefix+strconv.Itoa(os.Getppid())+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(liveDir); os.RemoveAll(deadDir) })
	sweepTestDirs()
	if _, err := os.Stat(deadDir); !os.IsNotExist(err) {
		t.Errorf("%s of a dead test binary was kept (%v)", deadDir, err)
	}
	if _, err := os.Stat(liveDir); err != nil {
		t.Errorf("%s of a live process was removed: %v", liveDir, err)
	}
}
