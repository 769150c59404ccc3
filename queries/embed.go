// Package queries holds every DDL statement and query phonesignals runs, as
// .sql files embedded at build time. migrations/NNN_name.sql are applied in
// order by the migration runner (internal/store); the other files are the
// read queries, bound with clickhouse-go's client-side `?` placeholders
// (ClickHouse 18.16 has no server-side parameters).
package queries

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// fragmentFS holds the SQL blocks several statements share (the owner of
// each provider user, the per-user counts of a cycle, the review numbers):
// a statement names one as {name} and init substitutes it, so the exported
// variables below hold the complete SQL (see render for the one marker
// syntax).
//
//go:embed fragments/*.sql
var fragmentFS embed.FS

// Read queries, one file each.
var (
	//go:embed review.sql
	Review string
	//go:embed baseline.sql
	Baseline string
	//go:embed cycle_metrics.sql
	CycleMetrics string
	//go:embed cycle_baselines.sql
	CycleBaselines string
	//go:embed unmapped_users.sql
	UnmappedUsers string
	//go:embed org_calls.sql
	OrgCalls string
	//go:embed org_get.sql
	OrgGet string
	//go:embed org_hours.sql
	OrgHours string
	//go:embed org_list.sql
	OrgList string
	//go:embed employees_list.sql
	EmployeesList string
	//go:embed cycle_get.sql
	CycleGet string
	//go:embed cycles_list.sql
	CyclesList string
	//go:embed sync_window_done.sql
	SyncWindowDone string
	//go:embed sync_last_run.sql
	SyncLastRun string
	//go:embed sync_runs_recent.sql
	SyncRunsRecent string
	//go:embed serve_status.sql
	ServeStatus string
	//go:embed sync_windows_stats.sql
	SyncWindowsStats string
	//go:embed webhook_stats.sql
	WebhookStats string
	//go:embed dead_letter_stats.sql
	DeadLetterStats string
	//go:embed transcript_stats.sql
	TranscriptStats string
	//go:embed migrations_applied.sql
	MigrationsApplied string
	//go:embed schema_migrations.sql
	SchemaMigrations string
	//go:embed column_exists.sql
	ColumnExists string
	//go:embed key_check_get.sql
	KeyCheckGet string
	//go:embed dead_letter_replays.sql
	DeadLetterReplays string
	//go:embed sync_windows_unloaded.sql
	SyncWindowsUnloaded string
	//go:embed provider_user_calls.sql
	ProviderUserCalls string
)

// Read queries of the Grafana data source's dashboards and alert rules.
var (
	//go:embed cohort_medians.sql
	CohortMedians string
	//go:embed employee_trend.sql
	EmployeeTrend string
	//go:embed calls_weekly.sql
	CallsWeekly string
	//go:embed escalated_by_employee.sql
	EscalatedByEmployee string
	//go:embed sync_last_success.sql
	SyncLastSuccess string
	//go:embed dead_letters_window.sql
	DeadLettersWindow string
)

// Read queries of the review's coverage and of the privacy commands
// (`org privacy`, `employees forget`, `retention apply`).
var (
	//go:embed coverage_windows.sql
	CoverageWindows string
	//go:embed coverage_runs.sql
	CoverageRuns string
	//go:embed coverage_counts.sql
	CoverageCounts string
	//go:embed employee_versions.sql
	EmployeeVersions string
	//go:embed forget_plan.sql
	ForgetPlan string
	//go:embed retention_plan.sql
	RetentionPlan string
	//go:embed erasures_list.sql
	ErasuresList string
	//go:embed mutations_running.sql
	MutationsRunning string
	// ClusterNodes lists a cluster's nodes by shard (@cluster), for the
	// store's routing of an org's reads to its shard.
	//go:embed cluster_nodes.sql
	ClusterNodes string
	//go:embed string_columns.sql
	StringColumns string
	//go:embed staged_erasures.sql
	StagedErasures string
)

// Statements of the erasures (`employees forget`, `retention apply`): the
// staging of the ids an erasure removes (erasure_items) and the mutations
// that remove them. {table} and {column} are filled by RenderTable from
// fixed lists in internal/store, never from input; every value is a named
// parameter.
var (
	//go:embed insert/erasures.sql
	InsertErasures string
	//go:embed insert/erasure_items.sql
	InsertErasureItems string
	//go:embed privacy/stage_user_calls.sql
	StageUserCalls string
	//go:embed privacy/stage_expired_calls.sql
	StageExpiredCalls string
	//go:embed privacy/delete_user_rows.sql
	DeleteUserRows string
	//go:embed privacy/delete_expired_rows.sql
	DeleteExpiredRows string
	//go:embed privacy/delete_staged_calls.sql
	DeleteStagedCalls string
	//go:embed privacy/delete_expired_dead_letters.sql
	DeleteExpiredDeadLetters string
	//go:embed privacy/delete_expired_days.sql
	DeleteExpiredDays string
	//go:embed privacy/delete_user_days.sql
	DeleteUserDays string
	//go:embed privacy/delete_employee.sql
	DeleteEmployee string
	//go:embed privacy/unmap_user.sql
	UnmapUser string
	//go:embed privacy/scrub_text.sql
	ScrubText string
	//go:embed privacy/delete_text.sql
	DeleteText string
	//go:embed privacy/clear_staged.sql
	ClearStaged string
	//go:embed privacy/scan_column.sql
	ScanColumn string
)

// Insert statements, one per table, for clickhouse-go's PrepareBatch.
var (
	//go:embed insert/orgs.sql
	InsertOrgs string
	//go:embed insert/org_hours.sql
	InsertOrgHours string
	//go:embed insert/employees.sql
	InsertEmployees string
	//go:embed insert/schema_migrations.sql
	InsertSchemaMigrations string
	//go:embed insert/cycles.sql
	InsertCycles string
	//go:embed insert/call_transcripts.sql
	InsertCallTranscripts string
	//go:embed insert/transcript_events.sql
	InsertTranscriptEvents string
	//go:embed insert/webhook_deliveries.sql
	InsertWebhookDeliveries string
	//go:embed insert/sync_windows.sql
	InsertSyncWindows string
	//go:embed insert/sync_runs.sql
	InsertSyncRuns string
	//go:embed insert/dead_letters.sql
	InsertDeadLetters string
	//go:embed insert/key_checks.sql
	InsertKeyChecks string
	//go:embed insert/dead_letter_replays.sql
	InsertDeadLetterReplays string
	//go:embed insert/sync_window_calls.sql
	InsertSyncWindowCalls string
)

// Aggregate maintenance statements of the per-day aggregates (load/aggregate:
// aggregates.go, refresh.go). TouchedDays takes RenderCallKeys' lists; RefreshDays
// and RefreshOrg (one org each) RenderDays' list and the named parameters
// @org, @from, @to and @version; OrgDays RenderDayKeys' org list.
var (
	//go:embed aggregate/touched_days.sql
	TouchedDays string
	//go:embed aggregate/refresh_days.sql
	RefreshDays string
	//go:embed aggregate/refresh_org.sql
	RefreshOrg string
	//go:embed aggregate/org_days.sql
	OrgDays string
	//go:embed aggregate/dirty_days.sql
	DirtyDays string
	//go:embed aggregate/mark_days.sql
	MarkDays string
	//go:embed aggregate/dirty_days_of_org.sql
	DirtyDaysOfOrg string
	//go:embed aggregate/next_version.sql
	NextVersion string
	//go:embed aggregate/verify_days.sql
	VerifyDays string
	//go:embed aggregate/org_days_in.sql
	OrgDaysIn string
	//go:embed aggregate/org_last_day.sql
	OrgLastDay string
	//go:embed aggregate/rerate_after_hours.sql
	RerateAfterHours string
	//go:embed aggregate/mutations_pending.sql
	MutationsPending string
)

func init() {
	frags, err := loadFragments()
	if err != nil {
		panic(err) // embedded at build time: only a broken build gets here
	}
	for _, q := range []*string{&Review, &Baseline, &CycleMetrics, &CycleBaselines, &CohortMedians, &EmployeeTrend, &CallsWeekly, &EscalatedByEmployee, &RefreshDays, &RefreshOrg, &VerifyDays, &UnmappedUsers, &OrgCalls, &ForgetPlan, &RetentionPlan} {
		if *q, err = render(*q, frags); err != nil {
			panic(err)
		}
	}
}

// loadFragments reads every fragments/NAME.sql as NAME, without its leading
// comment lines (they document the fragment, not the query it lands in).
func loadFragments() (map[string]string, error) {
	entries, err := fs.ReadDir(fragmentFS, "fragments")
	if err != nil {
		return nil, fmt.Errorf("reading embedded fragments: %w", err)
	}
	frags := map[string]string{}
	for _, e := range entries {
		body, err := fragmentFS.ReadFile(path.Join("fragments", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading fragment %s: %w", e.Name(), err)
		}
		lines := strings.Split(strings.TrimRight(string(body), "\n"), "\n")
		for len(lines) > 0 && strings.HasPrefix(strings.TrimSpace(lines[0]), "--") {
			lines = lines[1:]
		}
		frags[strings.TrimSuffix(e.Name(), ".sql")] = strings.Join(lines, "\n")
	}
	return frags, nil
}

// The one marker syntax of the .sql files is a name in braces:
//
//   - {name} names fragments/name.sql, substituted here at embed time (and
//     in the migrations, whose views share the read queries' blocks). On a
//     line of its own (a comma may follow) the fragment lands indented as
//     the marker; inside a line it must be one line itself (a cycle's
//     bound, say).
//   - {name key="text" ...} fills the fragment's slots, written {?key} in
//     the fragment (a slot not filled is empty), where statements differ
//     only by a condition or a source. Fragments may name fragments, also
//     in a slot's text.
//   - Any other {name} is a per-call marker ({days}, {orgs}, {table}, ...)
//     left for the small Render* function its statement's doc names, which
//     fills it from values the caller holds.
//
// Comment lines are not rendered.
var (
	marker    = regexp.MustCompile(`\{(\w+)((?: \w+="[^"]*")*)\}`)
	markerArg = regexp.MustCompile(`(\w+)="([^"]*)"`)
	slot      = regexp.MustCompile(`\{\?(\w+)\}`)
)

// render substitutes the fragment markers of sql (see marker), so the
// result reads as the statement did before its blocks were shared. A line
// that is only a marker must name a fragment; naming a slot the fragment
// does not have, or a multi-line fragment inside a line, is an error.
func render(sql string, frags map[string]string) (string, error) {
	return renderDepth(sql, frags, 0)
}

func renderDepth(sql string, frags map[string]string, depth int) (string, error) {
	if depth > 6 {
		return "", fmt.Errorf("fragments nest deeper than 6 levels (one names itself?)")
	}
	lines := strings.Split(sql, "\n")
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") {
			continue
		}
		if m := marker.FindStringSubmatch(trimmed); m != nil && strings.TrimSuffix(trimmed, ",") == m[0] {
			frag, err := fill(m[1], m[2], frags)
			if err != nil {
				return "", err
			}
			if frag, err = renderDepth(frag, frags, depth+1); err != nil {
				return "", err
			}
			lines[i] = indent(frag, line[:len(line)-len(strings.TrimLeft(line, " \t"))]) + strings.TrimPrefix(trimmed, m[0])
			continue
		}
		var err error
		lines[i] = marker.ReplaceAllStringFunc(line, func(s string) string {
			m := marker.FindStringSubmatch(s)
			if _, ok := frags[m[1]]; !ok || err != nil {
				return s // a per-call marker
			}
			var frag string
			if frag, err = fill(m[1], m[2], frags); err == nil {
				frag, err = renderDepth(frag, frags, depth+1)
			}
			if err == nil && strings.Contains(frag, "\n") {
				err = fmt.Errorf("fragment {%s} has several lines: name it on a line of its own", m[1])
			}
			return frag
		})
		if err != nil {
			return "", err
		}
	}
	return strings.Join(lines, "\n"), nil
}

// indent prefixes every non-empty line of block with prefix.
func indent(block, prefix string) string {
	lines := strings.Split(block, "\n")
	for j, l := range lines {
		if l != "" {
			lines[j] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// fill returns fragment name with its slots filled from args (the
// marker's key="text" list).
func fill(name, args string, frags map[string]string) (string, error) {
	frag, ok := frags[name]
	if !ok {
		return "", fmt.Errorf("a statement names fragment {%s}, but queries/fragments/%s.sql does not exist", name, name)
	}
	values := map[string]string{}
	for _, m := range markerArg.FindAllStringSubmatch(args, -1) {
		if !strings.Contains(frag, "{?"+m[1]+"}") {
			return "", fmt.Errorf("a statement fills slot %s of fragment {%s}, which has no {?%s}", m[1], name, m[1])
		}
		values[m[1]] = m[2]
	}
	return slot.ReplaceAllStringFunc(frag, func(s string) string {
		return values[slot.FindStringSubmatch(s)[1]]
	}), nil
}

// Render substitutes the shared fragments into sql as init does for the
// exported queries; tests use it to compare a .sql file with its variable.
func Render(sql string) (string, error) {
	frags, err := loadFragments()
	if err != nil {
		return "", err
	}
	return render(sql, frags)
}

// RenderTable fills the {table} and {column} markers of an erasure
// statement (the privacy/ files) with names from internal/store's fixed
// lists, never from input.
func RenderTable(stmt, table, column string) string {
	return strings.NewReplacer("{table}", table, "{column}", column).Replace(stmt)
}

// Migration is one numbered schema change.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// Migrations returns every migration in version order, its fragment
// markers substituted (a view built from the blocks the read queries use
// gives their numbers; the frozen migrations name none).
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("reading embedded migrations: %w", err)
	}
	frags, err := loadFragments()
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: name must be NNN_name.sql", name)
		}
		body, err := migrationFS.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", name, err)
		}
		sql, err := render(string(body), frags)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: rest, Statements: SplitStatements(sql)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("two migrations have version %d", out[i].Version)
		}
	}
	return out, nil
}

// SplitStatements splits a SQL file into statements at semicolons that end
// a line, dropping comment-only lines. Our files never put a semicolon at
// the end of a line inside a string literal.
func SplitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			out = append(out, stmt)
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
