package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// env resolves the global flags into live resources, starting the local
// ClickHouse server and the embedded broker when no address is given.
type env struct {
	c       *cli.Context
	dataDir string
	st      *store.Store
	// embedded is set when this process runs the embedded broker.
	embedded *bus.Shared
	busCfg   bus.Config
	// sealBox is the verified master-key box, once resolved.
	sealBox *secret.Box
	closers []func()
}

func newEnv(c *cli.Context) *env {
	return &env{c: c, dataDir: c.String("data-dir")}
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// clickhouseConfig says how to reach ClickHouse: --clickhouse, or the
// local server under the data dir (started or reused) with its password.
// The local server keeps running after the command so it can be queried;
// `phonesignals demo` and `clickhouse status` print how.
func (e *env) clickhouseConfig(ctx context.Context) (store.Config, error) {
	if a := e.c.String("clickhouse"); a != "" {
		// A server of the operator's: user, password and TLS from flags.
		return storeConfig(e.c, a)
	}
	if err := ownerOnlyDir(e.dataDir); err != nil {
		return store.Config{Database: e.c.String("database")}, err
	}
	dir := filepath.Join(e.dataDir, "clickhouse")
	srv, err := chserver.Ensure(ctx, chserver.Config{Dir: dir, Install: true})
	if err != nil {
		return store.Config{}, fmt.Errorf("starting the local ClickHouse server (or pass --clickhouse HOST:PORT): %w", err)
	}
	return e.localConfig(srv, dir), nil
}

// runningClickhouse is clickhouseConfig for commands that only read: the
// local server must already run (it is never installed or started).
func (e *env) runningClickhouse(ctx context.Context) (store.Config, error) {
	if a := e.c.String("clickhouse"); a != "" {
		return storeConfig(e.c, a)
	}
	dir := filepath.Join(e.dataDir, "clickhouse")
	srv, err := chserver.Lookup(ctx, dir)
	if err != nil {
		return store.Config{}, fmt.Errorf("no local ClickHouse server runs under %s (%v): start it with `phonesignals clickhouse start` (or `phonesignals migrate` on a new data dir), or pass --clickhouse HOST:PORT", dir, err)
	}
	return e.localConfig(srv, dir), nil
}

// localConfig reaches the local server srv of dir.
func (e *env) localConfig(srv *chserver.Server, dir string) store.Config {
	cfg := store.Config{Database: e.c.String("database")}
	cfg.Addr, cfg.Username, cfg.Password = srv.Addr(), srv.User(), srv.Password()
	// Every new connection dials where the local server is now: after a
	// `clickhouse stop` and `start` (on other ports if its own were
	// taken), long-running commands reconnect by themselves.
	cfg.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
		if now, err := chserver.CurrentAddr(dir); err == nil {
			addr = now
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	return cfg
}

// ownerOnlyDir creates the data dir, or restricts an existing one, to its
// owner: it holds the master key, the ClickHouse password and data.
func ownerOnlyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the data dir %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restricting the data dir %s to its owner: %w", dir, err)
	}
	return nil
}

// store opens ClickHouse and applies pending migrations, so every command
// works on a fresh database.
func (e *env) store(ctx context.Context) (*store.Store, error) {
	if e.st != nil {
		return e.st, nil
	}
	cfg, err := e.clickhouseConfig(ctx)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	e.st = st
	e.closers = append(e.closers, func() { st.Close() })
	return st, nil
}

// bus returns the Kafka config, starting the embedded broker when no
// --brokers are given, and makes sure the topics exist.
func (e *env) bus(ctx context.Context) (bus.Config, error) {
	if len(e.busCfg.Brokers) > 0 {
		return e.busCfg, nil
	}
	var cfg bus.Config
	if b := e.c.String("brokers"); b != "" {
		for _, s := range strings.Split(b, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.Brokers = append(cfg.Brokers, s)
			}
		}
		if err := kafkaSecurity(e.c, &cfg); err != nil {
			return cfg, err
		}
	} else {
		limitEmbeddedMemory()
		sh, err := bus.OpenShared(ctx, e.dataDir, 0)
		if err != nil {
			return cfg, fmt.Errorf("embedded kafka broker under %s: %w", e.dataDir, err)
		}
		if sh.Owned {
			e.embedded = sh
		}
		e.closers = append(e.closers, sh.Close)
		cfg = sh.Config
		slog.Debug("embedded kafka broker", "addrs", cfg.Brokers, "owned", sh.Owned, "data_dir", e.dataDir)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	if err := bus.EnsureTopics(ctx, cfg); err != nil {
		return cfg, err
	}
	e.busCfg = cfg
	return cfg, nil
}

// box returns the master-key box: $PHONESIGNALS_MASTER_KEY, else
// --master-key-file, else DATA-DIR/master.key when it exists. The key is
// checked against the key check value stored by its first use on the
// database (stored now if there is none), so a wrong key stops the command
// with exit code 2 before it opens or seals anything.
func (e *env) box(ctx context.Context) (*secret.Box, error) {
	if e.sealBox != nil {
		return e.sealBox, nil
	}
	f := e.c.String("master-key-file")
	if f == "" {
		def := filepath.Join(e.dataDir, "master.key")
		if _, err := os.Stat(def); err == nil {
			f = def
		}
	}
	box, err := secret.FromEnv(f)
	if err != nil {
		return nil, err
	}
	st, err := e.store(ctx)
	if err != nil {
		return nil, err
	}
	if err := st.VerifyKeyCheck(ctx, box.Check(), func(ctx context.Context) error { return probeSealed(ctx, st, box) }); err != nil {
		if errors.Is(err, store.ErrKeyMismatch) {
			return nil, cli.Exit(err.Error(), 2)
		}
		return nil, err
	}
	e.sealBox = box
	return box, nil
}

// probeSealed opens the stored credentials of the first org that has some:
// on a database set up before key checks existed, the first key checked
// must be the one they were sealed with.
func probeSealed(ctx context.Context, st *store.Store, box *secret.Box) error {
	names, err := st.ListOrgs(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		o, err := st.GetOrg(ctx, n)
		if err != nil || o.Credentials == "" {
			continue
		}
		if _, err := orgs.OpenCredentials(box, o); err != nil {
			return fmt.Errorf("the stored credentials of org %s do not open with it", n)
		}
		return nil
	}
	return nil
}

// requireFlag returns the flag's value or an error naming it.
func requireFlag(c *cli.Context, name string) (string, error) {
	v := strings.TrimSpace(c.String(name))
	if v == "" {
		return "", fmt.Errorf("--%s is required", name)
	}
	return v, nil
}

// readStore opens the store for a command that only reads: it never
// creates a database, migrates, or installs or starts a server; a store
// that is missing or behind fails naming `phonesignals migrate`.
func (e *env) readStore(ctx context.Context) (*store.Store, error) {
	if e.st != nil {
		return e.st, nil
	}
	cfg, err := e.runningClickhouse(ctx)
	if err != nil {
		return nil, err
	}
	cfg.NoCreate = true
	st, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := st.RequireMigrated(ctx); err != nil {
		st.Close()
		return nil, err
	}
	e.st = st
	e.closers = append(e.closers, func() { st.Close() })
	return st, nil
}

// readAction is storeAction for commands that only read (readStore).
func readAction(fn func(c *cli.Context, e *env, st *store.Store) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		e := newEnv(c)
		defer e.close()
		st, err := e.readStore(c.Context)
		if err != nil {
			return err
		}
		return fn(c, e, st)
	}
}

// storeAction runs fn with the env and its migrated store, closing both
// (and the local servers' clients) afterwards.
func storeAction(fn func(c *cli.Context, e *env, st *store.Store) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		e := newEnv(c)
		defer e.close()
		st, err := e.store(c.Context)
		if err != nil {
			return err
		}
		return fn(c, e, st)
	}
}

// pipeline resolves what every stage that touches Kafka needs: the master
// key (bodies on the raw topic are sealed), the migrated store, and the
// broker with its topics.
func (e *env) pipeline(ctx context.Context) (*secret.Box, *store.Store, bus.Config, error) {
	box, err := e.box(ctx)
	if err != nil {
		return nil, nil, bus.Config{}, err
	}
	st, err := e.store(ctx)
	if err != nil {
		return nil, nil, bus.Config{}, err
	}
	bcfg, err := e.bus(ctx)
	if err != nil {
		return nil, nil, bus.Config{}, err
	}
	return box, st, bcfg, nil
}

// embeddedMemoryLimit is the soft Go heap limit of a process that may own
// the embedded broker: kfake reads every segment of its data dir when it
// starts, and without a limit the garbage collector lets those reads pile
// up to about the data dir's size (a 409 MB dir peaked at 453 MB; with the
// limit and 16 MiB segments, 251 MB).
const embeddedMemoryLimit = 256 << 20

// limitEmbeddedMemory sets embeddedMemoryLimit unless a lower limit is set
// (run sets its own).
func limitEmbeddedMemory() {
	if cur := debug.SetMemoryLimit(-1); cur > embeddedMemoryLimit {
		debug.SetMemoryLimit(embeddedMemoryLimit)
	}
}
