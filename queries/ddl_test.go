package queries_test

import (
	"regexp"
	"testing"

	"github.com/phonesignals/phonesignals/queries"
)

func TestAddColumn(t *testing.T) {
	for _, tt := range []struct {
		stmt, table, column string
		ok                  bool
	}{
		{"ALTER TABLE raw_signals ADD COLUMN answered UInt8 DEFAULT toUInt8(0)", "raw_signals", "answered", true},
		{"  alter table\n  user_day_metrics\n  add column talk_sum UInt64", "user_day_metrics", "talk_sum", true},
		{"ALTER TABLE `raw_signals` ADD COLUMN `talk_sec` UInt32", "raw_signals", "talk_sec", true},
		{"ALTER TABLE t ADD COLUMN a UInt8, ADD COLUMN b UInt8", "", "", false},
		{"ALTER TABLE raw_signals MODIFY COLUMN payload String ALIAS ''", "", "", false},
		{"CREATE TABLE IF NOT EXISTS x (a UInt8) ENGINE = Memory", "", "", false},
		{"INSERT INTO t SELECT 'ALTER TABLE t ADD COLUMN c'", "", "", false},
	} {
		table, column, ok := queries.AddColumn(tt.stmt)
		if table != tt.table || column != tt.column || ok != tt.ok {
			t.Errorf("AddColumn(%q) = %q, %q, %v; want %q, %q, %v", tt.stmt, table, column, ok, tt.table, tt.column, tt.ok)
		}
	}
}

// Every ADD COLUMN of the migrations is one column per statement, without
// IF NOT EXISTS (18.16 rejects it), so the runner's guard recognises it
// and a migration runs twice cleanly (TestPortability runs each twice).
func TestMigrationsAddOneColumnPerStatement(t *testing.T) {
	migs, err := queries.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	addColumn := regexp.MustCompile(`(?i)\bADD\s+COLUMN\b`)
	ifNotExists := regexp.MustCompile(`(?i)\bADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\b`)
	seen := 0
	for _, m := range migs {
		for i, stmt := range m.Statements {
			if !addColumn.MatchString(stmt) {
				continue
			}
			seen++
			if _, _, ok := queries.AddColumn(stmt); !ok || ifNotExists.MatchString(stmt) {
				t.Errorf("migration %03d_%s statement %d adds columns the runner cannot guard (one `ALTER TABLE t ADD COLUMN c` per statement):\n%s", m.Version, m.Name, i+1, stmt)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no migration adds a column: the guard is untested")
	}
}
