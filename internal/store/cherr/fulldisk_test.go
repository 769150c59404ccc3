package cherr

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
)

// TestRealFullDisk fills the disk of a ClickHouse 18.16 server (its
// directory on a small tmpfs of its own) and checks that the insert's
// failure is a full disk, an outage: transient, not permanent, naming
// where; and that the same insert goes through once space is freed. It
// needs to mount a tmpfs (root, as CI runs); elsewhere it skips.
func TestRealFullDisk(t *testing.T) {
	if testing.Short() || os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip("needs clickhouse-server 18.16 and a tmpfs mount")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (not root?): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := chserver.Start(ctx, chserver.Config{Dir: filepath.Join(mnt, "clickhouse")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{srv.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE TABLE filler (s String) ENGINE = MergeTree ORDER BY tuple()"); err != nil {
		t.Fatal(err)
	}
	ballast := filepath.Join(mnt, "ballast")
	var fs syscall.Statfs_t
	if err := syscall.Statfs(mnt, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * fs.Bsize
	f, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, free-256<<10)); err != nil && !strings.Contains(err.Error(), "no space") {
		t.Fatal(err)
	}
	f.Close()
	insert := func() error {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO filler (s)")
		if err != nil {
			return err
		}
		row := make([]byte, 1000)
		for range 5000 {
			_, _ = rand.Read(row)
			if err := b.Append(hex.EncodeToString(row)); err != nil {
				return err
			}
		}
		return b.Send()
	}
	err = insert()
	t.Logf("insert on a full disk: %v", err)
	if err == nil {
		t.Fatal("an insert of 5 MB went through with 256 KiB free")
	}
	where, full := DiskFull(err)
	if !full || IsPermanent(err) || !IsTransient(err) {
		t.Fatalf("insert on a full disk: %v: DiskFull %v, IsPermanent %v, IsTransient %v; want a transient full disk", err, full, IsPermanent(err), IsTransient(err))
	}
	t.Logf("where: %q", where)
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if err := insert(); err != nil {
		t.Fatalf("insert once space is back: %v", err)
	}
}
