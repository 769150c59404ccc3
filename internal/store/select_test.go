package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/queries"
)

// selectFields maps the column names conn.Select fills in a struct of
// type t to the fields' types, as the driver reads the ch tags: a field is
// named by its tag or else its name, "-" and unexported fields are
// skipped, embedded structs are flattened.
func selectFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Name
		if tag := f.Tag.Get("ch"); tag != "" {
			name = tag
		}
		switch {
		case name == "-", f.PkgPath != "" && !f.Anonymous:
			continue
		case f.Anonymous:
			for k, v := range selectFields(f.Type) {
				out[k] = v
			}
			continue
		}
		out[name] = f.Type
	}
	return out
}

// TestSelectRowsMatchColumns checks the row types shared by the reads
// against the columns their queries return on ClickHouse 18.16: Select
// fails only on a row it reads, so an empty result would not show a
// renamed column or a changed type.
func TestSelectRowsMatchColumns(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	now := time.Now().UTC()
	named := []any{clickhouse.Named("org", "acme"), clickhouse.Named("cycle", "c"), clickhouse.Named("employee", "e"),
		clickhouse.Named("cohort", "h"), clickhouse.Named("dirty", ""), clickhouse.Named("from", now), clickhouse.Named("to", now),
		clickhouse.Named("provider", "aircall")}
	type trendRow struct {
		Cycle
		metricsRow
	}
	tests := []struct {
		name  string
		query string
		args  []any
		row   any
	}{
		{"coverage windows", queries.CoverageWindows, named, windowRow{}},
		{"unloaded windows", queries.SyncWindowsUnloaded, []any{"acme", "acme", "acme"}, windowRow{}},
		{"coverage runs", queries.CoverageRuns, named, runRow{}},
		{"recent runs", queries.SyncRunsRecent, []any{"acme", 5}, runRow{}},
		{"cycle", queries.CycleGet, []any{"acme", "c"}, Cycle{}},
		{"cycles", queries.CyclesList, []any{"acme"}, Cycle{}},
		{"cohort medians", queries.CohortMedians, named, cohortMediansRow{}},
		{"employee trend", queries.EmployeeTrend, named, trendRow{}},
		{"calls weekly", queries.CallsWeekly, named, WeekCalls{}},
		{"escalated by employee", queries.EscalatedByEmployee, named, EmployeeCount{}},
		{"provider user calls", queries.ProviderUserCalls, named, UserCalls{}},
		{"unmapped users", queries.UnmappedUsers, named, UserCalls{}},
		{"employees", queries.EmployeesList, []any{"acme"}, Employee{}},
		{"org", queries.OrgGet, []any{"acme"}, orgRow{}},
		{"review", queries.Review, named, metricsRow{}},
		{"cycle metrics", queries.CycleMetrics, named, metricsRow{}},
		{"baseline", queries.Baseline, named, Baseline{}},
		{"cycle baselines", queries.CycleBaselines, named, Baseline{}},
		{"migrations", queries.MigrationsApplied, nil, migrationRow{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ts.conn.Query(ctx, tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			fields := selectFields(reflect.TypeOf(tt.row))
			for _, col := range rows.ColumnTypes() {
				switch ft, ok := fields[col.Name()]; {
				case !ok:
					t.Errorf("%T has no field for column %s", tt.row, col.Name())
				case ft != col.ScanType():
					t.Errorf("%T: column %s (%s) is read into %v, want %v", tt.row, col.Name(), col.DatabaseTypeName(), ft, col.ScanType())
				}
			}
		})
	}
}
