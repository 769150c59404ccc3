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
		err = boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+cfg.Database)
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
	return &Store{conn: conn, cfg: cfg}, nil
}

func dial(ctx context.Context, cfg Config, db string) (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{cfg.Addr},
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
	if err := s.conn.Exec(ctx, queries.SchemaMigrations); err != nil {
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
			continue
		}
		for i, stmt := range m.Statements {
			if err := s.applyStatement(ctx, stmt); err != nil {
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
