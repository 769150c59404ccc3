package aggregate

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"golang.org/x/sync/errgroup"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/queries"
)

// refreshBefore is refresh_days.sql before the refresh chose its form
// (main at 21529d8): every org's statement read the calls of its dirty days
// through a set of (org, provider, call_id), grouped by org too, and
// grouped the per-day counts again with the zero rows.
//
//go:embed testdata/refresh_days_before.sql
var refreshBefore string

// refreshOld is Refresh as it was with refreshBefore: one statement per
// org (at most maxKeysPerStatement days), two at a time, then the marks.
func refreshOld(ctx context.Context, a *Maintainer) error {
	rows, err := a.conn.Query(ctx, queries.DirtyDays)
	if err != nil {
		return err
	}
	dirty, err := scanDayKeys(rows)
	if err != nil || len(dirty) == 0 {
		return err
	}
	v, err := a.nextVersion(ctx, dirty)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(refreshWorkers)
	for _, chunk := range orgChunks(dirty, maxKeysPerStatement) {
		g.Go(func() error {
			sql, from, to := queries.RenderDayKeys(refreshBefore, chunk)
			return a.conn.Exec(clickhouse.Context(gctx, clickhouse.WithSettings(clickhouse.Settings{"max_query_size": len(sql) + 1<<16})),
				sql, clickhouse.Named("version", v), clickhouse.Named("from", from), clickhouse.Named("to", to))
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return a.insertMarks(ctx, dirty, "refreshed", v)
}

// genRaw inserts calls of the orgs orgExpr names (a SQL expression of the
// call number n) in inserts of 100k, as a stream's batches leave parts:
// 400 users a org, a quarter of the calls without one, every seventh call
// with an older version on another day and user, every fiftieth deleted.
// startExpr places call n in time.
func genRaw(ctx context.Context, b *testing.B, st *store.Store, orgExpr, startExpr string, first, n int) {
	b.Helper()
	for lo := 0; lo < n; lo += 100_000 {
		for _, older := range []bool{false, true} {
			user, start, version, where := "if(intHash32(n) % 4 = 0, '', toString(100000 + intHash32(n * 7) % 400))", startExpr, "toUInt64(1000)", "1"
			if older {
				user, start, version, where = "'old'", "("+startExpr+") - 86400 * (1 + n % 5)", "toUInt64(999)", "n % 7 = 0"
			}
			sql := fmt.Sprintf(`INSERT INTO raw_signals (org, source, event_type, provider, call_id, user_id, started_at, direction, duration_sec,
				status, after_hours, escalated, escalation_available, resolved, deleted, version, rules_version, ingest_source, event, observed_at, loaded_at)
			SELECT %s, 'phone', 'call', 'aircall', toString(n), %s, %s, if(n %% 2 = 0, 'inbound', 'outbound'), toUInt32(n %% 900), 'done',
				toUInt8(n %% 5 = 0), toUInt8(n %% 7 = 0), 1, toUInt8(n %% 3 = 0), toUInt8(n %% 50 = 0 AND %d = 0), %s, 'r', 'kafka', '', now(), now()
			FROM (SELECT %d + number AS n FROM numbers(%d)) WHERE %s`,
				orgExpr, user, start, b2i(older), version, first+lo, min(100_000, n-lo), where)
			if err := st.Conn().Exec(ctx, sql); err != nil {
				b.Fatalf("generating calls: %v", err)
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// markAll marks dirty every day of raw_signals matching where (its newest
// days only, when last > 0), as the loader's batches would.
func markAll(ctx context.Context, b *testing.B, a *Maintainer, where string, last int) {
	b.Helper()
	sql := fmt.Sprintf(`INSERT INTO user_day_dirty (org, day, kind, value)
		SELECT org, day, 'loaded', (SELECT max(value) + 1 FROM user_day_dirty) FROM (SELECT DISTINCT org, toDate(started_at) AS day FROM raw_signals WHERE %s)`, where)
	if last > 0 {
		sql += fmt.Sprintf(" WHERE day > (SELECT max(toDate(started_at)) FROM raw_signals WHERE %s) - %d", where, last)
	}
	if err := a.conn.Exec(ctx, sql); err != nil {
		b.Fatal(err)
	}
}

// quietMerges waits (up to a minute) until the database's merges are
// done, so a measurement does not share the CPU with the merges of the
// rows the previous one wrote.
func quietMerges(ctx context.Context, b *testing.B, st *store.Store) {
	b.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var n uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM system.merges WHERE database = currentDatabase()").Scan(&n); err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// serverCPU is the CPU time (user+system) the server process pid used so
// far, from /proc/pid/stat (fields 14 and 15, clock ticks of 1/100 s).
func serverCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("reading the server's CPU time: %v", err)
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatalf("reading the server's CPU time: %q: %v", v, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// BenchmarkRefresh times, on ClickHouse 18.16 and in one run, the
// aggregate refresh before (refreshOld) and now (Refresh), alternating,
// best of several runs each, and sums the server's CPU time over the
// runs (its ratio is the steadier figure on a shared machine), on:
//   - backfill: bench-e2e's exit pass, 1M calls of 20 orgs spread over 90
//     days, every org-day dirty (1,800 keys);
//   - stream: an org with 400k calls over a year (ids growing with time),
//     only its last 3 days dirty, as a stream of recent calls leaves it;
//   - stream10: its last 10 days, more than fewDirtyDays: the refresher
//     looks up the org's days before choosing the days form.
func BenchmarkRefresh(b *testing.B) {
	ctx := context.Background()
	srv := chservertest.Shared(b)
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: chservertest.Database(b, srv)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	agg, err := New(st.Conn(), nil)
	if err != nil {
		b.Fatal(err)
	}
	genRaw(ctx, b, st, "concat('org', toString(1 + n % 20))", "toDateTime('2026-06-01 00:00:00', 'UTC') + intHash32(n * 3) % (90 * 86400)", 1_000_000_000, 1_000_000)
	genRaw(ctx, b, st, "'history'", "toDateTime('2025-09-01 00:00:00', 'UTC') + intDiv((n - 2000000000) * 365 * 86400, 400000) + intHash32(n) % 3600", 2_000_000_000, 400_000)
	markAll(ctx, b, agg, "1", 0)
	if err := agg.Refresh(ctx); err != nil { // fills user_day_metrics
		b.Fatal(err)
	}
	cases := []struct {
		name  string
		where string
		last  int
		reps  int
	}{
		{"backfill", "org != 'history'", 0, 5},
		{"stream", "org = 'history'", 3, 25},
		{"stream10", "org = 'history'", 10, 15},
	}
	for _, c := range cases {
		var before, after []time.Duration
		var cpu [2]time.Duration // server CPU, summed over the runs: before, after
		for i := 0; i < c.reps; i++ {
			for side, refresh := range []func(context.Context) error{
				func(ctx context.Context) error { return refreshOld(ctx, agg) }, agg.Refresh,
			} {
				markAll(ctx, b, agg, c.where, c.last)
				quietMerges(ctx, b, st)
				start, startCPU := time.Now(), serverCPU(b, srv.Pid())
				if err := refresh(ctx); err != nil {
					b.Fatalf("%s: %v", c.name, err)
				}
				d := &after
				if side == 0 {
					d = &before
				}
				*d = append(*d, time.Since(start))
				cpu[side] += serverCPU(b, srv.Pid()) - startCPU
			}
		}
		bo, af := slices.Min(before), slices.Min(after)
		b.ReportMetric(float64(bo.Microseconds())/1000, c.name+"_before_ms")
		b.ReportMetric(float64(af.Microseconds())/1000, c.name+"_after_ms")
		b.ReportMetric(bo.Seconds()/af.Seconds(), c.name+"_x")
		b.ReportMetric(cpu[0].Seconds()/max(cpu[1].Seconds(), 0.01), c.name+"_cpu_x")
		b.Logf("%s: before %v, after %v (best of %d each, same run): %.2fx; server CPU over the %d runs %v before, %v after",
			c.name, bo, af, c.reps, bo.Seconds()/af.Seconds(), c.reps, cpu[0], cpu[1])
	}
}
