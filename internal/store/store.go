package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/phonesignals/phonesignals/queries"
)

// ErrNotFound is returned when an org, cycle or employee does not exist.
var ErrNotFound = errors.New("not found")

// Config says where ClickHouse is.
type Config struct {
	// Addr is HOST:PORT of ClickHouse's native protocol. Required.
	Addr string
	// Database is created when missing. Default "phonesignals".
	Database string
	// Username defaults to "default"; Password to empty.
	Username string
	Password string
	// Dial, when set, opens every connection instead of a plain TCP dial
	// to Addr, so a client can follow a server that moved (the CLI's local
	// server). Default: dial Addr.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// DialTimeout defaults to 10s.
	DialTimeout time.Duration
	// TLS, when set, speaks the native protocol over TLS (port 9440,
	// ClickHouse Cloud's only port). Default nil: plain TCP.
	TLS *tls.Config
	// NoCreate skips creating the database, for readers (the Grafana
	// plugin) that may connect as a read-only user; a missing database is
	// then an error naming `phonesignals migrate`. Default false.
	NoCreate bool
	// Cluster, when set, names the remote_servers cluster the store lives
	// on: migrate creates Replicated tables in Database_local ON CLUSTER
	// Cluster and Distributed tables under the usual names in Database,
	// and inserts wait for every shard (insert_distributed_sync). Default
	// empty: one server.
	Cluster string
	// ClusterAll names the cluster listing every node as a shard of its
	// own, for ALTERs on the Distributed tables and views, which 18.16
	// refuses ON CLUSTER Cluster. Default Cluster + "_all".
	ClusterAll string
	// InsertQuorum is, with Cluster, how many replicas of a shard must
	// have an insert before it returns (insert_quorum), so a read through
	// any replica sees every acknowledged row: the refresher, the dirty
	// check, the touched-days lookup and a command right after another
	// (without it, a replica that has not fetched the part yet answers
	// without it). Set it to the replicas per shard; while fewer are up,
	// inserts fail rather than lose that guarantee. Default 2; 1 turns it
	// off.
	InsertQuorum int
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports every problem with the config, each naming its field.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("clickhouse address: empty; pass --clickhouse HOST:PORT or set PHONESIGNALS_CLICKHOUSE"))
	} else if !strings.Contains(c.Addr, ":") {
		errs = append(errs, fmt.Errorf("clickhouse address %q: want HOST:PORT (native protocol, usually 9000)", c.Addr))
	}
	if _, port, err := net.SplitHostPort(c.Addr); err == nil && port == "9440" && c.TLS == nil {
		errs = append(errs, fmt.Errorf("clickhouse address %q: 9440 is ClickHouse's TLS port; add --clickhouse-tls (PHONESIGNALS_CLICKHOUSE_TLS=1)", c.Addr))
	}
	if c.Cluster != "" && !identRe.MatchString(c.Cluster) {
		errs = append(errs, fmt.Errorf("cluster %q: use a remote_servers cluster name (letters, digits and _ only)", c.Cluster))
	}
	if c.ClusterAll != "" && (c.Cluster == "" || !identRe.MatchString(c.ClusterAll)) {
		errs = append(errs, fmt.Errorf("cluster-all %q: set it with --cluster, to a remote_servers cluster name (letters, digits and _ only)", c.ClusterAll))
	}
	if c.InsertQuorum < 0 {
		errs = append(errs, fmt.Errorf("insert quorum %d: use the replicas per shard (0 for 2, 1 for none)", c.InsertQuorum))
	}
	if c.Database != "" && !identRe.MatchString(c.Database) {
		errs = append(errs, fmt.Errorf("database %q: use letters, digits and _ only", c.Database))
	}
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	if c.Database == "" {
		c.Database = "phonesignals"
	}
	if c.Username == "" {
		c.Username = "default"
	}
	if c.Cluster != "" && c.ClusterAll == "" {
		c.ClusterAll = c.Cluster + "_all"
	}
	if c.Cluster != "" && c.InsertQuorum == 0 {
		c.InsertQuorum = 2
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 10 * time.Second
	}
}

// Store is a connection to the phonesignals database.
type Store struct {
	conn driver.Conn
	cfg  Config
}

// Open connects to ClickHouse, creating the database when missing.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	if !cfg.NoCreate {
		boot, err := dial(ctx, cfg, "default")
		if err != nil {
			return nil, err
		}
		err = createDatabase(ctx, boot, cfg)
		boot.Close()
		if err != nil {
			return nil, fmt.Errorf("creating database %s on %s: %w", cfg.Database, cfg.Addr, err)
		}
	}
	conn, err := dial(ctx, cfg, cfg.Database)
	if err != nil {
		if cfg.NoCreate {
			return nil, fmt.Errorf("%w (does database %s exist? run `phonesignals migrate`)", err, cfg.Database)
		}
		return nil, err
	}
	if cfg.Cluster != "" {
		conn = &routedConn{Conn: conn, cfg: cfg}
	}
	return &Store{conn: conn, cfg: cfg}, nil
}

// createDatabase creates the store's database, and on a cluster its
// Replicated tables' database too, on every node.
func createDatabase(ctx context.Context, boot driver.Conn, cfg Config) error {
	if cfg.Cluster == "" {
		return boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+cfg.Database)
	}
	for _, stmt := range cfg.clusterDDL().Databases() {
		if err := boot.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) clusterDDL() *queries.ClusterDDL {
	return &queries.ClusterDDL{Cluster: c.Cluster, AllCluster: c.ClusterAll, Database: c.Database}
}

func dial(ctx context.Context, cfg Config, db string) (driver.Conn, error) {
	return dialAddrs(ctx, cfg, []string{cfg.Addr}, db)
}

// dialAddrs connects to the first of addrs that answers, in order (a
// shard's replicas, on a cluster: route.go).
func dialAddrs(ctx context.Context, cfg Config, addrs []string, db string) (driver.Conn, error) {
	var settings clickhouse.Settings
	if cfg.Cluster != "" {
		// An insert returns once every shard has its rows, so a read
		// after it (schema_migrations, the marks) sees them. The servers'
		// profile must set distributed_product_mode = 'local' (an IN or JOIN
		// over a Distributed table reads the shard's own table: every such
		// subquery matches on org, and one org sits on one shard).
		settings = clickhouse.Settings{"insert_distributed_sync": 1}
		if cfg.InsertQuorum > 1 {
			settings["insert_quorum"] = cfg.InsertQuorum
		}
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Settings:    settings,
		Addr:        addrs,
		Auth:        clickhouse.Auth{Database: db, Username: cfg.Username, Password: cfg.Password},
		DialTimeout: cfg.DialTimeout,
		TLS:         cfg.TLS,
		DialContext: cfg.Dial,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to clickhouse at %s: %w", cfg.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting to clickhouse at %s (%s): %w", cfg.Addr, dialHint(cfg, err), err)
	}
	return conn, nil
}

// dialHint names the likely fix for a failed connection.
func dialHint(cfg Config, err error) string {
	var unknownCA x509.UnknownAuthorityError
	switch {
	case cfg.TLS != nil && errors.As(err, &unknownCA):
		return "the server's certificate is signed by a CA this machine does not trust: pass --clickhouse-ca-file"
	case cfg.TLS != nil:
		return "with --clickhouse-tls the address must be the secure native port, usually 9440"
	case cfg.Password == "" && strings.Contains(err.Error(), "Authentication failed"):
		return "set PHONESIGNALS_CLICKHOUSE_PASSWORD or pass --clickhouse-password-file"
	}
	return "is the server running? `make demo` starts a local one"
}

// Conn is the underlying connection, for the loader.
func (s *Store) Conn() driver.Conn { return s.conn }

// Config is the resolved configuration.
func (s *Store) Config() Config { return s.cfg }

// Close closes the connection.
func (s *Store) Close() error { return s.conn.Close() }

// Migrate applies every migration not yet recorded in schema_migrations, in
// order, and returns the versions it applied. Every statement is idempotent
// (IF NOT EXISTS), so a migration interrupted halfway is simply run again.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	var ddl *queries.ClusterDDL
	if s.cfg.Cluster != "" {
		ddl = s.cfg.clusterDDL()
	}
	apply := func(stmt string) error {
		if ddl == nil {
			return s.applyStatement(ctx, stmt)
		}
		return s.applyClusterStatement(ctx, ddl, stmt)
	}
	if err := apply(queries.SchemaMigrations); err != nil {
		return nil, fmt.Errorf("creating schema_migrations: %w", err)
	}
	var versions []migrationRow
	if err := s.conn.Select(ctx, &versions, queries.MigrationsApplied); err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range versions {
		applied[int(v.Version)] = true
	}
	migs, err := queries.Migrations()
	if err != nil {
		return nil, err
	}
	var done []int
	for _, m := range migs {
		if applied[m.Version] {
			if ddl != nil {
				renderApplied(ddl, m.Statements)
			}
			continue
		}
		for i, stmt := range m.Statements {
			if err := apply(stmt); err != nil {
				return done, fmt.Errorf("applying migration %03d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if err := s.insert(ctx, queries.InsertSchemaMigrations,
			[]any{uint32(m.Version), m.Name, time.Now().UTC()}); err != nil {
			return done, fmt.Errorf("recording migration %03d_%s: %w", m.Version, m.Name, err)
		}
		done = append(done, m.Version)
	}
	return done, nil
}

// renderApplied feeds an applied migration to the renderer without running
// it, so it knows which names later migrations' ALTERs and DROPs mean.
func renderApplied(ddl *queries.ClusterDDL, stmts []string) {
	for _, stmt := range stmts {
		_, _ = ddl.Render(stmt)
	}
}

// applyClusterStatement runs one migration statement rendered for the
// cluster (queries.ClusterDDL). An ADD COLUMN is done when the column
// already exists: 18.16 has no IF NOT EXISTS for it, and a migration
// interrupted between its Replicated and Distributed ALTERs runs again.
func (s *Store) applyClusterStatement(ctx context.Context, ddl *queries.ClusterDDL, stmt string) error {
	stmts, err := ddl.Render(stmt)
	if err != nil {
		return err
	}
	_, _, addColumn := queries.AddColumn(stmt)
	for _, st := range stmts {
		err := s.conn.Exec(ctx, st)
		if err != nil && !(addColumn && strings.Contains(err.Error(), "already exists")) {
			return fmt.Errorf("on cluster %s: %w", s.cfg.Cluster, err)
		}
	}
	return nil
}

// applyStatement runs one migration statement. ClickHouse 18.16 has no
// ADD COLUMN IF NOT EXISTS: an `ALTER TABLE t ADD COLUMN c ...` whose
// column exists is skipped (system.columns), so a migration interrupted
// after it runs again cleanly. One that fails because the column appeared
// meanwhile is done too: several `run` instances started together on a
// new store each migrate it, and one adds the column between another's
// look-up and its ALTER.
func (s *Store) applyStatement(ctx context.Context, stmt string) error {
	table, column, ok := queries.AddColumn(stmt)
	if !ok {
		return s.conn.Exec(ctx, stmt)
	}
	exists := func() (bool, error) {
		var n uint64
		if err := s.conn.QueryRow(ctx, queries.ColumnExists, clickhouse.Named("table", table), clickhouse.Named("column", column)).Scan(&n); err != nil {
			return false, fmt.Errorf("looking up column %s.%s in system.columns: %w", table, column, err)
		}
		return n > 0, nil
	}
	if done, err := exists(); done || err != nil {
		return err
	}
	err := s.conn.Exec(ctx, stmt)
	if err != nil {
		if done, _ := exists(); done {
			return nil
		}
	}
	return err
}

// SchemaVersion is the highest applied migration, 0 when none.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var versions []migrationRow
	if err := s.conn.Select(ctx, &versions, queries.MigrationsApplied); err != nil {
		return 0, fmt.Errorf("reading schema_migrations (run `phonesignals migrate`): %w", err)
	}
	v := 0
	for _, x := range versions {
		v = int(x.Version)
	}
	return v, nil
}

// migrationRow is a row of schema_migrations' applied versions.
type migrationRow struct {
	Version uint32 `ch:"version"`
}

// insert appends rows (each a slice of column values) in one INSERT. The
// tables written here have no PARTITION BY, so the INSERT is one block and
// all rows land or none do; a partitioned table (raw_signals) would split it
// into one block per partition, each applied on its own.
func (s *Store) insert(ctx context.Context, stmt string, rows ...[]any) error {
	batch, err := s.conn.PrepareBatch(ctx, stmt)
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

// version returns a monotonically increasing row version for upserts.
func version() uint64 { return uint64(time.Now().UnixNano()) }
