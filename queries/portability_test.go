package queries_test

// Portability: every DDL statement and query in this package runs on both
// ClickHouse engines the project supports, ClickHouse 18.16 (a real server,
// through clickhouse-go) and current ClickHouse (libchdb, in process), and
// gives the same rows on the same fixture; and the review views agree with
// the fixture's independently computed truth on both.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/phonesignals/phonesignals/internal/localserver/chdb"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/queries"
)

// envSkipCHDB is the opt-out the chdb package's tests document: set to 1,
// tests that need libchdb skip instead of failing.
const envSkipCHDB = "PHONESIGNALS_SKIP_CHDB"

// readQueries is every read query file of the package, with the exported
// variable that embeds it. TestPortabilityCoversEverySQLFile fails when a
// .sql file is added to queries/ without being listed here (or in
// ddlFiles), so a new query cannot escape the two-engine comparison.
var readQueries = map[string]string{
	"review.sql":                queries.Review,
	"baseline.sql":              queries.Baseline,
	"cycle_metrics.sql":         queries.CycleMetrics,
	"cycle_baselines.sql":       queries.CycleBaselines,
	"unmapped_users.sql":        queries.UnmappedUsers,
	"org_calls.sql":             queries.OrgCalls,
	"org_get.sql":               queries.OrgGet,
	"org_hours.sql":             queries.OrgHours,
	"org_list.sql":              queries.OrgList,
	"employees_list.sql":        queries.EmployeesList,
	"cycle_get.sql":             queries.CycleGet,
	"cycles_list.sql":           queries.CyclesList,
	"sync_window_done.sql":      queries.SyncWindowDone,
	"sync_last_run.sql":         queries.SyncLastRun,
	"webhook_stats.sql":         queries.WebhookStats,
	"dead_letter_stats.sql":     queries.DeadLetterStats,
	"migrations_applied.sql":    queries.MigrationsApplied,
	"transcript_stats.sql":      queries.TranscriptStats,
	"sync_runs_recent.sql":      queries.SyncRunsRecent,
	"serve_status.sql":          queries.ServeStatus,
	"sync_windows_stats.sql":    queries.SyncWindowsStats,
	"key_check_get.sql":         queries.KeyCheckGet,
	"dead_letter_replays.sql":   queries.DeadLetterReplays,
	"sync_windows_unloaded.sql": queries.SyncWindowsUnloaded,
	"provider_user_calls.sql":   queries.ProviderUserCalls,
	"column_exists.sql":         queries.ColumnExists,
	// The review's coverage and the privacy commands.
	"coverage_windows.sql":  queries.CoverageWindows,
	"coverage_runs.sql":     queries.CoverageRuns,
	"coverage_counts.sql":   queries.CoverageCounts,
	"employee_versions.sql": queries.EmployeeVersions,
	"forget_plan.sql":       queries.ForgetPlan,
	"retention_plan.sql":    queries.RetentionPlan,
	"erasures_list.sql":     queries.ErasuresList,
	"mutations_running.sql": queries.MutationsRunning,
	"cluster_nodes.sql":     queries.ClusterNodes,
	"string_columns.sql":    queries.StringColumns,
	"staged_erasures.sql":   queries.StagedErasures,
	// Grafana dashboards and alert rules.
	"cohort_medians.sql":        queries.CohortMedians,
	"employee_trend.sql":        queries.EmployeeTrend,
	"calls_weekly.sql":          queries.CallsWeekly,
	"escalated_by_employee.sql": queries.EscalatedByEmployee,
	"sync_last_success.sql":     queries.SyncLastSuccess,
	"dead_letters_window.sql":   queries.DeadLettersWindow,
}

// ddlFiles are the top-level .sql files that are DDL, applied by
// applySchema on both engines (migrations/ is covered wholesale through
// queries.Migrations()).
var ddlFiles = map[string]string{
	"schema_migrations.sql": queries.SchemaMigrations,
}

// views are every view the migrations create, with a total order for
// comparing SELECT * of each.
var views = []struct{ name, orderBy string }{
	{"calls_current", "org, provider, call_id"},
	{"call_metrics", "org, provider, call_id"},
	{"user_day_current", "org, day, provider, user_id"},
	{"orgs_current", "org"},
	{"employees_current", "org, employee_id"},
	{"cycles_current", "org, cycle_id"},
	{"employee_cycle_metrics", "org, cycle_id, employee_id"},
	{"cohort_cycle_baselines", "org, cycle_id, cohort"},
	{"cohort_cycle_baselines_published", "org, cycle_id, cohort"},
}

// ---------------------------------------------------------------------------
// Engines

// result is a query's answer normalized to strings, so the two engines'
// answers compare directly: numbers in canonical decimal (floats with
// strconv 'g'), DateTime as "YYYY-MM-DD hh:mm:ss" in UTC, NULL as NULL.
type result struct {
	cols  []string
	types []string
	rows  [][]string
}

type engine interface {
	name() string
	exec(ctx context.Context, sql string) error
	// query binds args to the query's ? placeholders.
	query(ctx context.Context, sql string, args ...any) (result, error)
	// insert writes rows (Go values of the columns' types) in one block.
	insert(ctx context.Context, table string, cols []string, rows [][]any) error
}

// ch18 is ClickHouse 18.16 through clickhouse-go, with the test database
// as the connection's default database.
type ch18 struct {
	conn driver.Conn
	db   string
}

func (e *ch18) name() string { return "clickhouse-18.16" }

func (e *ch18) exec(ctx context.Context, sql string) error { return e.conn.Exec(ctx, sql) }

func (e *ch18) query(ctx context.Context, sql string, args ...any) (result, error) {
	rows, err := e.conn.Query(ctx, sql, args...)
	if err != nil {
		return result{}, err
	}
	defer rows.Close()
	var res result
	res.cols = rows.Columns()
	cts := rows.ColumnTypes()
	for _, ct := range cts {
		res.types = append(res.types, ct.DatabaseTypeName())
	}
	for rows.Next() {
		ptrs := make([]any, len(cts))
		for i, ct := range cts {
			ptrs[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return result{}, err
		}
		row := make([]string, len(ptrs))
		for i, p := range ptrs {
			row[i] = normGo(reflect.ValueOf(p).Elem())
			if unwrapType(res.types[i]) == "Date" && len(row[i]) > 10 {
				// A Date scans into a time.Time; libchdb prints it as a date.
				row[i] = row[i][:10]
			}
		}
		res.rows = append(res.rows, row)
	}
	return res, rows.Err()
}

func (e *ch18) insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	// 18.16 needs the column list (an empty header otherwise) and must never
	// see INSERT ... VALUES through the driver.
	batch, err := e.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+")")
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := batch.Append(r...); err != nil {
			_ = batch.Abort()
			return err
		}
	}
	return batch.Send()
}

// normGo renders a value scanned by clickhouse-go.
func normGo(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.DateTime)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "NULL"
		}
		return normGo(v.Elem())
	case reflect.Slice, reflect.Array:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = normGo(v.Index(i))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// chdbEngine is current ClickHouse in process. libchdb has one session per
// process, so every statement runs after `USE db` under one lock: the
// session default is then always this test's database, never chdb's
// default database (which exposes the working directory's files as tables).
type chdbEngine struct {
	db       *chdb.DB
	database string
}

// chdbSession serializes USE+statement pairs on the process's one session.
var chdbSession sync.Mutex

func (e *chdbEngine) name() string { return "chdb-" + chdbVersion }

func (e *chdbEngine) run(sql, format string) ([]byte, error) {
	chdbSession.Lock()
	defer chdbSession.Unlock()
	if err := e.db.Exec("USE " + e.database); err != nil {
		return nil, err
	}
	return e.db.Query(sql, format)
}

func (e *chdbEngine) exec(_ context.Context, sql string) error {
	_, err := e.run(sql, "")
	return err
}

func (e *chdbEngine) query(_ context.Context, sql string, args ...any) (result, error) {
	bound, err := bindLiterals(sql, args)
	if err != nil {
		return result{}, err
	}
	out, err := e.run(bound, "JSONCompactEachRowWithNamesAndTypes")
	if err != nil {
		return result{}, err
	}
	return parseJSONCompact(out)
}

func (e *chdbEngine) insert(_ context.Context, table string, cols []string, rows [][]any) error {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") FORMAT JSONEachRow\n")
	for _, r := range rows {
		b.WriteByte('{')
		for i, v := range r {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(cols[i])
			b.Write(k)
			b.WriteByte(':')
			if tm, ok := v.(time.Time); ok {
				if cols[i] == "day" {
					// a Date column
					v = tm.UTC().Format(time.DateOnly)
				} else {
					v = tm.UTC().Format(time.DateTime)
				}
			}
			j, err := json.Marshal(v)
			if err != nil {
				return err
			}
			b.Write(j)
		}
		b.WriteString("}\n")
	}
	_, err := e.run(b.String(), "")
	return err
}

// parseJSONCompact reads JSONCompactEachRowWithNamesAndTypes: a line of
// names, a line of types, then one JSON array per row.
func parseJSONCompact(out []byte) (result, error) {
	var res result
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		line++
		switch line {
		case 1:
			if err := json.Unmarshal(sc.Bytes(), &res.cols); err != nil {
				return result{}, fmt.Errorf("chdb names line %q: %w", sc.Text(), err)
			}
		case 2:
			if err := json.Unmarshal(sc.Bytes(), &res.types); err != nil {
				return result{}, fmt.Errorf("chdb types line %q: %w", sc.Text(), err)
			}
		default:
			var raw []json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
				return result{}, fmt.Errorf("chdb row %q: %w", sc.Text(), err)
			}
			if len(raw) != len(res.types) {
				return result{}, fmt.Errorf("chdb row %q: %d values for %d columns", sc.Text(), len(raw), len(res.types))
			}
			row := make([]string, len(raw))
			for i, r := range raw {
				s, err := normJSON(r, res.types[i])
				if err != nil {
					return result{}, fmt.Errorf("chdb row %q column %s: %w", sc.Text(), res.cols[i], err)
				}
				row[i] = s
			}
			res.rows = append(res.rows, row)
		}
	}
	return res, sc.Err()
}

// normJSON renders one JSON value of a ClickHouse column type like normGo.
func normJSON(raw json.RawMessage, typ string) (string, error) {
	if string(raw) == "null" {
		return "NULL", nil
	}
	base := unwrapType(typ)
	if strings.HasPrefix(base, "Array(") {
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return "", err
		}
		inner := strings.TrimSuffix(strings.TrimPrefix(base, "Array("), ")")
		parts := make([]string, len(elems))
		for i, el := range elems {
			s, err := normJSON(el, inner)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ",") + "]", nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
	} else {
		s = string(raw)
	}
	if strings.HasPrefix(base, "Float") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "", err
		}
		bits := 64
		if base == "Float32" {
			bits = 32
		}
		return strconv.FormatFloat(f, 'g', -1, bits), nil
	}
	return s, nil
}

// unwrapType strips Nullable(...) and LowCardinality(...).
func unwrapType(t string) string {
	for _, w := range []string{"Nullable(", "LowCardinality("} {
		for strings.HasPrefix(t, w) && strings.HasSuffix(t, ")") {
			t = t[len(w) : len(t)-1]
		}
	}
	return t
}

// bindLiterals replaces each ? outside string literals and comments with
// args[i] as a SQL literal, as clickhouse-go's client-side binding does for
// 18.16.
func bindLiterals(sql string, args []any) (string, error) {
	if len(args) > 0 {
		if _, ok := args[0].(driver.NamedValue); ok {
			return bindNamedLiterals(sql, args)
		}
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(sql) && sql[j] != c {
				if sql[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(sql) {
				return "", fmt.Errorf("unterminated %c literal in %q", c, sql)
			}
			b.WriteString(sql[i : j+1])
			i = j
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			b.WriteString(sql[i : i+j])
			i += j - 1
		case c == '?':
			if n >= len(args) {
				return "", fmt.Errorf("query has more ? than the %d args: %q", len(args), sql)
			}
			lit, err := sqlLiteral(args[n])
			if err != nil {
				return "", err
			}
			b.WriteString(lit)
			n++
		default:
			b.WriteByte(c)
		}
	}
	if n != len(args) {
		return "", fmt.Errorf("query has %d ? for %d args: %q", n, len(args), sql)
	}
	return b.String(), nil
}

// bindNamedLiterals replaces each @name outside string literals and
// comments with the clickhouse.Named argument of that name, as
// clickhouse-go's named binding does.
func bindNamedLiterals(sql string, args []any) (string, error) {
	vals := map[string]string{}
	for _, a := range args {
		nv, ok := a.(driver.NamedValue)
		if !ok {
			return "", fmt.Errorf("mixed named and positional args: %v", args)
		}
		lit, err := sqlLiteral(nv.Value)
		if err != nil {
			return "", err
		}
		vals[nv.Name] = lit
	}
	used := map[string]bool{}
	var b strings.Builder
	isName := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(sql) && sql[j] != c {
				if sql[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(sql) {
				return "", fmt.Errorf("unterminated %c literal in %q", c, sql)
			}
			b.WriteString(sql[i : j+1])
			i = j
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			b.WriteString(sql[i : i+j])
			i += j - 1
		case c == '@' && i+1 < len(sql) && isName(sql[i+1]):
			j := i + 1
			for j < len(sql) && isName(sql[j]) {
				j++
			}
			lit, ok := vals[sql[i+1:j]]
			if !ok {
				return "", fmt.Errorf("query uses @%s, which no arg names", sql[i+1:j])
			}
			used[sql[i+1:j]] = true
			b.WriteString(lit)
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	for name := range vals {
		if !used[name] {
			return "", fmt.Errorf("arg %s is not used by the query", name)
		}
	}
	return b.String(), nil
}

var sqlQuote = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

func sqlLiteral(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return "'" + sqlQuote.Replace(x) + "'", nil
	case time.Time:
		return "toDateTime('" + x.UTC().Format(time.DateTime) + "', 'UTC')", nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	}
	return "", fmt.Errorf("no SQL literal for %T", v)
}

// ---------------------------------------------------------------------------
// Engine set-up

var chdbShared struct {
	once sync.Once
	db   *chdb.DB
	dir  string
	err  error
	seq  atomic.Int64
}

var chdbVersion = "current"

func TestMain(m *testing.M) {
	code := m.Run()
	if chdbShared.db != nil {
		_ = chdbShared.db.Close()
	}
	if chdbShared.dir != "" {
		_ = os.RemoveAll(chdbShared.dir)
	}
	os.Exit(code)
}

// openCHDB returns an engine on a fresh database of the process's one
// libchdb connection (opened on first use, closed by TestMain), or nil
// when the developer opted out with PHONESIGNALS_SKIP_CHDB=1. A missing
// library otherwise fails the test.
func openCHDB(t *testing.T) engine {
	t.Helper()
	if os.Getenv(envSkipCHDB) == "1" {
		t.Logf("%s=1: not running on current ClickHouse (libchdb)", envSkipCHDB)
		return nil
	}
	chdbShared.once.Do(func() {
		lib, err := chdb.LibPath()
		if err != nil {
			chdbShared.err = err
			return
		}
		dir, err := os.MkdirTemp("", "phonesignals-queries-chdb-")
		if err != nil {
			chdbShared.err = err
			return
		}
		chdbShared.dir = dir
		chdbShared.db, chdbShared.err = chdb.Open(lib, dir)
		if chdbShared.err == nil {
			if out, err := chdbShared.db.Query("SELECT version()", "TSV"); err == nil {
				chdbVersion = strings.TrimSpace(string(out))
			}
		}
	})
	if chdbShared.err != nil {
		t.Fatalf("this test needs libchdb (set %s=1 to skip it): %v", envSkipCHDB, chdbShared.err)
	}
	name := fmt.Sprintf("ps_portability_%d", chdbShared.seq.Add(1))
	if err := chdbShared.db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("chdb: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := chdbShared.db.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("chdb: dropping database %s: %v", name, err)
		}
	})
	return &chdbEngine{db: chdbShared.db, database: name}
}

// open18 returns an engine on a test database of the shared 18.16 server,
// or nil when the developer opted out with PHONESIGNALS_SKIP_CLICKHOUSE=1.
func open18(t *testing.T) engine {
	t.Helper()
	if os.Getenv(chserver.EnvSkip) == "1" {
		t.Logf("%s=1: not running on ClickHouse 18.16", chserver.EnvSkip)
		return nil
	}
	srv := chservertest.Shared(t)
	db := chservertest.Database(t, srv)
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{srv.Addr()},
		Auth:        clickhouse.Auth{Database: db, Username: "default"},
		DialTimeout: 10 * time.Second,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
	})
	if err != nil {
		t.Fatalf("connecting to clickhouse-server 18.16 at %s: %v", srv.Addr(), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("pinging clickhouse-server 18.16 at %s: %v", srv.Addr(), err)
	}
	return &ch18{conn: conn, db: db}
}

// ---------------------------------------------------------------------------
// Schema

// migratedTables are the tables the schema creates, for stopping merges,
// OPTIMIZE and the table comparisons. TestPortability checks the list
// against system.tables, so a new table cannot be missed.
var migratedTables = []string{
	"raw_signals", "orgs", "employees", "cycles", "sync_windows", "sync_runs",
	"dead_letters", "webhook_deliveries", "call_transcripts", "transcript_events",
	"schema_migrations", "key_checks", "dead_letter_replays", "sync_window_calls", "user_day_metrics", "user_day_dirty", "org_hours",
	"erasures", "erasure_items",
}

// fixedAppliedAt stands in for time.Now in schema_migrations, so the two
// engines hold the same rows.
var fixedAppliedAt = time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)

// applySchema runs schema_migrations.sql and every migration statement,
// recording each migration like the runner does, then stops merges so
// row counts of ReplacingMergeTree tables stay what was inserted until the
// test asks for OPTIMIZE FINAL.
func applySchema(ctx context.Context, t *testing.T, e engine) {
	t.Helper()
	if err := e.exec(ctx, queries.SchemaMigrations); err != nil {
		t.Fatalf("%s: schema_migrations.sql: %v", e.name(), err)
	}
	migs, err := queries.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) == 0 {
		t.Fatal("queries.Migrations() returned no migrations")
	}
	var ledger [][]any
	for _, m := range migs {
		for i, stmt := range m.Statements {
			if err := applyStatement(ctx, t, e, stmt); err != nil {
				t.Fatalf("%s: migration %03d_%s statement %d failed: %v\n%s", e.name(), m.Version, m.Name, i+1, err, stmt)
			}
		}
		// Every statement is IF NOT EXISTS, or an ADD COLUMN the runner
		// skips once its column exists: running a migration twice is a
		// no-op.
		for i, stmt := range m.Statements {
			if err := applyStatement(ctx, t, e, stmt); err != nil {
				t.Fatalf("%s: migration %03d_%s statement %d is not idempotent: %v", e.name(), m.Version, m.Name, i+1, err)
			}
		}
		ledger = append(ledger, []any{uint32(m.Version), m.Name, fixedAppliedAt})
	}
	if err := e.insert(ctx, "schema_migrations", []string{"version", "name", "applied_at"}, ledger); err != nil {
		t.Fatalf("%s: recording migrations: %v", e.name(), err)
	}
	for _, tbl := range migratedTables {
		if err := e.exec(ctx, "SYSTEM STOP MERGES "+tbl); err != nil {
			t.Fatalf("%s: SYSTEM STOP MERGES %s: %v", e.name(), tbl, err)
		}
	}
}

// applyStatement runs a migration statement as the runner does
// (internal/store, Migrate): an `ALTER TABLE t ADD COLUMN c` whose column
// exists is skipped (queries.AddColumn, column_exists.sql), as 18.16 has
// no ADD COLUMN IF NOT EXISTS.
func applyStatement(ctx context.Context, t *testing.T, e engine, stmt string) error {
	t.Helper()
	if table, column, ok := queries.AddColumn(stmt); ok {
		r := run(ctx, t, e, queries.ColumnExists, clickhouse.Named("table", table), clickhouse.Named("column", column))
		if r.rows[0][0] != "0" {
			return nil
		}
	}
	return e.exec(ctx, stmt)
}

// optimizeAll merges every table's parts (FINAL), after which
// ReplacingMergeTree tables hold one row per key and partition.
func optimizeAll(ctx context.Context, t *testing.T, e engine) {
	t.Helper()
	for _, tbl := range migratedTables {
		if err := e.exec(ctx, "SYSTEM START MERGES "+tbl); err != nil {
			t.Fatalf("%s: SYSTEM START MERGES %s: %v", e.name(), tbl, err)
		}
		if err := e.exec(ctx, "OPTIMIZE TABLE "+tbl+" FINAL"); err != nil {
			t.Fatalf("%s: OPTIMIZE TABLE %s FINAL: %v", e.name(), tbl, err)
		}
	}
}

// ---------------------------------------------------------------------------
// Fixture

var (
	cycleAug = time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	cycleSep = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	cycleOct = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	cycleNov = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

// dirtyOf is each fixture org's @dirty parameter (the days loadFixture
// left dirty), read from the engines after loading; "" for other orgs.
var dirtyOf = map[string]string{}

// midDayCycles are added to every fixture org besides its calendar months.
var midDayCycles = []fixture.Cycle{
	{ID: "2026-09-mid", Start: time.Date(2026, 9, 3, 13, 30, 0, 0, time.UTC), End: time.Date(2026, 9, 17, 7, 0, 0, 0, time.UTC)},
	{ID: "2026-08-day", Start: time.Date(2026, 8, 5, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 8, 5, 17, 0, 0, 0, time.UTC)},
}

// fxOrg is one generated org and, in truth, the same org after the roster
// changes the test's employee re-import makes (Truth reads Employees).
type fxOrg struct {
	gen   *fixture.Org
	truth *fixture.Org
}

// table is the rows of one table, to be inserted identically into both
// engines. key names the columns that identify a row for
// ReplacingMergeTree: rows sharing a key are written in separate INSERT
// blocks, because current ClickHouse collapses such rows within one block
// at insert time (optimize_on_insert) and 18.16 does not.
type table struct {
	name string
	cols []string
	key  []string
	rows [][]any
}

// layers splits rows into blocks with no key twice in one block, keeping
// each key's rows in their order (older versions first).
func (tb table) layers() [][][]any {
	idx := make([]int, len(tb.key))
	for i, k := range tb.key {
		idx[i] = slices.Index(tb.cols, k)
	}
	seen := map[string]int{}
	var out [][][]any
	for _, r := range tb.rows {
		parts := make([]string, len(idx))
		for i, j := range idx {
			parts[i] = fmt.Sprint(r[j])
		}
		k := strings.Join(parts, "\x00")
		l := seen[k]
		seen[k] = l + 1
		if l == len(out) {
			out = append(out, nil)
		}
		out[l] = append(out[l], r)
	}
	return out
}

var signalCols = []string{
	"org", "source", "event_type", "provider", "call_id", "user_id", "started_at", "direction",
	"duration_sec", "status", "after_hours", "escalated", "escalation_available", "resolved",
	"deleted", "version", "rules_version", "ingest_source", "event", "observed_at", "loaded_at",
	"answered", "missed", "voicemail", "talk_sec", "answer_sec", "answer_available",
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func callID(provider string, c fixture.Call) string {
	if provider == fixture.RingCentral {
		return c.StrID()
	}
	return strconv.FormatInt(c.ID, 10)
}

func signalRow(o *fixture.Org, c fixture.Call, version uint64, source string) []any {
	escAvail := uint8(1)
	if o.Provider == fixture.RingCentral {
		escAvail = 0
	}
	event := ""
	if source == model.SourceWebhook {
		event = "call.ended"
	}
	observed := c.EndedAt.Add(time.Duration(version%97) * time.Second)
	// A rules version with quotes, a backslash, a tab and non-ASCII text
	// checks that both insert paths and both outputs keep strings byte for
	// byte, and that the payload alias escapes them.
	rules := fmt.Sprintf("rules-v3 O'Neil \"hi\"\t\\ café %d", version%3)
	// The talk-time columns as the transform computes them (README's
	// definitions, fixture.CallTalk): answer times where the provider has
	// them (Aircall, where escalation is available).
	f := fixture.CallTalk(o.Provider, c)
	return []any{
		o.Name, source, "call", o.Provider, callID(o.Provider, c), c.UserID, c.StartedAt.UTC(), c.Direction,
		uint32(c.Duration), c.Outcome, b2u(c.AfterHours), b2u(c.Escalated), escAvail, b2u(c.Resolved),
		b2u(c.Deleted), version, rules, "kafka", event, observed, observed.Add(90 * time.Second),
		b2u(f.Answered), b2u(f.Missed), b2u(f.Voicemail), uint32(f.TalkSec), uint32(f.AnswerSec), escAvail,
	}
}

// signals derives raw_signals rows from the fixture's calls and truth
// flags: one final version per call, an older version with wrong values
// (user, duration, direction, flags, deleted, start time) for some calls,
// and exact duplicates of the final version for others. The versions are
// above 2^53, so a float on any path would lose them.
func signals(o *fixture.Org, seed uint64) [][]any {
	rng := rand.New(rand.NewPCG(seed, 99))
	base := uint64(1_780_000_000_000_000_000) + seed*1_000_000_000
	var rows [][]any
	for i, c := range o.Calls {
		final := base + uint64(i)*1000 + 500
		r := rng.Float64()
		if r < 0.15 {
			old := c
			old.UserID = o.Users[rng.IntN(len(o.Users))].ID
			if rng.IntN(4) == 0 {
				old.UserID = ""
			}
			old.Duration += 777
			if old.Direction == "inbound" {
				old.Direction = "outbound"
			} else {
				old.Direction = "inbound"
			}
			old.AfterHours, old.Escalated, old.Resolved = !c.AfterHours, !c.Escalated, !c.Resolved
			old.Deleted = !c.Deleted || rng.IntN(2) == 0
			if rng.IntN(3) == 0 {
				// Moves the old version across a cycle edge now and then,
				// into another partition too.
				old.StartedAt = c.StartedAt.Add(-36 * time.Hour)
			}
			old.Outcome = "missed"
			rows = append(rows, signalRow(o, old, final-uint64(1+rng.IntN(400)), model.SourcePoll))
		}
		rows = append(rows, signalRow(o, c, final, model.SourceWebhook))
		if r > 0.9 {
			// The same version twice (a poll and a webhook agreeing).
			rows = append(rows, signalRow(o, c, final, model.SourceWebhook))
		}
	}
	return rows
}

// reimport is the roster change the test's second employee import makes,
// applied to the inserted rows and to the truth org alike.
type reimport struct {
	cohortChanged string // gets another cohort
	remapped      string // mapped to the first unmapped provider user
	renamed       string // new name and email
	deleted       string // deleted=1 in the re-import: must disappear
}

var roster = reimport{cohortChanged: "E001", remapped: "E002", renamed: "E003", deleted: "E005"}

func employeeRows(o *fixture.Org, cohorts []string, truth *fixture.Org) [][]any {
	cols := func(e fixture.Employee, deleted uint8, version uint64) []any {
		return []any{o.Name, e.ID, e.Name, e.Email, e.Cohort, e.ProviderUserID, deleted, version}
	}
	var rows [][]any
	var kept []fixture.Employee
	unmapped := o.Users[len(o.Employees)].ID
	for _, e := range o.Employees {
		rows = append(rows, cols(e, 0, 1))
		switch e.ID {
		case roster.cohortChanged:
			e.Cohort = cohorts[(slices.Index(cohorts, e.Cohort)+1)%len(cohorts)]
		case roster.remapped:
			e.ProviderUserID = unmapped
		case roster.renamed:
			e.Name += "-Smith"
			e.Email = "renamed." + e.Email
		case roster.deleted:
			rows = append(rows, cols(e, 1, 2))
			continue
		case "E004":
			// An exact duplicate of the first import.
			rows = append(rows, cols(e, 0, 1))
		}
		rows = append(rows, cols(e, 0, 2))
		kept = append(kept, e)
	}
	truth.Employees = kept
	return rows
}

// buildFixture generates an Aircall org and a RingCentral org (which has
// deleted calls) and every table's rows.
func buildFixture(t *testing.T) ([]fxOrg, []table) {
	t.Helper()
	cohorts := []string{"support", "sdr", "inside_sales"}
	specs := []fixture.Spec{
		{Seed: 7, Org: "acme", Provider: fixture.Aircall, Start: cycleAug, Days: 62, Cohorts: cohorts, Employees: 10, UnmappedUsers: 2, CallsPerDay: 12},
		{Seed: 11, Org: "globex", Provider: fixture.RingCentral, Start: cycleAug, Days: 62, Cohorts: cohorts, Employees: 10, UnmappedUsers: 2, CallsPerDay: 12},
	}
	tables := map[string]*table{
		"raw_signals": {name: "raw_signals", cols: signalCols, key: []string{"org", "provider", "call_id"}},
		"orgs": {name: "orgs", key: []string{"org"},
			cols: []string{"org", "provider", "api_url", "credentials", "account_id", "webhook_token", "transcripts", "settings", "version"}},
		"employees": {name: "employees", key: []string{"org", "employee_id"},
			cols: []string{"org", "employee_id", "name", "email", "cohort", "provider_user_id", "deleted", "version"}},
		"cycles": {name: "cycles", key: []string{"org", "cycle_id"},
			cols: []string{"org", "cycle_id", "period_start", "period_end", "version"}},
		"sync_windows": {name: "sync_windows", key: []string{"org", "job", "window_from", "window_to"},
			cols: []string{"org", "job", "window_from", "window_to", "calls", "done_at"}},
		"sync_runs": {name: "sync_runs",
			cols: []string{"org", "run_id", "provider", "started_at", "finished_at", "window_from", "window_to", "status", "error", "calls", "requests"}},
		"dead_letters": {name: "dead_letters",
			cols: []string{"org", "provider", "call_id", "topic", "partition", "offset", "reason", "at"}},
		"webhook_deliveries": {name: "webhook_deliveries",
			cols: []string{"org", "event", "status", "reason", "at"}},
		"call_transcripts": {name: "call_transcripts", key: []string{"org", "call_id", "idx"},
			cols: []string{"org", "call_id", "idx", "start_time", "end_time", "speaker", "text", "language", "fetched_at"}},
		"transcript_events": {name: "transcript_events",
			cols: []string{"org", "call_id", "status", "reason", "at"}},
		"org_hours": {name: "org_hours", key: []string{"org", "effective_from"},
			cols: []string{"org", "effective_from", "timezone", "hours", "days", "deleted", "set_at", "version"}},
	}
	add := func(name string, rows ...[]any) { tables[name].rows = append(tables[name].rows, rows...) }

	var orgs []fxOrg
	for i, spec := range specs {
		gen := fixture.Generate(spec)
		truth := *gen
		truth.Employees = nil
		o := fxOrg{gen: gen, truth: &truth}
		orgs = append(orgs, o)
		if len(gen.Employees) != 10 || len(gen.Users) != 12 {
			t.Fatalf("fixture %s: %d employees and %d users, want 10 and 12", gen.Name, len(gen.Employees), len(gen.Users))
		}
		if len(gen.Cycles) != 3 {
			t.Fatalf("fixture %s: %d cycles, want Aug, Sep and Oct 2026", gen.Name, len(gen.Cycles))
		}
		deleted := 0
		for _, c := range gen.Calls {
			if c.Deleted {
				deleted++
			}
		}
		if gen.Provider == fixture.RingCentral && deleted == 0 {
			t.Fatalf("fixture %s has no deleted calls; pick another seed", gen.Name)
		}

		add("raw_signals", signals(gen, uint64(spec.Seed))...)
		add("employees", employeeRows(gen, cohorts, &truth)...)

		// Orgs: acme re-registered with a new API URL (version 2 wins).
		cred := "sealed:v1:" + strings.Repeat("Zm9v", 8) + "=="
		if gen.Name == "acme" {
			add("orgs", []any{gen.Name, gen.Provider, "https://old.aircall.example/v1", cred, "", "tok-old", uint8(0), `{"tz":"UTC"}`, uint64(1)})
			add("orgs", []any{gen.Name, gen.Provider, "https://api.aircall.io/v1", cred + "x", "", "tok-'new'", uint8(1), `{"tz":"Europe/Paris","note":"a\\b"}`, uint64(2)})
		} else {
			add("orgs", []any{gen.Name, gen.Provider, "https://platform.ringcentral.com", cred, "~", "", uint8(0), "{}", uint64(5)})
		}
		// Working hours: acme in Los Angeles from 2026-08-10 (first saved
		// with other hours, replaced by a higher version), back to the
		// seed's rule from October.
		if gen.Name == "acme" {
			la := time.Date(2026, 8, 10, 7, 0, 0, 0, time.UTC)
			add("org_hours",
				[]any{gen.Name, la, "America/Los_Angeles", "09:00-17:00", "Mon-Fri", uint8(0), la, uint64(1)},
				[]any{gen.Name, la, "America/Los_Angeles", "08:00-12:00,13:00-18:00", "Mon-Fri", uint8(0), la, uint64(2)},
				[]any{gen.Name, cycleOct, "UTC", "08:00-18:00", "every", uint8(1), cycleOct, uint64(3)})
		}

		// Cycles: one per calendar month; 2026-09 first saved with a wrong
		// period that the correction (higher version) replaces.
		for _, c := range gen.Cycles {
			if c.ID == "2026-09" {
				add("cycles", []any{gen.Name, c.ID, c.Start.AddDate(0, 0, 14), c.End.AddDate(0, 0, 14), uint64(1)})
			}
			add("cycles", []any{gen.Name, c.ID, c.Start, c.End, uint64(2)})
		}

		// Cycles that start or end mid-day, added after the calls: their
		// boundary days come from raw_signals, the whole days from
		// user_day_metrics. One lies within a single day.
		for _, c := range midDayCycles {
			add("cycles", []any{gen.Name, c.ID, c.Start, c.End, uint64(1)})
			gen.Cycles = append(gen.Cycles, c)
		}
		truth.Cycles = gen.Cycles

		// Sync windows: weekly backfill windows, one finished twice.
		done := time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC)
		for w, from := 0, gen.Start; from.Before(gen.End); w, from = w+1, from.AddDate(0, 0, 7) {
			to := from.AddDate(0, 0, 7)
			n := uint32(len(gen.CallsIn(from, to)))
			add("sync_windows", []any{gen.Name, "backfill", from, to, n, done.Add(time.Duration(w) * time.Minute)})
			if w == 2 {
				add("sync_windows", []any{gen.Name, "backfill", from, to, n, done.Add(time.Hour)})
			}
		}
		add("sync_windows", []any{gen.Name, "poll", gen.End.Add(-time.Hour), gen.End, uint32(3), done})

		// Sync runs: the latest two start at the same second; finished_at
		// breaks the tie.
		runStart := time.Date(2026, 10, 3, 8, 0, 0, 0, time.UTC)
		for r := 0; r < 4; r++ {
			st := runStart.Add(time.Duration(min(r, 2)) * time.Hour)
			status, errText := "ok", ""
			if r == 3 && gen.Name == "acme" {
				status, errText = "failed", `aircall: 429 "too many requests" (it's fine)`
			}
			add("sync_runs", []any{gen.Name, runID(gen.Name, r), gen.Provider, st, st.Add(time.Duration(5+r) * time.Minute),
				gen.Start, gen.End, status, errText, uint32(100 * r), uint32(7 * r)})
		}

		// Dead letters: distinct counts per reason, and for acme more
		// reasons than the query's LIMIT 10.
		reasons := 3
		if gen.Name == "acme" {
			reasons = 12
		}
		at := time.Date(2026, 9, 10, 0, 0, 0, 0, time.UTC)
		for rsn := 1; rsn <= reasons; rsn++ {
			for k := 0; k < rsn; k++ {
				add("dead_letters", []any{gen.Name, gen.Provider, fmt.Sprintf("bad-%d-%d", rsn, k), "calls.dlq", uint32(k % 3), uint64(1000*rsn + k),
					fmt.Sprintf("decode: field %q missing (case %02d)", "started_at", rsn), at.Add(time.Duration(rsn*60+k) * time.Second)})
			}
		}

		// Webhook deliveries: one reason per status, so any(reason) has a
		// single answer.
		for k, d := range []struct {
			status uint16
			reason string
			n      int
		}{{200, "", 5}, {401, "bad token", 3 + i}, {503, "kafka: not leader", 2}} {
			for j := 0; j < d.n; j++ {
				add("webhook_deliveries", []any{gen.Name, "call.ended", d.status, d.reason, at.Add(time.Duration(k*1000+j*7) * time.Second)})
			}
		}

		// Transcripts of the first answered calls, one re-fetched.
		seen := 0
		for _, c := range gen.Calls {
			if c.Outcome != "answered" || seen == 3 {
				continue
			}
			seen++
			id := callID(gen.Provider, c)
			for idx := uint32(0); idx < 3; idx++ {
				add("call_transcripts", []any{gen.Name, id, idx, float64(idx) * 2.35, float64(idx)*2.35 + 0.1, "agent", "Grüß Gott, it's \"me\"", "de", c.EndedAt.Add(time.Hour)})
			}
			add("call_transcripts", []any{gen.Name, id, uint32(1), 2.5, 4.75, "customer", "changed", "en", c.EndedAt.Add(2 * time.Hour)})
			add("transcript_events", []any{gen.Name, id, "fetched", "", c.EndedAt.Add(time.Hour)})
		}
		add("transcript_events", []any{gen.Name, "missing-1", "failed", "404 not found", at})
	}

	var out []table
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		out = append(out, *tables[name])
	}
	return orgs, out
}

// loadFixture inserts every table's blocks and, after each raw_signals
// block, does what the loader does (queries/aggregate): marks the days of
// the block's calls dirty, and, as the background refresher would, brings
// user_day_metrics up to date after each, so later blocks move calls
// between days and users and delete them after their first version was
// counted; the days of a batch marked again at the end stay dirty (read
// from raw_signals).
func loadFixture(ctx context.Context, t *testing.T, e engine, tables []table) {
	t.Helper()
	for _, tb := range tables {
		for i, block := range tb.layers() {
			if err := e.insert(ctx, tb.name, tb.cols, block); err != nil {
				t.Fatalf("%s: inserting block %d of %s: %v", e.name(), i+1, tb.name, err)
			}
			if tb.name != "raw_signals" {
				continue
			}
			markDays(ctx, t, e, block)
			refreshDirty(ctx, t, e)
		}
		if tb.name == "raw_signals" {
			// A batch delivered again and not refreshed yet: its days stay
			// dirty and the reads take them from raw_signals.
			markDays(ctx, t, e, append(slices.Clone(tb.rows[:30]), tb.rows[len(tb.rows)-30:]...))
		}
	}
}

// nextVersion is the version the loader gives a mark or refresh of keys
// (aggregate/next_version.sql): the store orders them, so both engines,
// holding the same marks, give the same values.
func nextVersion(ctx context.Context, t *testing.T, e engine, keys []model.DayKey) uint64 {
	t.Helper()
	sql, _, _ := queries.RenderDayKeys(queries.NextVersion, keys)
	r := run(ctx, t, e, sql)
	v, err := strconv.ParseUint(r.rows[0][0], 10, 64)
	if err != nil || len(r.rows) != 1 {
		t.Fatalf("%s: next_version.sql gave %q: %v", e.name(), r.rows, err)
	}
	return v + 1
}

// markDays marks dirty the days of every version of the rows' calls.
// Values come from next_version.sql, the same on both engines, so their
// tables hold the same rows.
func markDays(ctx context.Context, t *testing.T, e engine, rows [][]any) {
	t.Helper()
	org, prov, id := slices.Index(signalCols, "org"), slices.Index(signalCols, "provider"), slices.Index(signalCols, "call_id")
	var calls []model.CallKey
	for _, r := range rows {
		calls = append(calls, model.CallKey{Org: r[org].(string), Provider: r[prov].(string), CallID: r[id].(string)})
	}
	var days []model.DayKey
	for len(calls) > 0 {
		// 18.16's default max_query_size holds about 3,000 call tuples; the
		// loader raises it instead.
		n := min(len(calls), 2000)
		days = append(days, dayKeys(ctx, t, e, queries.RenderCallKeys(queries.TouchedDays, calls[:n]))...)
		calls = calls[n:]
	}
	// One mark per day: current ClickHouse folds same-key rows of one
	// block at insert time, 18.16 does not.
	days = model.SortDayKeys(days)
	value := nextVersion(ctx, t, e, days)
	var marks [][]any
	for _, k := range days {
		marks = append(marks, []any{k.Org, k.Day, "loaded", value})
	}
	if err := e.insert(ctx, "user_day_dirty", []string{"org", "day", "kind", "value"}, marks); err != nil {
		t.Fatalf("%s: marking days: %v", e.name(), err)
	}
}

// refreshDirty reserves a version for the dirty days, recomputes them
// under it and marks them refreshed, as aggregate.Maintainer.Refresh does: one
// statement per org, in
// both forms (refresh_days.sql and refresh_org.sql, which must write the
// same rows) by turns, so every later block and read checks both. It also
// checks org_days.sql, the refresher's look-up of the days each org holds,
// against the same list made in Go.
func refreshDirty(ctx context.Context, t *testing.T, e engine) {
	t.Helper()
	keys := dayKeys(ctx, t, e, queries.DirtyDays)
	if len(keys) == 0 {
		t.Fatalf("%s: no dirty days after a raw_signals block", e.name())
	}
	checkOrgDays(ctx, t, e, keys)
	version := nextVersion(ctx, t, e, keys)
	var reserve [][]any
	for _, k := range keys {
		reserve = append(reserve, []any{k.Org, k.Day, "refreshing", version})
	}
	if err := e.insert(ctx, "user_day_dirty", []string{"org", "day", "kind", "value"}, reserve); err != nil {
		t.Fatalf("%s: reserving a refresh version: %v", e.name(), err)
	}
	for i, org := 0, 0; i < len(keys); org++ {
		j := i
		var days []time.Time
		for ; j < len(keys) && keys[j].Org == keys[i].Org; j++ {
			days = append(days, keys[j].Day)
		}
		stmt, file := queries.RefreshDays, "refresh_days.sql"
		if (int(version/2)+org)%2 == 0 {
			stmt, file = queries.RefreshOrg, "refresh_org.sql"
		}
		sql, from, to := queries.RenderDays(stmt, days)
		bound, err := bindLiterals(sql, []any{clickhouse.Named("org", keys[i].Org), clickhouse.Named("version", version),
			clickhouse.Named("from", from), clickhouse.Named("to", to)})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.exec(ctx, bound); err != nil {
			t.Fatalf("%s: %s: %v\n%s", e.name(), file, err, bound)
		}
		i = j
	}
	var marks [][]any
	for _, k := range keys {
		marks = append(marks, []any{k.Org, k.Day, "refreshed", version})
	}
	if err := e.insert(ctx, "user_day_dirty", []string{"org", "day", "kind", "value"}, marks); err != nil {
		t.Fatalf("%s: marking days refreshed: %v", e.name(), err)
	}
}

// checkAggregateTools runs the statements of `aggregates verify` and
// `aggregates rebuild` on every engine: after loadFixture's refreshes the
// aggregates of every org hold its raw_signals exactly, so verify_days.sql
// finds no key, and org_days_in.sql lists the same days everywhere, every
// one with a version.
func checkAggregateTools(ctx context.Context, t *testing.T, engines []engine, orgs []fxOrg) {
	t.Helper()
	from, to := time.Unix(0, 0).UTC(), time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, o := range orgs {
		var lists []string
		for _, e := range engines {
			args := []any{clickhouse.Named("org", o.gen.Name), clickhouse.Named("from", from), clickhouse.Named("to", to)}
			if got := run(ctx, t, e, queries.VerifyDays, args...); len(got.rows) != 0 {
				t.Errorf("%s: verify_days.sql finds %d differing keys of %s, want none: %q", e.name(), len(got.rows), o.gen.Name, got.rows[:min(3, len(got.rows))])
			}
			days := run(ctx, t, e, queries.OrgDaysIn, args...)
			if len(days.rows) == 0 || slices.ContainsFunc(days.rows, func(r []string) bool { return r[2] == "0" }) {
				t.Errorf("%s: org_days_in.sql of %s gave %d days, some without a version", e.name(), o.gen.Name, len(days.rows))
			}
			last := run(ctx, t, e, queries.OrgLastDay, clickhouse.Named("org", o.gen.Name))
			if len(last.rows) != 1 || strings.HasPrefix(last.rows[0][0], "1970") || strings.HasPrefix(last.rows[0][0], "0000") {
				t.Errorf("%s: org_last_day.sql of %s gave %q, want its newest aggregated day", e.name(), o.gen.Name, last.rows)
			}
			lists = append(lists, fmt.Sprint(days.rows, last.rows))
		}
		if lists[len(lists)-1] != lists[0] {
			t.Errorf("org_days_in.sql of %s differs between engines", o.gen.Name)
		}
	}
}

// checkRerate runs rerate_after_hours.sql (Los Angeles hours over the
// org's calls of September) on every engine and waits for the mutation
// (mutations_pending.sql): the after-hours flags of those rows then match
// model.WorkingHours in Go, row for row. Mutations run in the merge
// threads, which the fixture stopped: the check starts them and runs last.
func checkRerate(ctx context.Context, t *testing.T, engines []engine, o fxOrg) {
	t.Helper()
	w, err := model.ParseWorkingHours("America/Los_Angeles", "08:00-12:00,13:00-18:00", "Mon-Fri")
	if err != nil {
		t.Fatal(err)
	}
	var starts, ends []int64
	for _, iv := range w.BusinessIntervals(cycleSep, cycleOct) {
		starts, ends = append(starts, iv.Start), append(ends, iv.End)
	}
	sql, err := bindLiterals(queries.RenderIntervals(queries.RerateAfterHours, starts, ends),
		[]any{clickhouse.Named("org", o.gen.Name), clickhouse.Named("from", cycleSep), clickhouse.Named("to", cycleOct)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range engines {
		if err := e.exec(ctx, "SYSTEM START MERGES raw_signals"); err != nil {
			t.Fatal(err)
		}
		if err := e.exec(ctx, sql); err != nil {
			t.Fatalf("%s: rerate_after_hours.sql: %v\n%s", e.name(), err, sql)
		}
		for deadline := time.Now().Add(time.Minute); run(ctx, t, e, queries.MutationsPending).rows[0][0] != "0"; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the re-rating mutation did not finish in a minute", e.name())
			}
		}
		rows := run(ctx, t, e, "SELECT toUInt32(started_at), after_hours FROM raw_signals WHERE org = '"+o.gen.Name+"' AND started_at >= toDateTime('2026-09-01 00:00:00', 'UTC') AND started_at < toDateTime('2026-10-01 00:00:00', 'UTC')").rows
		if len(rows) < 100 {
			t.Fatalf("%s: only %d September rows to re-rate", e.name(), len(rows))
		}
		for _, r := range rows {
			sec, _ := strconv.ParseInt(r[0], 10, 64)
			if want := w.AfterHours(time.Unix(sec, 0)); (r[1] == "1") != want {
				t.Fatalf("%s: a call at %s has after_hours %s, want %v", e.name(), time.Unix(sec, 0).UTC(), r[1], want)
			}
		}
	}
}

// checkOrgDays compares org_days.sql for the dirty keys' orgs with the
// days of user_day_metrics of those orgs, listed in Go.
func checkOrgDays(ctx context.Context, t *testing.T, e engine, dirty []model.DayKey) {
	t.Helper()
	var want []model.DayKey
	for _, k := range dayKeys(ctx, t, e, "SELECT org, day FROM user_day_metrics") {
		if slices.ContainsFunc(dirty, func(d model.DayKey) bool { return d.Org == k.Org }) {
			want = append(want, k)
		}
	}
	sql, _, _ := queries.RenderDayKeys(queries.OrgDays, dirty)
	if got := dayKeys(ctx, t, e, sql); !slices.Equal(got, model.SortDayKeys(want)) {
		t.Fatalf("%s: org_days.sql = %v, want %v", e.name(), got, want)
	}
}

// dayKeys runs a query answering (org, day) rows.
func dayKeys(ctx context.Context, t *testing.T, e engine, sql string) []model.DayKey {
	t.Helper()
	var keys []model.DayKey
	for _, r := range run(ctx, t, e, sql).rows {
		day, err := time.Parse(time.DateOnly, r[1][:10])
		if err != nil {
			t.Fatalf("%s: day %q: %v", e.name(), r[1], err)
		}
		keys = append(keys, model.DayKey{Org: r[0], Day: day})
	}
	return model.SortDayKeys(keys)
}

// ---------------------------------------------------------------------------
// Query cases

type queryCase struct {
	name string
	file string
	sql  string
	// orderBy makes the order total for a query with no ORDER BY of its
	// own; a query with one is run as is.
	orderBy string
	args    []any
}

// wrapped is the statement the comparison runs.
func (q queryCase) wrapped() string {
	if q.orderBy == "" {
		return q.sql
	}
	return "SELECT * FROM (\n" + q.sql + "\n) ORDER BY " + q.orderBy
}

// runID names the fixture's sync runs: the last two are serve status runs
// of two replicas (serve_status.sql reads the newest).
func runID(org string, r int) string {
	if r >= 2 {
		return fmt.Sprintf("serve/replica-%d/%s", r, org)
	}
	return fmt.Sprintf("run-%s-%d", org, r)
}

// orderFor gives the wrapper's ORDER BY of each query with none.
var orderFor = map[string]string{
	"review.sql":                "name",
	"baseline.sql":              "cohort_size",
	"cycle_get.sql":             "period_start",
	"org_calls.sql":             "calls",
	"org_get.sql":               "org",
	"sync_window_done.sql":      "`count()`",
	"sync_windows_stats.sql":    "windows",
	"sync_last_success.sql":     "runs",
	"key_check_get.sql":         "created_at",
	"dead_letter_replays.sql":   "org, origin, reason",
	"sync_windows_unloaded.sql": "window_from, job",
	"column_exists.sql":         "`count()`",
	"coverage_counts.sql":       "dead_letter_calls",
	"forget_plan.sql":           "calls",
	"retention_plan.sql":        "calls",
}

func hasOrderBy(sql string) bool {
	return strings.Contains(strings.ToUpper(strings.Join(strings.Fields(sql), " ")), "ORDER BY")
}

func queryCases(orgs []fxOrg) []queryCase {
	var cases []queryCase
	add := func(file string, label string, args ...any) {
		cases = append(cases, queryCase{name: strings.TrimSuffix(file, ".sql") + "/" + label, file: file, sql: readQueries[file], orderBy: orderFor[file], args: args})
	}
	add("org_list.sql", "all")
	add("migrations_applied.sql", "all")
	add("key_check_get.sql", "first")
	add("dead_letter_replays.sql", "all", "", "")
	add("mutations_running.sql", "all")
	// Neither test server defines a cluster of this name: the query must
	// parse and run on both, with the same (empty) answer.
	add("cluster_nodes.sql", "none", clickhouse.Named("cluster", "no_such_cluster"))
	add("string_columns.sql", "all")
	for _, tc := range [][2]string{{"raw_signals", "answered"}, {"user_day_metrics", "answer_sum"}, {"raw_signals", "no_such_column"}} {
		add("column_exists.sql", tc[0]+"."+tc[1], clickhouse.Named("table", tc[0]), clickhouse.Named("column", tc[1]))
	}
	// raw_signals.payload is an ALIAS (migration 007): the same JSON on
	// both engines, for every row.
	cases = append(cases, queryCase{name: "raw_signals.payload/all",
		sql: "SELECT org, provider, call_id, version, payload FROM raw_signals", orderBy: "org, provider, call_id, version"})
	add("serve_status.sql", "all")
	orgNames := []string{"nope"}
	for _, o := range orgs {
		orgNames = append(orgNames, o.gen.Name)
	}
	for _, org := range orgNames {
		add("org_get.sql", org, org)
		add("org_hours.sql", org, clickhouse.Named("org", org))
		add("employees_list.sql", org, org)
		add("cycles_list.sql", org, org)
		add("sync_last_run.sql", org, org)
		add("webhook_stats.sql", org, org)
		add("dead_letter_stats.sql", org, org)
		add("dead_letter_replays.sql", org, org, org)
		add("sync_windows_unloaded.sql", org, org, org, org)
		add("transcript_stats.sql", org, org)
		add("sync_runs_recent.sql", org+"/3", org, 3)
		add("sync_runs_recent.sql", org+"/all", org, 100)
		add("sync_windows_stats.sql", org, org)
		add("cohort_medians.sql", org, clickhouse.Named("org", org), clickhouse.Named("dirty", dirtyOf[org]))
		add("sync_last_success.sql", org, org)
		add("erasures_list.sql", org, clickhouse.Named("org", org))
		for _, emp := range []string{"E001", "E005", "E999"} {
			add("employee_versions.sql", org+"/"+emp, clickhouse.Named("org", org), clickhouse.Named("employee", emp))
		}
	}
	for _, o := range orgs {
		g := o.gen
		cycleIDs := []string{"2099-01"}
		for _, c := range g.Cycles {
			cycleIDs = append(cycleIDs, c.ID)
		}
		for _, cy := range cycleIDs {
			add("cycle_get.sql", g.Name+"/"+cy, g.Name, cy)
			org, cycle, dirty := clickhouse.Named("org", g.Name), clickhouse.Named("cycle", cy), clickhouse.Named("dirty", dirtyOf[g.Name])
			add("cycle_metrics.sql", g.Name+"/"+cy, org, cycle, dirty)
			add("cycle_baselines.sql", g.Name+"/"+cy, org, cycle, dirty)
			// baseline.sql and review.sql are cycle_baselines.sql and
			// cycle_metrics.sql for one cohort or employee: a few of them
			// (a cohort change, a remap, a removal, unknown ones).
			for _, cohort := range []string{"support", "nobody"} {
				add("baseline.sql", g.Name+"/"+cy+"/"+cohort, org, cycle, clickhouse.Named("cohort", cohort), dirty)
			}
			for _, e := range []string{"E001", "E002", "E005", "E999"} {
				add("review.sql", g.Name+"/"+cy+"/"+e, org, cycle, clickhouse.Named("employee", e), dirty)
			}
		}
		ranges := [][2]time.Time{{g.Start, g.End}, {cycleAug, cycleSep}, {cycleSep, cycleOct}, {cycleOct, cycleNov},
			{cycleAug.Add(8 * time.Hour), cycleAug.AddDate(0, 0, 7).Add(18 * time.Hour)}}
		for _, r := range ranges {
			label := g.Name + "/" + r[0].Format("0102T15") + "-" + r[1].Format("0102T15")
			args := []any{clickhouse.Named("org", g.Name), clickhouse.Named("from", r[0]), clickhouse.Named("to", r[1])}
			add("org_calls.sql", label, args...)
			add("unmapped_users.sql", label, args...)
			add("provider_user_calls.sql", label, append(args, clickhouse.Named("provider", g.Provider))...)
			add("provider_user_calls.sql", label+"/other-provider", append(args, clickhouse.Named("provider", "teams"))...)
			add("calls_weekly.sql", label+"/org", append(args, clickhouse.Named("employee", ""))...)
			add("calls_weekly.sql", label+"/"+g.Employees[0].ID, append(args, clickhouse.Named("employee", g.Employees[0].ID))...)
			add("escalated_by_employee.sql", label, args...)
			add("dead_letters_window.sql", label, g.Name, r[0], r[1])
			add("coverage_windows.sql", label, args...)
			add("coverage_runs.sql", label, args...)
			add("coverage_counts.sql", label, args...)
			add("retention_plan.sql", label, clickhouse.Named("org", g.Name), clickhouse.Named("cutoff", r[1]))
		}
		for _, e := range append(g.Employees, fixture.Employee{ID: "E999"}) {
			if e.ID > "E003" && e.ID != "E999" {
				continue // the trend is per employee: a few suffice
			}
			add("employee_trend.sql", g.Name+"/"+e.ID, clickhouse.Named("org", g.Name), clickhouse.Named("employee", e.ID), clickhouse.Named("dirty", dirtyOf[g.Name]))
		}
		for _, u := range []string{g.Employees[0].ProviderUserID, g.Users[len(g.Users)-1].ID, "nobody"} {
			add("forget_plan.sql", g.Name+"/"+u, clickhouse.Named("org", g.Name), clickhouse.Named("user", u))
			add("staged_erasures.sql", g.Name+"/"+u, clickhouse.Named("org", g.Name), clickhouse.Named("user", u))
		}
		add("sync_window_done.sql", g.Name+"/done-twice", g.Name, "backfill", g.Start.AddDate(0, 0, 14), g.Start.AddDate(0, 0, 21))
		add("sync_window_done.sql", g.Name+"/done", g.Name, "backfill", g.Start, g.Start.AddDate(0, 0, 7))
		add("sync_window_done.sql", g.Name+"/not-done", g.Name, "backfill", g.Start, g.Start.AddDate(0, 0, 8))
	}
	return cases
}

// ---------------------------------------------------------------------------
// Comparison

func run(ctx context.Context, t *testing.T, e engine, sql string, args ...any) result {
	t.Helper()
	res, err := e.query(ctx, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v\nquery:\n%s\nargs: %v", e.name(), err, sql, args)
	}
	return res
}

// compare fails t with the query name and the first differing row when
// the engines' answers differ.
func compare(t *testing.T, label string, ea engine, a result, eb engine, b result) {
	t.Helper()
	if !slices.Equal(a.cols, b.cols) {
		t.Errorf("%s: column names differ:\n  %s: %q\n  %s: %q", label, ea.name(), a.cols, eb.name(), b.cols)
	}
	if !slices.Equal(normTypes(a.types), normTypes(b.types)) {
		t.Errorf("%s: column types differ:\n  %s: %q\n  %s: %q", label, ea.name(), a.types, eb.name(), b.types)
	}
	for i := 0; i < max(len(a.rows), len(b.rows)); i++ {
		var ra, rb []string
		if i < len(a.rows) {
			ra = a.rows[i]
		}
		if i < len(b.rows) {
			rb = b.rows[i]
		}
		if !slices.Equal(ra, rb) {
			t.Errorf("%s: row %d of %d/%d differs (columns %q):\n  %s: %s\n  %s: %s",
				label, i+1, len(a.rows), len(b.rows), a.cols, ea.name(), showRow(ra), eb.name(), showRow(rb))
			return
		}
	}
}

func showRow(r []string) string {
	if r == nil {
		return "(no row)"
	}
	return fmt.Sprintf("%q", r)
}

// normTypes drops what differs between the engines' type names without
// changing what a client scans: spaces after commas.
func normTypes(ts []string) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = strings.ReplaceAll(t, ", ", ",")
	}
	return out
}

// compareAll runs every read query, every view and every table on both
// engines and compares the answers.
func compareAll(ctx context.Context, t *testing.T, a, b engine, orgs []fxOrg) {
	for _, q := range queryCases(orgs) {
		t.Run("query/"+q.name, func(t *testing.T) {
			if q.orderBy == "" && !hasOrderBy(q.sql) {
				t.Fatalf("%s has no ORDER BY and no wrapper order in orderFor", q.file)
			}
			ra := run(ctx, t, a, q.wrapped(), q.args...)
			rb := run(ctx, t, b, q.wrapped(), q.args...)
			compare(t, q.file+" "+fmt.Sprint(q.args), a, ra, b, rb)
		})
	}
	for _, v := range views {
		t.Run("view/"+v.name, func(t *testing.T) {
			sql := "SELECT * FROM " + v.name + " ORDER BY " + v.orderBy
			ra := run(ctx, t, a, sql)
			rb := run(ctx, t, b, sql)
			if len(ra.rows) == 0 {
				t.Errorf("view %s is empty on %s: the fixture does not exercise it", v.name, a.name())
			}
			compare(t, "view "+v.name, a, ra, b, rb)
		})
	}
	for _, tbl := range migratedTables {
		t.Run("table/"+tbl, func(t *testing.T) {
			cols := run(ctx, t, a, "SELECT * FROM "+tbl+" LIMIT 0").cols
			sql := "SELECT * FROM " + tbl + " ORDER BY " + strings.Join(cols, ", ")
			compare(t, "table "+tbl, a, run(ctx, t, a, sql), b, run(ctx, t, b, sql))
		})
	}
}

// ---------------------------------------------------------------------------
// Truth

// checkTruth compares the review views of engine e with fixture.Truth for
// every org, cycle and employee, and unmapped_users.sql and org_calls.sql
// with counts taken straight from the fixture's calls.
func checkTruth(ctx context.Context, t *testing.T, e engine, orgs []fxOrg) {
	t.Helper()
	metrics := run(ctx, t, e, `SELECT org, cycle_id, employee_id, cohort, total_calls, inbound_calls, outbound_calls,
		avg_duration_sec, after_hours_calls, escalated_calls, resolved_calls, escalation_available,
		answered_calls, missed_calls, voicemail_calls, talk_time_sec, avg_talk_sec, avg_answer_sec, answer_time_available
		FROM employee_cycle_metrics ORDER BY org, cycle_id, employee_id`)
	got := map[string][]string{}
	for _, r := range metrics.rows {
		got[strings.Join(r[:3], "/")] = r[3:]
	}
	baselines := run(ctx, t, e, `SELECT org, cycle_id, cohort, cohort_size, median_total_calls
		FROM cohort_cycle_baselines ORDER BY org, cycle_id, cohort`)
	gotBase := map[string][]string{}
	for _, r := range baselines.rows {
		gotBase[strings.Join(r[:3], "/")] = r[3:]
	}
	itoa := strconv.Itoa
	for _, o := range orgs {
		tr := o.truth
		escAvail := "1"
		if tr.Provider == fixture.RingCentral {
			escAvail = "0"
		}
		cohortOf := map[string]string{}
		for _, emp := range tr.Employees {
			cohortOf[emp.ID] = emp.Cohort
		}
		for _, c := range tr.Cycles {
			want, base := tr.Truth(c.Start, c.End)
			checkQueryFilesTruth(ctx, t, e, tr, c.ID, want, base, escAvail)
			for _, emp := range tr.Employees {
				m := want[emp.ID]
				key := tr.Name + "/" + c.ID + "/" + emp.ID
				esc := itoa(m.EscalatedCalls)
				if escAvail == "0" {
					esc = "NULL" // n/a, so sum() and avg() skip it (migration 015)
				}
				w := append([]string{cohortOf[emp.ID], itoa(m.TotalCalls), itoa(m.InboundCalls), itoa(m.OutboundCalls), itoa(m.AvgDurationSec),
					itoa(m.AfterHoursCalls), esc, itoa(m.ResolvedCalls), escAvail}, talkRow(m)...)
				if m.AnswerTimeAvailable {
					w = append(w, "1")
				} else {
					w = append(w, "0")
				}
				g, ok := got[key]
				switch {
				case !ok:
					t.Errorf("%s: employee_cycle_metrics has no row for %s", e.name(), key)
				case !slices.Equal(g, w):
					t.Errorf("%s: employee_cycle_metrics %s (cohort, total, in, out, avg_dur, after_hours, escalated, resolved, esc_avail, answered, missed, voicemail, talk, avg_talk, avg_answer, answer_avail):\n  got  %q\n  want %q", e.name(), key, g, w)
				}
				delete(got, key)
			}
			for cohort, b := range base {
				key := tr.Name + "/" + c.ID + "/" + cohort
				w := []string{itoa(b.Size), strconv.FormatFloat(b.MedianTotalCall, 'g', -1, 64)}
				g, ok := gotBase[key]
				switch {
				case !ok:
					t.Errorf("%s: cohort_cycle_baselines has no row for %s", e.name(), key)
				case !slices.Equal(g, w):
					t.Errorf("%s: cohort_cycle_baselines %s (size, median): got %q, want %q", e.name(), key, g, w)
				}
				delete(gotBase, key)
			}

			mapped := map[string]bool{}
			for _, emp := range tr.Employees {
				mapped[emp.ProviderUserID] = true
			}
			unmapped := map[string]int{}
			calls, withUser := 0, 0
			for _, call := range tr.CallsIn(c.Start, c.End) {
				if call.Deleted {
					continue
				}
				calls++
				if call.UserID != "" {
					withUser++
				}
				if !mapped[call.UserID] {
					unmapped[call.UserID]++
				}
			}
			var wantUnmapped [][]string
			for u, n := range unmapped {
				wantUnmapped = append(wantUnmapped, []string{u, itoa(n)})
			}
			sort.Slice(wantUnmapped, func(i, j int) bool {
				ni, _ := strconv.Atoi(wantUnmapped[i][1])
				nj, _ := strconv.Atoi(wantUnmapped[j][1])
				if ni != nj {
					return ni > nj
				}
				return wantUnmapped[i][0] < wantUnmapped[j][0]
			})
			rangeArgs := []any{clickhouse.Named("org", tr.Name), clickhouse.Named("from", c.Start), clickhouse.Named("to", c.End)}
			gotUnmapped := run(ctx, t, e, queries.UnmappedUsers, rangeArgs...).rows
			if !reflect.DeepEqual(gotUnmapped, wantUnmapped) {
				t.Errorf("%s: unmapped_users.sql %s %s:\n  got  %q\n  want %q", e.name(), tr.Name, c.ID, gotUnmapped, wantUnmapped)
			}
			checkProviderUserCalls(ctx, t, e, tr, c)
			oc := run(ctx, t, e, queries.OrgCalls, rangeArgs...).rows
			if len(oc) != 1 || oc[0][0] != itoa(calls) || oc[0][1] != itoa(withUser) {
				t.Errorf("%s: org_calls.sql %s %s = %q, want calls %d and with_user %d", e.name(), tr.Name, c.ID, oc, calls, withUser)
			}
		}
		if len(unmappedIn(tr)) == 0 {
			t.Errorf("fixture %s has no unmapped users", tr.Name)
		}
	}
	for key := range got {
		t.Errorf("%s: employee_cycle_metrics has an unexpected row %s (a deleted employee?)", e.name(), key)
	}
	for key := range gotBase {
		t.Errorf("%s: cohort_cycle_baselines has an unexpected row %s", e.name(), key)
	}
}

// checkProviderUserCalls compares provider_user_calls.sql (`employees
// discover`) with the fixture's current calls per provider user in cycle c.
func checkProviderUserCalls(ctx context.Context, t *testing.T, e engine, tr *fixture.Org, c fixture.Cycle) {
	t.Helper()
	perUser := map[string]int{}
	for _, call := range tr.CallsIn(c.Start, c.End) {
		if !call.Deleted && call.UserID != "" {
			perUser[call.UserID]++
		}
	}
	var want [][]string
	for _, u := range slices.Sorted(maps.Keys(perUser)) {
		want = append(want, []string{u, strconv.Itoa(perUser[u])})
	}
	got := run(ctx, t, e, queries.ProviderUserCalls, clickhouse.Named("org", tr.Name), clickhouse.Named("provider", tr.Provider),
		clickhouse.Named("from", c.Start), clickhouse.Named("to", c.End)).rows
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: provider_user_calls.sql %s %s:\n  got  %q\n  want %q", e.name(), tr.Name, c.ID, got, want)
	}
}

// checkQueryFilesTruth compares cycle_metrics.sql, review.sql,
// cycle_baselines.sql and baseline.sql, the org-scoped reads the CLI and
// Grafana run, with fixture.Truth for one org and cycle.
func checkQueryFilesTruth(ctx context.Context, t *testing.T, e engine, tr *fixture.Org, cycle string,
	want map[string]fixture.Metrics, base map[string]fixture.Baseline, escAvail string) {
	t.Helper()
	itoa := strconv.Itoa
	org, cy, dirty := clickhouse.Named("org", tr.Name), clickhouse.Named("cycle", cycle), clickhouse.Named("dirty", dirtyOf[tr.Name])
	var wantRows, wantBase [][]string
	// compareAll runs review.sql and baseline.sql for every employee and
	// cohort on both engines; here two of each are checked against truth.
	for i, emp := range slices.SortedFunc(slices.Values(tr.Employees), func(a, b fixture.Employee) int { return strings.Compare(a.ID, b.ID) }) {
		m := want[emp.ID]
		row := append([]string{emp.ID, emp.Name, emp.Cohort, itoa(m.TotalCalls), itoa(m.InboundCalls), itoa(m.OutboundCalls), itoa(m.AvgDurationSec),
			itoa(m.AfterHoursCalls), itoa(m.EscalatedCalls), itoa(m.ResolvedCalls), escAvail}, talkRow(m)...)
		wantRows = append(wantRows, row)
		if i >= 1 {
			continue
		}
		got := run(ctx, t, e, queries.Review, org, cy, clickhouse.Named("employee", emp.ID), dirty).rows
		if len(got) != 1 || !slices.Equal(got[0], row[1:]) {
			t.Errorf("%s: review.sql %s/%s/%s:\n  got  %q\n  want %q", e.name(), tr.Name, cycle, emp.ID, got, row[1:])
		}
	}
	if got := run(ctx, t, e, queries.CycleMetrics, org, cy, dirty).rows; !reflect.DeepEqual(got, wantRows) {
		t.Errorf("%s: cycle_metrics.sql %s/%s:\n  got  %q\n  want %q", e.name(), tr.Name, cycle, got, wantRows)
	}
	for i, cohort := range slices.Sorted(maps.Keys(base)) {
		b := base[cohort]
		g := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
		row := []string{cohort, itoa(b.Size), g(b.MedianTotalCall),
			g(b.MedianAnsweredCalls), g(b.MedianMissedCalls), g(b.MedianVoicemailCalls), g(b.MedianTalkTimeSec), g(b.MedianAvgTalkSec)}
		wantBase = append(wantBase, row)
		if i >= 1 {
			continue
		}
		got := run(ctx, t, e, queries.Baseline, org, cy, clickhouse.Named("cohort", cohort), dirty).rows
		if len(got) != 1 || !slices.Equal(got[0], row[1:]) {
			t.Errorf("%s: baseline.sql %s/%s/%s: got %q, want %q", e.name(), tr.Name, cycle, cohort, got, row[1:])
		}
	}
	if got := run(ctx, t, e, queries.CycleBaselines, org, cy, dirty).rows; !reflect.DeepEqual(got, wantBase) {
		t.Errorf("%s: cycle_baselines.sql %s/%s:\n  got  %q\n  want %q", e.name(), tr.Name, cycle, got, wantBase)
	}
}

// talkRow is the talk-time columns of the review queries: answered,
// missed, voicemail, talk time, average talk, and average time to answer
// (NULL where n/a).
func talkRow(m fixture.Metrics) []string {
	itoa := strconv.Itoa
	ans := "NULL"
	if m.AnswerTimeAvailable {
		ans = itoa(m.AvgAnswerSec)
	}
	return []string{itoa(m.AnsweredCalls), itoa(m.MissedCalls), itoa(m.VoicemailCalls), itoa(m.TalkTimeSec), itoa(m.AvgTalkSec), ans}
}

func unmappedIn(o *fixture.Org) []string {
	mapped := map[string]bool{}
	for _, e := range o.Employees {
		mapped[e.ProviderUserID] = true
	}
	var out []string
	for _, u := range o.Users {
		if !mapped[u.ID] {
			out = append(out, u.ID)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Tests

// TestPortability applies the schema on ClickHouse 18.16 and on current
// ClickHouse (libchdb), loads the same fixture into both, and checks that
// every read query, view and table gives the same rows on both and that
// the review views match fixture.Truth on each: first with every inserted
// version still present (merges stopped), then after OPTIMIZE FINAL.
func TestPortability(t *testing.T) {
	// A bound against a hung server, not a speed target: on a shared
	// 2-core machine the whole comparison has taken several minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	var engines []engine
	for _, open := range []func(*testing.T) engine{open18, openCHDB} {
		if e := open(t); e != nil {
			engines = append(engines, e)
		}
	}
	if len(engines) == 0 {
		t.Skip("both engines skipped by environment")
	}
	orgs, tables := buildFixture(t)
	for _, e := range engines {
		applySchema(ctx, t, e)
		got := run(ctx, t, e, "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' ORDER BY name")
		var names []string
		for _, r := range got.rows {
			names = append(names, r[0])
		}
		if want := slices.Sorted(slices.Values(migratedTables)); !slices.Equal(names, want) {
			t.Fatalf("%s: the schema's tables are %q; migratedTables lists %q", e.name(), names, want)
		}
		loadFixture(ctx, t, e, tables)
	}
	// The days the last raw_signals block left dirty, the same on both
	// engines: the review queries take them from raw_signals.
	for _, o := range orgs {
		var days []string
		for _, e := range engines {
			days = append(days, run(ctx, t, e, queries.DirtyDaysOfOrg, clickhouse.Named("org", o.gen.Name)).rows[0][0])
		}
		if days[0] == "" || days[len(days)-1] != days[0] {
			t.Fatalf("dirty days of %s: %q; want the same, non-empty, on every engine", o.gen.Name, days)
		}
		dirtyOf[o.gen.Name] = days[0]
	}
	checkAggregateTools(ctx, t, engines, orgs)

	t.Run("insert_statements", func(t *testing.T) {
		for _, e := range engines {
			checkInserts(ctx, t, e)
		}
	})

	phase := func(t *testing.T) {
		if len(engines) == 2 {
			compareAll(ctx, t, engines[0], engines[1], orgs)
		} else {
			t.Logf("only %s ran: not comparing engines", engines[0].name())
		}
		for _, e := range engines {
			t.Run("truth/"+e.name(), func(t *testing.T) { checkTruth(ctx, t, e, orgs) })
			t.Run("grains/"+e.name(), func(t *testing.T) { checkGrains(ctx, t, e, orgs) })
		}
	}
	// The fixture must exercise what the views fold away: older versions
	// and duplicates, deleted calls, and employees a re-import deleted.
	t.Run("fixture_exercises_dedup", func(t *testing.T) {
		for _, e := range engines {
			r := run(ctx, t, e, `SELECT count(), sum(versions_seen), countIf(versions_seen > 1), countIf(deleted = 1) FROM calls_current`).rows[0]
			emp := run(ctx, t, e, `SELECT (SELECT uniqExact(org, employee_id) FROM employees), (SELECT count() FROM employees_current)`).rows[0]
			t.Logf("%s: %s calls from %s raw rows, %s with several rows, %s deleted; %s employees, %s current", e.name(), r[0], r[1], r[2], r[3], emp[0], emp[1])
			if r[2] == "0" || r[3] == "0" || emp[0] == emp[1] {
				t.Errorf("%s: the fixture does not exercise versions, deleted calls and deleted employees: %q %q", e.name(), r, emp)
			}
		}
	})
	t.Run("all_versions", phase)
	for _, e := range engines {
		optimizeAll(ctx, t, e)
	}
	t.Run("after_optimize_final", phase)
	// Last, as they change raw_signals and need merges running.
	t.Run("rerate_after_hours", func(t *testing.T) { checkRerate(ctx, t, engines, orgs[0]) })
	t.Run("talk_defaults_of_old_rows", func(t *testing.T) { checkTalkDefaults(ctx, t, engines) })
}

// TestPortabilityCoversEverySQLFile fails when queries/ gains a .sql file
// that TestPortability does not run (a fragments/ file no read query names
// included), or when embed.go embeds a file under another variable than the
// one the test runs (compared after the fragments are substituted).
func TestPortabilityCoversEverySQLFile(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		onDisk[e.Name()] = true
		body, err := os.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		sql, read := readQueries[e.Name()]
		ddl, isDDL := ddlFiles[e.Name()]
		switch {
		case read && isDDL:
			t.Errorf("%s is listed both as a read query and as DDL", e.Name())
		case read:
			rendered, err := queries.Render(string(body))
			if err != nil {
				t.Errorf("queries/%s: %v", e.Name(), err)
			}
			if sql != rendered {
				t.Errorf("readQueries[%q] is not that file's content: it names the wrong queries variable", e.Name())
			}
		case isDDL:
			if ddl != string(body) {
				t.Errorf("ddlFiles[%q] is not that file's content: it names the wrong queries variable", e.Name())
			}
		default:
			t.Errorf("queries/%s is not covered by the portability test: add it to readQueries (with query cases in queryCases and, if it has no ORDER BY, an entry in orderFor) or to ddlFiles", e.Name())
		}
	}
	// A fragment runs only inside the read queries that name it, so each one
	// must be named by at least one of them (and thus run on both engines).
	fragments, err := os.ReadDir("fragments")
	if err != nil {
		t.Fatal(err)
	}
	// The loader's refresh statements (aggregate/) name fragments too; the
	// portability test runs them through refreshDirty.
	naming, err := filepath.Glob("aggregate/refresh_*.sql")
	if err != nil || len(naming) == 0 {
		t.Fatalf("no aggregate/refresh_*.sql: %v", err)
	}
	for name := range readQueries {
		naming = append(naming, name)
	}
	// So do the migrations that build views from them (014 onwards).
	migrationFiles, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	naming = append(naming, migrationFiles...)
	// A fragment named by a named fragment runs too (mapped_roster names
	// owners): grow the named set until it stops growing.
	named := map[string]bool{}
	for grew := true; grew; {
		grew = false
		for _, f := range fragments {
			stem := strings.TrimSuffix(f.Name(), ".sql")
			if named[stem] || !namedIn(t, naming, stem) {
				continue
			}
			named[stem], grew = true, true
			naming = append(naming, filepath.Join("fragments", f.Name()))
		}
	}
	for _, f := range fragments {
		if stem := strings.TrimSuffix(f.Name(), ".sql"); !strings.HasSuffix(f.Name(), ".sql") || !named[stem] {
			t.Errorf("queries/fragments/%s is named by no read query, refresh statement or named fragment as {%s}: the portability test never runs it; use it or remove it", f.Name(), stem)
		}
	}
	for name := range readQueries {
		if !onDisk[name] {
			t.Errorf("readQueries lists %s, which is not in queries/", name)
		}
	}
	for name := range ddlFiles {
		if !onDisk[name] {
			t.Errorf("ddlFiles lists %s, which is not in queries/", name)
		}
	}
	// Every read query has cases, and every one without ORDER BY a wrapper order.
	cased := map[string]bool{}
	for _, q := range queryCases([]fxOrg{{gen: fixture.Generate(fixture.Spec{Days: 1, Employees: 2, UnmappedUsers: 1})}}) {
		cased[q.file] = true
	}
	for name, sql := range readQueries {
		if !cased[name] {
			t.Errorf("%s has no cases in queryCases", name)
		}
		if !hasOrderBy(sql) && orderFor[name] == "" {
			t.Errorf("%s has no ORDER BY: give the comparison one in orderFor", name)
		}
	}

	// Every file embed.go embeds at the top level is covered.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "embed.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	embedded := 0
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if vs.Doc == nil {
				continue
			}
			for _, c := range vs.Doc.List {
				pattern, ok := strings.CutPrefix(c.Text, "//go:embed ")
				if !ok || strings.Contains(pattern, "/") {
					continue
				}
				embedded++
				if _, read := readQueries[pattern]; !read && ddlFiles[pattern] == "" {
					t.Errorf("embed.go embeds %s into %s, which the portability test does not cover", pattern, vs.Names[0].Name)
				}
			}
		}
	}
	if embedded != len(readQueries)+len(ddlFiles) {
		t.Errorf("embed.go embeds %d top-level .sql files; the portability test covers %d", embedded, len(readQueries)+len(ddlFiles))
	}
	migs, err := queries.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	migFiles, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(slices.DeleteFunc(migFiles, func(e os.DirEntry) bool { return !strings.HasSuffix(e.Name(), ".sql") })); n != len(migs) {
		t.Errorf("queries/migrations has %d .sql files but queries.Migrations() returns %d migrations", n, len(migs))
	}
}

// insertFiles are the batch insert statements in queries/insert, by file.
var insertFiles = map[string]string{
	"orgs.sql":                queries.InsertOrgs,
	"org_hours.sql":           queries.InsertOrgHours,
	"employees.sql":           queries.InsertEmployees,
	"schema_migrations.sql":   queries.InsertSchemaMigrations,
	"cycles.sql":              queries.InsertCycles,
	"call_transcripts.sql":    queries.InsertCallTranscripts,
	"transcript_events.sql":   queries.InsertTranscriptEvents,
	"webhook_deliveries.sql":  queries.InsertWebhookDeliveries,
	"sync_windows.sql":        queries.InsertSyncWindows,
	"sync_runs.sql":           queries.InsertSyncRuns,
	"dead_letters.sql":        queries.InsertDeadLetters,
	"key_checks.sql":          queries.InsertKeyChecks,
	"dead_letter_replays.sql": queries.InsertDeadLetterReplays,
	"sync_window_calls.sql":   queries.InsertSyncWindowCalls,
	"erasures.sql":            queries.InsertErasures,
	"erasure_items.sql":       queries.InsertErasureItems,
}

var insertRe = regexp.MustCompile(`(?s)INSERT INTO (\w+) \(([^)]*)\)\s*$`)

// checkInserts proves every insert statement names a table and columns
// that exist on the engine, and that every file in queries/insert is
// embedded and covered here.
func checkInserts(ctx context.Context, t *testing.T, e engine) {
	t.Helper()
	entries, err := os.ReadDir("insert")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(insertFiles) {
		t.Errorf("queries/insert has %d files, insertFiles covers %d", len(entries), len(insertFiles))
	}
	for _, ent := range entries {
		stmt, ok := insertFiles[ent.Name()]
		if !ok {
			t.Errorf("queries/insert/%s is not covered: add it to insertFiles", ent.Name())
			continue
		}
		body, err := os.ReadFile(filepath.Join("insert", ent.Name()))
		if err != nil || string(body) != stmt {
			t.Errorf("queries/insert/%s differs from its embedded variable (%v)", ent.Name(), err)
		}
		var lines []string
		for _, l := range strings.Split(stmt, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		m := insertRe.FindStringSubmatch(strings.TrimSpace(strings.Join(lines, "\n")))
		if m == nil {
			t.Errorf("queries/insert/%s is not `INSERT INTO table (columns)`", ent.Name())
			continue
		}
		if _, err := e.query(ctx, "SELECT "+m[2]+" FROM "+m[1]+" LIMIT 0"); err != nil {
			t.Errorf("%s: queries/insert/%s: %v", e.name(), ent.Name(), err)
		}
	}
}

// namedIn reports whether one of files names fragment stem, as {stem} or
// with slots filled, {stem key="..."}.
func namedIn(t *testing.T, files []string, stem string) bool {
	t.Helper()
	for _, name := range files {
		body, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), "{"+stem+"}") || strings.Contains(string(body), "{"+stem+" ") {
			return true
		}
	}
	return false
}

// checkTalkDefaults checks migration 013 on rows stored before it: a
// table made as migration 001 made raw_signals gets rows, then 013's
// ADD COLUMN statements, and its old parts must read the talk-time values
// the migration derives from the stored status, direction and duration,
// the same on both engines (README: rows loaded before the upgrade).
func checkTalkDefaults(ctx context.Context, t *testing.T, engines []engine) {
	t.Helper()
	migs, err := queries.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var create string
	var alters []string
	for _, m := range migs {
		for _, stmt := range m.Statements {
			switch {
			case m.Version == 1 && strings.HasPrefix(stmt, "CREATE TABLE IF NOT EXISTS raw_signals"):
				create = strings.Replace(stmt, "raw_signals", "legacy_signals", 1)
			case m.Version == 13 && strings.HasPrefix(stmt, "ALTER TABLE raw_signals ADD COLUMN"):
				alters = append(alters, strings.Replace(stmt, "raw_signals", "legacy_signals", 1))
			}
		}
	}
	if create == "" || len(alters) != 6 {
		t.Fatalf("migration 001's raw_signals (%d bytes) or 013's six ADD COLUMN statements (%d) not found", len(create), len(alters))
	}
	// provider, status, direction, duration; then the answered, missed,
	// voicemail, talk_sec, answer_sec and answer_available they give.
	cases := []struct {
		provider, status, direction string
		duration                    uint32
		want                        string
	}{
		{"aircall", "done", "inbound", 100, "1 0 0 0 0 0"},
		{"aircall", "answered", "outbound", 50, "1 0 0 0 0 0"},
		{"aircall", "missed", "inbound", 10, "0 1 0 0 0 0"},
		{"aircall", "voicemail", "inbound", 30, "0 1 1 0 0 0"},
		{"aircall", "missed", "outbound", 5, "0 0 0 0 0 0"},
		{"aircall", "initial", "inbound", 0, "0 0 0 0 0 0"},
		{"ringcentral", "Call connected", "outbound", 77, "1 0 0 77 0 0"},
		{"ringcentral", "Accepted", "inbound", 88, "1 0 0 88 0 0"},
		{"ringcentral", "Voicemail", "inbound", 20, "0 1 1 0 0 0"},
		{"ringcentral", "Busy", "inbound", 3, "0 1 0 0 0 0"},
		{"ringcentral", "Rejected", "inbound", 3, "0 1 0 0 0 0"},
		{"ringcentral", "Hang Up", "inbound", 4, "0 0 0 0 0 0"},
		{"ringcentral", "No Answer", "outbound", 9, "0 0 0 0 0 0"},
	}
	cols := signalCols[:slices.Index(signalCols, "answered")]
	var rows [][]any
	at := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	for i, c := range cases {
		rows = append(rows, []any{"legacy", "phone", "call", c.provider, fmt.Sprintf("L%02d", i), "u1", at, c.direction,
			c.duration, c.status, uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), uint64(i + 1), "old", "kafka", "", at, at})
	}
	for _, e := range engines {
		for _, stmt := range append([]string{create}, alters...) {
			if stmt == create {
				if err := e.exec(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", e.name(), err)
				}
				if err := e.insert(ctx, "legacy_signals", cols, rows); err != nil {
					t.Fatalf("%s: %v", e.name(), err)
				}
				continue
			}
			if err := e.exec(ctx, stmt); err != nil {
				t.Fatalf("%s: %v\n%s", e.name(), err, stmt)
			}
		}
		got := run(ctx, t, e, "SELECT call_id, answered, missed, voicemail, talk_sec, answer_sec, answer_available FROM legacy_signals ORDER BY call_id").rows
		if len(got) != len(cases) {
			t.Fatalf("%s: %d legacy rows, want %d", e.name(), len(got), len(cases))
		}
		for i, c := range cases {
			if g := strings.Join(got[i][1:], " "); g != c.want {
				t.Errorf("%s: an old %s row %q %s reads %s, want %s (answered missed voicemail talk answer available)", e.name(), c.provider, c.status, c.direction, g, c.want)
			}
		}
		if err := e.exec(ctx, "DROP TABLE legacy_signals"); err != nil {
			t.Fatal(err)
		}
	}
}
