package aggregatetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow/go/v17/arrow"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/queries"
	"github.com/phonesignals/phonesignals/transform"
	"github.com/phonesignals/phonesignals/transform/transformtest"
)

// MigratedStore opens a fresh, migrated database on the shared 18.16
// server, closed at the end of the test.
func MigratedStore(ctx context.Context, t testing.TB) *store.Store {
	t.Helper()
	srv := chservertest.Shared(t)
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: chservertest.Database(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// Record is calls as one Arrow batch of raw_signals rows, released at the
// end of the test.
func Record(t testing.TB, calls []modeltest.Call) arrow.Record {
	t.Helper()
	bb := transform.NewBatchBuilder(nil)
	for i := range calls {
		if err := transformtest.Add(bb, &calls[i]); err != nil {
			t.Fatal(err)
		}
	}
	rec := bb.NewRecord()
	bb.Release()
	t.Cleanup(rec.Release)
	return rec
}

// DayTable is the rows of sql (FromAggregates or FromRaw), as strings.
func DayTable(ctx context.Context, t testing.TB, conn driver.Conn, sql string) [][]string {
	t.Helper()
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var org, provider, user string
		var day time.Time
		var n [7]uint64
		if err := rows.Scan(&org, &day, &provider, &user, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6]); err != nil {
			t.Fatal(err)
		}
		out = append(out, []string{org, day.Format(time.DateOnly), provider, user, fmt.Sprint(n)})
	}
	return out
}

// FromAggregates and FromRaw are the same per-day numbers, read from
// user_day_metrics and computed from the current versions in raw_signals.
const (
	FromAggregates = `SELECT org, day, provider, user_id, c, i, o, d, a, e, r FROM (
		SELECT org, day, provider, user_id, argMax(calls, version) AS c, argMax(inbound_calls, version) AS i,
			argMax(outbound_calls, version) AS o, argMax(duration_sum, version) AS d, argMax(after_hours_calls, version) AS a,
			argMax(escalated_calls, version) AS e, argMax(resolved_calls, version) AS r
		FROM user_day_metrics GROUP BY org, day, provider, user_id) WHERE c > 0 ORDER BY org, day, provider, user_id`
	FromRaw = `SELECT org, toDate(started_at) AS day, provider, user_id, count() AS c, countIf(direction = 'inbound') AS i,
		countIf(direction = 'outbound') AS o, sum(toUInt64(duration_sec)) AS d, countIf(after_hours = 1) AS a,
		countIf(escalated = 1) AS e, countIf(resolved = 1) AS r
		FROM calls_current WHERE deleted = 0 GROUP BY org, day, provider, user_id ORDER BY org, day, provider, user_id`
)

// DirtyDays is the (org, day) keys user_day_dirty holds dirty, sorted.
func DirtyDays(ctx context.Context, t testing.TB, conn driver.Conn) []model.DayKey {
	t.Helper()
	rows, err := conn.Query(ctx, queries.DirtyDays)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []model.DayKey
	for rows.Next() {
		var k model.DayKey
		if err := rows.Scan(&k.Org, &k.Day); err != nil {
			t.Fatal(err)
		}
		out = append(out, model.DayKey{Org: k.Org, Day: model.DayOf(k.Day)})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return model.SortDayKeys(out)
}
