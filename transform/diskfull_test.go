package transform_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/apache/arrow/go/v17/arrow"

	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load"
	"github.com/phonesignals/phonesignals/transform"
)

// fullDisk is the loader behind a ClickHouse whose disk is full until a
// time: its inserts fail as the server's do (NOT_ENOUGH_SPACE), then go
// through to the real loader.
type fullDisk struct {
	*load.Loader
	until    time.Time
	failures atomic.Int64
	// gauge is phonesignals_clickhouse_disk_full as seen by the second
	// failing insert, after the first was reported.
	gauge atomic.Int64
}

func (d *fullDisk) BeginPoll(ctx context.Context, calls []model.CallKey) transform.PollLoad {
	return fullDiskPoll{d.Loader.BeginPoll(ctx, calls), d}
}

type fullDiskPoll struct {
	transform.PollLoad
	d *fullDisk
}

func (p fullDiskPoll) Write(ctx context.Context, recs []arrow.Record) error {
	if time.Now().Before(p.d.until) {
		if p.d.failures.Add(1) == 2 {
			p.d.gauge.Store(int64(gaugeValue("phonesignals_clickhouse_disk_full")))
		}
		return &clickhouse.Exception{Code: 243, Name: "DB::Exception",
			Message: "Could not perform insert: less than 1.00 GiB free bytes left in the disk space (/srv/clickhouse/). Configure this limit with user settings min_free_disk_bytes_to_perform_insert"}
	}
	return p.PollLoad.Write(ctx, recs)
}

func gaugeValue(name string) float64 {
	mfs, _ := obs.Registry().Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			m := mf.GetMetric()[0]
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFullDiskIsWaitedOut: ClickHouse refusing inserts for want of disk
// space (code 243) is an outage, not schema drift: the consumer must back
// off, say so naming the disk, raise phonesignals_clickhouse_disk_full,
// and load everything by itself once space is back.
func TestFullDiskIsWaitedOut(t *testing.T) {
	st, bcfg, box := trickleRig(t)
	pub, err := bus.NewPublisher(bcfg, box, bus.TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for i := range 20 {
		publishTrickleCall(ctx, t, pub, i)
	}
	ld, err := load.New(load.Config{Conn: st.Conn()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ld.Close(context.Background()) }()
	disk := &fullDisk{Loader: ld, until: time.Now().Add(4 * time.Second)}
	var logs syncBuffer
	c, err := transform.New(transform.Config{Bus: bcfg, Box: box, Decoders: providers.Registry().Decoders(),
		Writer: disk, DeadLetters: st, SessionTimeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	retriesBefore := retriesOf("disk_full")
	start := time.Now()
	if err := c.RunUntilIdle(ctx); err != nil {
		t.Fatalf("consumer through a full disk (freed after 4 s) stopped after %s: %v", time.Since(start).Round(time.Millisecond), err)
	}
	if n := disk.failures.Load(); n < 2 {
		t.Fatalf("the full disk was not exercised: %d failed inserts", n)
	}
	var rows uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM raw_signals").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 20 {
		t.Errorf("raw_signals holds %d rows once space was back, want 20", rows)
	}
	if g := disk.gauge.Load(); g != 1 {
		t.Errorf("phonesignals_clickhouse_disk_full was %d while the disk was full, want 1", g)
	}
	if g := gaugeValue("phonesignals_clickhouse_disk_full"); g != 0 {
		t.Errorf("phonesignals_clickhouse_disk_full is %v once space is back, want 0", g)
	}
	if got := retriesOf("disk_full") - retriesBefore; got != float64(disk.failures.Load()) {
		t.Errorf("phonesignals_clickhouse_retries_total{cause=disk_full} went up by %v for %d failed inserts", got, disk.failures.Load())
	}
	out := logs.String()
	if strings.Count(out, "out of disk space") != 1 || !strings.Contains(out, "disk=/srv/clickhouse/") {
		t.Errorf("want one line saying clickhouse is out of disk space, naming disk=/srv/clickhouse/; logs:\n%s", out)
	}
	if !strings.Contains(out, "disk space again") {
		t.Errorf("no line saying the disk has space again; logs:\n%s", out)
	}
}

func retriesOf(cause string) float64 {
	mfs, _ := obs.Registry().Gather()
	for _, mf := range mfs {
		if mf.GetName() != "phonesignals_clickhouse_retries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cause" && l.GetValue() == cause {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestRealFullDiskResumes: a ClickHouse 18.16 whose disk (a small tmpfs)
// fills up under the pipeline makes inserts fail with ENOSPC (code 75,
// "Cannot write to file PATH, errno: 28"); the consumer must wait it out
// with phonesignals_clickhouse_disk_full raised, and load every record by
// itself once space is freed. It needs to mount a tmpfs (root, as CI
// runs); elsewhere it skips.
func TestRealFullDiskResumes(t *testing.T) {
	if testing.Short() || os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip("needs clickhouse-server 18.16 and a tmpfs mount")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (not root?): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := chserver.Start(ctx, chserver.Config{Dir: filepath.Join(mnt, "clickhouse")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: "ps"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	bcfg, box := brokerRig(t)
	pub, err := bus.NewPublisher(bcfg, box, bus.TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for i := range 50 {
		publishTrickleCall(ctx, t, pub, i)
	}
	ballast := fillDisk(t, mnt)
	ld, err := load.New(load.Config{Conn: st.Conn()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ld.Close(context.Background()) }()
	var logs syncBuffer
	c, err := transform.New(transform.Config{Bus: bcfg, Box: box, Decoders: providers.Registry().Decoders(),
		Writer: ld, DeadLetters: st, SessionTimeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { done <- c.RunUntilIdle(ctx) }()
	for gaugeValue("phonesignals_clickhouse_disk_full") != 1 {
		select {
		case err := <-done:
			t.Fatalf("the consumer ended on a full disk: %v; logs:\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	time.Sleep(time.Second) // a few retries on the full disk
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("consumer once space was freed: %v", err)
	}
	var rows uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM raw_signals").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 50 {
		t.Errorf("raw_signals holds %d rows once space was back, want 50", rows)
	}
	if g := gaugeValue("phonesignals_clickhouse_disk_full"); g != 0 {
		t.Errorf("phonesignals_clickhouse_disk_full is %v once space is back, want 0", g)
	}
	t.Logf("logs:\n%s", logs.String())
	if out := logs.String(); !strings.Contains(out, "out of disk space") || !strings.Contains(out, "disk="+mnt) {
		t.Errorf("want a line saying clickhouse is out of disk space, naming a path under %s; logs:\n%s", mnt, out)
	}
}

// fillDisk fills the file system of dir but for a few KiB with a file,
// whose path it returns. ClickHouse writes to the same file system
// meanwhile (its logs and merges), so the free space can shrink between
// the statfs and the last write: running out of space first is the goal
// reached, not a failure.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for left := int64(fs.Bavail)*fs.Bsize - 8<<10; left > 0; left -= int64(len(chunk)) {
		if left < int64(len(chunk)) {
			chunk = chunk[:left]
		}
		if _, err := f.Write(chunk); errors.Is(err, syscall.ENOSPC) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	return path
}
