package queries

import (
	"fmt"
	"regexp"
	"strings"
)

// ClusterDDL renders the single-server migrations for a ClickHouse
// cluster, so the cluster schema is generated from the same files, not
// kept twice. Every table T of database D becomes a Replicated* table
// LocalDatabase().T, created ON CLUSTER Cluster with the ZooKeeper path
// '/clickhouse/tables/{shard}/D/T' and replica '{replica}', plus a
// Distributed(Cluster, D_local, T, cityHash64(org)) table D.T under the
// existing name: every query file keeps reading and writing T unchanged,
// and one org's rows sit on one shard. Views stay views in D, over the
// Distributed tables, and again in D_local over the Replicated tables,
// for the reads of one org that go straight to its shard (the store's
// routing). ALTERs go to the Replicated tables ON CLUSTER
// Cluster (one replica per shard runs them, the others follow through
// ZooKeeper) and to the Distributed tables and views ON CLUSTER
// AllCluster, every node a shard of its own: 18.16 refuses ALTER ON
// CLUSTER on a non-replicated table of a cluster with internal
// replication (code 371). Render statements in migration order: it
// remembers which names are tables.
type ClusterDDL struct {
	// Cluster is the remote_servers cluster of replicated shards.
	Cluster string
	// AllCluster is the cluster listing every node as its own shard.
	AllCluster string
	// Database is the store's database (the Distributed tables and views).
	Database string

	tables map[string]bool
	names  []string // every table and view seen, for qualify
}

// LocalSuffix names the database of the Replicated tables: D + LocalSuffix.
const LocalSuffix = "_local"

// LocalDatabase is the database holding the Replicated tables.
func (r *ClusterDDL) LocalDatabase() string { return r.Database + LocalSuffix }

var (
	createTableRE = regexp.MustCompile(`(?is)^\s*((?:--[^\n]*\n\s*)*)CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\(.*\))\s*ENGINE\s*=\s*(MergeTree|ReplacingMergeTree)\s*(?:\(([^)]*)\))?(.*)$`)
	createViewRE  = regexp.MustCompile(`(?is)^\s*((?:--[^\n]*\n\s*)*)CREATE\s+VIEW\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)\s+(AS\s.*)$`)
	alterRE       = regexp.MustCompile(`(?is)^\s*((?:--[^\n]*\n\s*)*)ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$`)
	dropRE        = regexp.MustCompile(`(?is)^\s*((?:--[^\n]*\n\s*)*)DROP\s+TABLE\s+IF\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)\s*$`)
	insertRE      = regexp.MustCompile(`(?is)^\s*((?:--[^\n]*\n\s*)*)INSERT\s+INTO\s`)
	orgColumnRE   = regexp.MustCompile(`(?m)^\s*\(?\s*org\s+String\b`)
)

// Databases returns the statements creating the cluster's two databases.
func (r *ClusterDDL) Databases() []string {
	return []string{
		fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s ON CLUSTER %s", r.Database, r.Cluster),
		fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s ON CLUSTER %s", r.LocalDatabase(), r.Cluster),
	}
}

// Render returns the cluster statements for one migration statement, or
// an error naming a statement the renderer does not know how to place.
func (r *ClusterDDL) Render(stmt string) ([]string, error) {
	if r.tables == nil {
		r.tables = map[string]bool{}
	}
	if m := createTableRE.FindStringSubmatch(stmt); m != nil {
		return r.createTable(m[2], m[3], m[4], m[5], m[6]), nil
	}
	if m := createViewRE.FindStringSubmatch(stmt); m != nil {
		r.tables[m[2]] = false // a view: ALTERs have no Replicated table
		r.names = append(r.names, m[2])
		// The same view in the local database reads the shard's own
		// tables: an org's reads go there (one org sits on one shard).
		return []string{
			fmt.Sprintf("CREATE VIEW IF NOT EXISTS %s.%s ON CLUSTER %s %s", r.Database, m[2], r.Cluster, r.qualify(m[3], r.Database)),
			fmt.Sprintf("CREATE VIEW IF NOT EXISTS %s.%s ON CLUSTER %s %s", r.LocalDatabase(), m[2], r.Cluster, r.qualify(m[3], r.LocalDatabase())),
		}, nil
	}
	if m := alterRE.FindStringSubmatch(stmt); m != nil {
		return r.alter(m[2], m[3]), nil
	}
	if m := dropRE.FindStringSubmatch(stmt); m != nil {
		out := []string{fmt.Sprintf("DROP TABLE IF EXISTS %s.%s ON CLUSTER %s", r.Database, m[2], r.Cluster)}
		// The local table or view of the same name goes too.
		out = append(out, fmt.Sprintf("DROP TABLE IF EXISTS %s.%s ON CLUSTER %s", r.LocalDatabase(), m[2], r.Cluster))
		delete(r.tables, m[2])
		return out, nil
	}
	if insertRE.MatchString(stmt) {
		return []string{stmt}, nil // through the Distributed tables, as any write
	}
	return nil, fmt.Errorf("cluster migrations: no rule for statement %q: add one to queries.ClusterDDL.Render", firstLine(stmt))
}

// qualify prefixes the database to every table or view a view reads: the
// distributed DDL worker runs the CREATE VIEW in its default database, where
// the unqualified names do not exist.
func (r *ClusterDDL) qualify(body, db string) string {
	for _, n := range r.names {
		re := regexp.MustCompile(`(?i)\b(FROM|JOIN)(\s+)` + n + `\b`)
		body = re.ReplaceAllString(body, "${1}${2}"+db+"."+n)
	}
	return body
}

func (r *ClusterDDL) createTable(name, columns, engine, args, rest string) []string {
	r.tables[name] = true
	r.names = append(r.names, name)
	params := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", r.Database, name)
	if strings.TrimSpace(args) != "" {
		params += ", " + strings.TrimSpace(args)
	}
	// Tables without an org (schema_migrations) all sit on the first shard.
	key := "0"
	if orgColumnRE.MatchString(columns) {
		key = "cityHash64(org)"
	}
	return []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s %s ENGINE = Replicated%s(%s)%s",
			r.LocalDatabase(), name, r.Cluster, columns, engine, params, "\n"+strings.Trim(rest, " \n\t;")),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s AS %s.%s ENGINE = Distributed(%s, %s, %s, %s)",
			r.Database, name, r.Cluster, r.LocalDatabase(), name, r.Cluster, r.LocalDatabase(), name, key),
	}
}

var commentColumnRE = regexp.MustCompile(`(?i)^COMMENT\s+COLUMN\b`)

func (r *ClusterDDL) alter(name, action string) []string {
	if commentColumnRE.MatchString(action) {
		// 18.16 runs no COMMENT COLUMN ON CLUSTER (code 48): column
		// comments are documentation, so a cluster store goes without.
		return nil
	}
	var out []string
	if r.tables[name] {
		out = append(out, fmt.Sprintf("ALTER TABLE %s.%s ON CLUSTER %s %s", r.LocalDatabase(), name, r.Cluster, action))
	}
	return append(out, fmt.Sprintf("ALTER TABLE %s.%s ON CLUSTER %s %s", r.Database, name, r.AllCluster, action))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
