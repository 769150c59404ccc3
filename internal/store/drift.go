package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
)

// Drift is one difference between the live schema and the one the
// migrations create.
type Drift struct {
	// Table is the table or view.
	Table string
	// Column is empty when the whole table is missing.
	Column string
	// Want is the type the migrations give the column ("" for a column
	// they do not create); Have is the live type ("" when missing).
	Want, Have string
}

func (d Drift) String() string {
	switch {
	case d.Column == "":
		return fmt.Sprintf("table %s is missing", d.Table)
	case d.Have == "":
		return fmt.Sprintf("column %s.%s (%s) is missing", d.Table, d.Column, d.Want)
	case d.Want == "":
		return fmt.Sprintf("column %s.%s (%s) is not in the expected schema", d.Table, d.Column, d.Have)
	}
	return fmt.Sprintf("column %s.%s is %s, want %s", d.Table, d.Column, d.Have, d.Want)
}

// Fix is the statement that brings the live table back to the expected
// schema, "" when only a person can tell (a missing table: re-create it).
func (d Drift) Fix() string {
	switch {
	case d.Column == "":
		return ""
	case d.Have == "":
		return fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", d.Table, d.Column, d.Want)
	case d.Want == "":
		return fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", d.Table, d.Column)
	}
	return fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s %s", d.Table, d.Column, d.Want)
}

// SchemaDrift compares the live tables and views with the schema the
// migrations create, built for the comparison in a scratch database on the
// same server (so the server's own spelling of every type is compared) and
// dropped afterwards. Changes made behind the migrations' back, such as a
// column retyped by hand, show up here while schema_migrations still says
// the schema is up to date.
func (s *Store) SchemaDrift(ctx context.Context) ([]Drift, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	scratch := s.cfg.Database + "_expected_" + hex.EncodeToString(b)
	if err := s.conn.Exec(ctx, "CREATE DATABASE "+scratch); err != nil {
		return nil, fmt.Errorf("creating the scratch database %s to compare schemas (needs CREATE DATABASE): %w", scratch, err)
	}
	defer func() {
		_ = s.conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+scratch)
	}()
	cfg := s.cfg
	cfg.Database = scratch
	cfg.NoCreate = true
	// On a cluster the expected schema is built on this node alone, as one
	// server: a Distributed table has its local table's columns, so the
	// columns compare the same, and nothing is left in ZooKeeper.
	cfg.Cluster, cfg.ClusterAll = "", ""
	exp, err := Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening the scratch database %s: %w", scratch, err)
	}
	defer exp.Close()
	if _, err := exp.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("building the expected schema in %s: %w", scratch, err)
	}
	want, err := s.columns(ctx, scratch)
	if err != nil {
		return nil, err
	}
	have, err := s.columns(ctx, s.cfg.Database)
	if err != nil {
		return nil, err
	}
	return diffColumns(want, have), nil
}

// columns maps table -> column -> type in db.
func (s *Store) columns(ctx context.Context, db string) (map[string]map[string]string, error) {
	var rows []struct {
		Table  string `ch:"table"`
		Column string `ch:"name"`
		Type   string `ch:"type"`
	}
	if err := s.conn.Select(ctx, &rows, "SELECT table, name, type FROM system.columns WHERE database = ?", db); err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", db, err)
	}
	out := map[string]map[string]string{}
	for _, r := range rows {
		if out[r.Table] == nil {
			out[r.Table] = map[string]string{}
		}
		out[r.Table][r.Column] = r.Type
	}
	return out, nil
}

func diffColumns(want, have map[string]map[string]string) []Drift {
	var out []Drift
	for t, cols := range want {
		live, ok := have[t]
		if !ok {
			out = append(out, Drift{Table: t})
			continue
		}
		for c, typ := range cols {
			if h := live[c]; h != typ {
				out = append(out, Drift{Table: t, Column: c, Want: typ, Have: h})
			}
		}
		for c, typ := range live {
			if _, ok := cols[c]; !ok {
				out = append(out, Drift{Table: t, Column: c, Have: typ})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Column < out[j].Column
	})
	return out
}
