package cherr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
)

// TestClassify sorts failures a real ClickHouse 18.16 and a closed port
// produce.
func TestClassify(t *testing.T) {
	ctx := context.Background()
	srv := chservertest.Shared(t)
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{srv.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	down, err := clickhouse.Open(&clickhouse.Options{Addr: []string{closed}, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	for _, tc := range []struct {
		name                 string
		err                  error
		permanent, transient bool
	}{
		{"unknown table", conn.Exec(ctx, "SELECT * FROM no_such_table_here"), true, false},
		{"unknown column", conn.Exec(ctx, "SELECT no_such_column FROM system.one"), true, false},
		{"server down", down.Ping(ctx), false, true},
		// 18.16 on a cluster: another quorum insert into the shard's table
		// is unconfirmed; the next one goes through once it is.
		{"quorum busy", fmt.Errorf("inserting 12 rows into raw_signals: %w", &clickhouse.Exception{Code: 286, Name: "DB::Exception",
			Message: "Another quorum insert has been already started"}), false, true},
		{"ours", Permanentf("column x: %w", errors.New("bad type")), true, false},
		{"nil", nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "nil" && tc.err == nil {
				t.Fatal("no error to classify")
			}
			if got := IsPermanent(tc.err); got != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v", tc.err, got)
			}
			if got := IsTransient(tc.err); got != tc.transient {
				t.Errorf("IsTransient(%v) = %v", tc.err, got)
			}
			if c := Classify(tc.err); tc.permanent != errors.As(c, new(*PermanentError)) {
				t.Errorf("Classify(%v) = %v", tc.err, c)
			}
		})
	}
}

// TestDiskFull: a full ClickHouse disk, in the words of the server
// versions the pipeline meets, is an outage to wait out (transient, not
// permanent), and the disk or path the message names is found.
func TestDiskFull(t *testing.T) {
	insert := func(ex *clickhouse.Exception) error {
		return fmt.Errorf("inserting 20000 rows into raw_signals: %w", ex)
	}
	for _, tc := range []struct {
		name  string
		err   error
		full  bool
		where string
	}{
		{"18.16 reservation", insert(&clickhouse.Exception{Code: 243, Name: "DB::Exception",
			Message: "Not enough free disk space to reserve: 1.00 MiB available, 9.16 MiB requested"}), true, ""},
		{"reservation", insert(&clickhouse.Exception{Code: 243, Name: "DB::Exception",
			Message: "Cannot reserve 9.16 MiB, not enough space. (NOT_ENOUGH_SPACE)"}), true, ""},
		{"merge", &clickhouse.Exception{Code: 243, Message: "Not enough space for merging parts"}, true, ""},
		{"insert limit", insert(&clickhouse.Exception{Code: 243, Message: "Could not perform insert: less than 1.00 GiB free bytes left in the disk space (/var/lib/clickhouse/). " +
			"Configure this limit with user settings min_free_disk_bytes_to_perform_insert or min_free_disk_ratio_to_perform_insert. (NOT_ENOUGH_SPACE)"}), true, "/var/lib/clickhouse/"},
		{"disk named", &clickhouse.Exception{Code: 243, Message: "Cannot reserve 1.00 MiB on disk 'hot', not enough space"}, true, "hot"},
		{"ENOSPC writing a part", insert(&clickhouse.Exception{Code: 75, Name: "DB::Exception",
			Message: "Cannot write to file /var/lib/clickhouse/data/ps/raw_signals/tmp_insert_202609_1_1_0/duration_sec.bin, errno: 28, strerror: No space left on device"}),
			true, "/var/lib/clickhouse/data/ps/raw_signals/tmp_insert_202609_1_1_0/duration_sec.bin"},
		{"ENOSPC nested", &clickhouse.Exception{Code: 1001, Message: "std::exception",
			Nested: []clickhouse.Exception{{Code: 1001, Message: "std::exception"}, {Code: 76, Message: "Cannot open file /data/ch/tmp/x.tmp, errno: 28, strerror: No space left on device"}}}, true, "/data/ch/tmp/x.tmp"},
		{"unknown table", &clickhouse.Exception{Code: 60, Message: "Table ps.raw_signals doesn't exist."}, false, ""},
		{"retyped column", &clickhouse.Exception{Code: 53, Message: "Type mismatch in IN or VALUES section"}, false, ""},
		{"memory is not disk", &clickhouse.Exception{Code: 241, Message: "Memory limit (for query) exceeded"}, false, ""},
		{"not a server error", errors.New("no space left on device"), false, ""},
		{"nil", nil, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			where, full := DiskFull(tc.err)
			if full != tc.full || where != tc.where {
				t.Errorf("DiskFull(%v) = %q, %v; want %q, %v", tc.err, where, full, tc.where, tc.full)
			}
			if !tc.full {
				return
			}
			if IsPermanent(tc.err) || !IsTransient(tc.err) {
				t.Errorf("%v: IsPermanent %v, IsTransient %v; a full disk is an outage to wait out", tc.err, IsPermanent(tc.err), IsTransient(tc.err))
			}
			if c := Classify(tc.err); errors.As(c, new(*PermanentError)) {
				t.Errorf("Classify(%v) = %v: permanent", tc.err, c)
			}
		})
	}
}
