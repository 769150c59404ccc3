package queries

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"strings"
)

// The analyst's read-only access (README, "Querying ClickHouse").
var (
	// AnalystLocalTable creates one analyst object in the analyst database
	// of the local ClickHouse 18.16 server; fill it with RenderAnalyst.
	//
	//go:embed analyst/local_table.sql
	AnalystLocalTable string
	// AnalystDatabase creates the analyst database of the local 18.16
	// server; fill it with RenderAnalyst.
	//
	//go:embed analyst/database.sql
	AnalystDatabase string
	// AnalystDropTable drops one analyst object of the local server before
	// AnalystLocalTable creates it again; fill it with RenderAnalyst.
	//
	//go:embed analyst/drop_table.sql
	AnalystDropTable string
	// AnalystProductionUser is the script that creates the analyst user on
	// current ClickHouse (CREATE USER, GRANT SELECT); `migrate
	// --analyst-password-file` runs it (18.16 rejects it). Fill it with
	// RenderAnalystUser.
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

// RenderAnalystUser fills AnalystProductionUser with the phonesignals
// database (a configured name, never input) and the SHA-256 of password,
// so the password itself appears in no statement or query log.
func RenderAnalystUser(database, password string) string {
	h := sha256.Sum256([]byte(password))
	return strings.NewReplacer("{database}", database, "{password_sha256}", hex.EncodeToString(h[:])).Replace(AnalystProductionUser)
}
