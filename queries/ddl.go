package queries

import "regexp"

// addColumnRE matches `ALTER TABLE t ADD COLUMN c ...`, the one DDL
// statement ClickHouse 18.16 cannot make idempotent itself (it has no ADD
// COLUMN IF NOT EXISTS).
var addColumnRE = regexp.MustCompile("(?is)^\\s*ALTER\\s+TABLE\\s+`?([A-Za-z_][A-Za-z0-9_]*)`?\\s+ADD\\s+COLUMN\\s+`?([A-Za-z_][A-Za-z0-9_]*)`?\\s")

// AddColumn reports the table and column a migration statement adds, when
// it is an `ALTER TABLE t ADD COLUMN c ...` of one column: the migration
// runner (and the portability test) skip it when system.columns already
// lists the column (ColumnExists), so a migration runs again cleanly on
// both engines. A statement adding several columns is not recognised
// (TestMigrationsAddOneColumnPerStatement keeps them out).
func AddColumn(stmt string) (table, column string, ok bool) {
	m := addColumnRE.FindStringSubmatch(stmt + " ")
	if m == nil || len(addColumnsRE.FindAllStringIndex(stmt, -1)) != 1 {
		return "", "", false
	}
	return m[1], m[2], true
}

// addColumnsRE finds each ADD COLUMN clause of a statement.
var addColumnsRE = regexp.MustCompile(`(?i)\bADD\s+COLUMN\b`)
