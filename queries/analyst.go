package queries

import (
	_ "embed"
	"strings"
)

// The analyst's read-only access (README, "Querying ClickHouse").
var (
	// AnalystLocalTable creates one analyst object in the analyst database
	// of the local ClickHouse 18.16 server; fill it with RenderAnalyst.
	//
	//go:embed analyst/local_table.sql
	AnalystLocalTable string
	// AnalystProductionUser is the script that creates the analyst user on
	// current ClickHouse (CREATE USER, GRANT SELECT); an admin runs it,
	// migrate does not (18.16 rejects it).
	//
	//go:embed analyst/production_user.sql
	AnalystProductionUser string
)

// AnalystObjects are the views an analyst reads, one per grain, exact as
// written (migrations 015 and 016): per call, per user and day, per
// employee and cycle, per cohort and cycle, and the current roster and
// cycles. production_user.sql grants these and docs/schema.md documents
// them.
var AnalystObjects = []string{
	"call_metrics",
	"user_day_current",
	"employee_cycle_metrics",
	"cohort_cycle_baselines",
	"cohort_cycle_baselines_published",
	"employees_current",
	"cycles_current",
}

// RenderAnalyst fills AnalystLocalTable's {analyst}, {database} and
// {object} markers with the analyst database, the phonesignals database
// and one of AnalystObjects: configured names, never input.
func RenderAnalyst(stmt, analyst, database, object string) string {
	return strings.NewReplacer("{analyst}", analyst, "{database}", database, "{object}", object).Replace(stmt)
}
