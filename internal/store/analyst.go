package store

import (
	"context"
	"fmt"

	"github.com/phonesignals/phonesignals/queries"
)

// SetupLocalAnalyst creates, or refreshes after a migration, the analyst
// database of the local ClickHouse 18.16 server: one Distributed table
// per analyst object (queries.AnalystObjects) over the view of the same
// name, read through the server's loopback cluster. The server must have
// been started with its analyst user (chserver Config.AnalystDatabase).
func (s *Store) SetupLocalAnalyst(ctx context.Context, analystDB string) error {
	if !identRe.MatchString(analystDB) {
		return fmt.Errorf("analyst database %q: use letters, digits and _ only", analystDB)
	}
	stmts := []string{queries.RenderAnalyst(queries.AnalystDatabase, analystDB, s.cfg.Database, "")}
	for _, obj := range queries.AnalystObjects {
		stmts = append(stmts,
			queries.RenderAnalyst(queries.AnalystDropTable, analystDB, s.cfg.Database, obj),
			queries.RenderAnalyst(queries.AnalystLocalTable, analystDB, s.cfg.Database, obj))
	}
	for _, stmt := range stmts {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("setting up the analyst database %s: %w", analystDB, err)
		}
	}
	return nil
}

// SetupAnalystUser creates the read-only user analyst with password, or
// sets its password again, and grants it SELECT on the analyst objects
// only (queries/analyst/production_user.sql). It needs current ClickHouse
// and a migrating user allowed to manage access: ClickHouse 18.16 keeps
// its users in users.xml.
func (s *Store) SetupAnalystUser(ctx context.Context, password string) error {
	if password == "" {
		return fmt.Errorf("the analyst password is empty: put one in the --analyst-password-file")
	}
	for _, stmt := range queries.SplitStatements(queries.RenderAnalystUser(s.cfg.Database, password)) {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("creating the analyst user (needs ClickHouse with SQL access control, and a migrating user with the ACCESS MANAGEMENT grant; on ClickHouse 18.16 add the user to users.xml instead): %w", err)
		}
	}
	return nil
}
