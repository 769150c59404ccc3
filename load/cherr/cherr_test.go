package cherr

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/internal/chserver/chservertest"
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
