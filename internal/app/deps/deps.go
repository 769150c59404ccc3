package deps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/platform/tlsconf"
	"github.com/phonesignals/phonesignals/internal/store"
)

// Environment variables holding passwords. Passwords never come from a
// flag value: argv is readable by every user of the machine (ps).
const (
	// EnvClickHousePassword holds the password of --clickhouse's user.
	EnvClickHousePassword = "PHONESIGNALS_CLICKHOUSE_PASSWORD"
	// EnvKafkaPassword holds the Kafka SASL password.
	EnvKafkaPassword = "PHONESIGNALS_KAFKA_PASSWORD"
)

// Config is the global flags, read as they are; nothing is opened or
// checked until a resource is asked for, so a command fails on a bad flag
// only when it uses what the flag is for.
type Config struct {
	// DataDir holds the embedded broker, the local ClickHouse server and
	// the default master key file. Required.
	DataDir string
	// Database is the ClickHouse database. Required.
	Database string
	// ClickHouse is a server of the operator's, HOST:PORT; "" starts (or
	// reuses) the local server under DataDir.
	ClickHouse string
	// Cluster names the ClickHouse cluster of a remote store (store.Config.Cluster);
	// "" for one server. The local server is never a cluster.
	Cluster string
	// ClickHouseUser is the user on the ClickHouse server; "" for default.
	ClickHouseUser string
	// ClickHousePasswordFile holds the password; "" reads
	// EnvClickHousePassword.
	ClickHousePasswordFile string
	// ClickHouseTLS speaks the native protocol over TLS. Default off
	// (on when ClickHouseCAFile is set).
	ClickHouseTLS bool
	// ClickHouseCAFile is a PEM file of a private CA to trust; "" for the
	// system roots only.
	ClickHouseCAFile string
	// Brokers are the Kafka brokers, comma separated HOST:PORT,...; ""
	// starts (or joins) the embedded broker under DataDir.
	Brokers string
	// KafkaTLS dials the brokers over TLS. Default off (on when
	// KafkaCAFile is set).
	KafkaTLS bool
	// KafkaCAFile is a PEM file of a private CA to trust for Kafka.
	KafkaCAFile string
	// KafkaSASLMechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; "" for
	// no SASL.
	KafkaSASLMechanism string
	// KafkaUser is the SASL user.
	KafkaUser string
	// KafkaPasswordFile holds the SASL password; "" reads EnvKafkaPassword.
	KafkaPasswordFile string
	// MasterKeyFile holds the master key when secret.EnvKey is unset; ""
	// for DataDir/master.key when it exists.
	MasterKeyFile string
}

// Deps holds the resources of one command, each opened on first use and
// closed by Close in the reverse order.
type Deps struct {
	cfg Config
	st  *store.Store
	// embedded is set when this process runs the embedded broker.
	embedded *bus.Shared
	busCfg   bus.Config
	// sealBox is the verified master-key box, once resolved.
	sealBox *secret.Box
	// local is the local ClickHouse server, once ensured.
	local   *chserver.Server
	closers []func()
}

// New returns the Deps of cfg; nothing is opened yet.
func New(cfg Config) *Deps { return &Deps{cfg: cfg} }

// DataDir is Config.DataDir.
func (d *Deps) DataDir() string { return d.cfg.DataDir }

// Embedded says this process runs the embedded broker (known once Bus
// was called).
func (d *Deps) Embedded() bool { return d.embedded != nil }

// Close closes everything opened, last opened first.
func (d *Deps) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}

// ClickHouseConfig says how to reach ClickHouse: Config.ClickHouse, or the
// local server under the data dir (started or reused) with its password.
// The local server keeps running after the command so it can be queried;
// the demo and `clickhouse status` print how.
func (d *Deps) ClickHouseConfig(ctx context.Context) (store.Config, error) {
	if d.cfg.ClickHouse != "" {
		// A server of the operator's: user, password and TLS from flags.
		return d.remoteConfig()
	}
	if d.cfg.Cluster != "" {
		return store.Config{}, fmt.Errorf("--cluster %s names a cluster of servers: pass one of its nodes with --clickhouse HOST:PORT (the local server is one node)", d.cfg.Cluster)
	}
	if err := ownerOnlyDir(d.cfg.DataDir); err != nil {
		return store.Config{Database: d.cfg.Database}, err
	}
	dir := filepath.Join(d.cfg.DataDir, "clickhouse")
	srv, err := chserver.Ensure(ctx, chserver.Config{Dir: dir, Install: true, AnalystDatabase: d.AnalystDatabase()})
	if err != nil {
		return store.Config{}, fmt.Errorf("starting the local ClickHouse server (or pass --clickhouse HOST:PORT): %w", err)
	}
	d.local = srv
	return d.localConfig(srv, dir), nil
}

// AnalystDatabase is the database of the local server's read-only analyst
// user: the phonesignals database's name plus "_analyst"
// ("phonesignals_analyst"). "" with Config.ClickHouse, where the analyst
// reads the phonesignals database itself, through grants.
func (d *Deps) AnalystDatabase() string {
	if d.cfg.ClickHouse != "" {
		return ""
	}
	return cmp.Or(d.cfg.Database, "phonesignals") + "_analyst"
}

// LocalServer is the local ClickHouse server ClickHouseConfig ensured;
// nil before, and with Config.ClickHouse.
func (d *Deps) LocalServer() *chserver.Server { return d.local }

// RunningClickHouse is ClickHouseConfig for commands that only read: the
// local server must already run (it is never installed or started).
func (d *Deps) RunningClickHouse(ctx context.Context) (store.Config, error) {
	if d.cfg.ClickHouse != "" {
		return d.remoteConfig()
	}
	dir := filepath.Join(d.cfg.DataDir, "clickhouse")
	srv, err := chserver.Lookup(ctx, dir)
	if err != nil {
		return store.Config{}, fmt.Errorf("no local ClickHouse server runs under %s (%v): start it with `phonesignals clickhouse start` (or `phonesignals migrate` on a new data dir), or pass --clickhouse HOST:PORT", dir, err)
	}
	return d.localConfig(srv, dir), nil
}

// remoteConfig is the store config of Config.ClickHouse with the TLS and
// credential settings applied.
func (d *Deps) remoteConfig() (store.Config, error) {
	cfg := store.Config{Addr: d.cfg.ClickHouse, Database: d.cfg.Database, Username: d.cfg.ClickHouseUser, Cluster: d.cfg.Cluster}
	pw, err := tlsconf.Secret(EnvClickHousePassword, d.cfg.ClickHousePasswordFile)
	if err != nil {
		return cfg, fmt.Errorf("clickhouse password: %w", err)
	}
	cfg.Password = pw
	if d.cfg.ClickHouseTLS || d.cfg.ClickHouseCAFile != "" {
		if cfg.TLS, err = tlsconf.Client(d.cfg.ClickHouseCAFile); err != nil {
			return cfg, fmt.Errorf("--clickhouse-ca-file: %w", err)
		}
	}
	return cfg, nil
}

// localConfig reaches the local server srv of dir.
func (d *Deps) localConfig(srv *chserver.Server, dir string) store.Config {
	cfg := store.Config{Database: d.cfg.Database}
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

// Store opens ClickHouse and applies pending migrations, so every command
// works on a fresh database.
func (d *Deps) Store(ctx context.Context) (*store.Store, error) {
	if d.st != nil {
		return d.st, nil
	}
	cfg, err := d.ClickHouseConfig(ctx)
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
	d.keep(st)
	return st, nil
}

// ReadStore opens the store for a command that only reads: it never
// creates a database, migrates, or installs or starts a server; a store
// that is missing or behind fails naming `phonesignals migrate`.
func (d *Deps) ReadStore(ctx context.Context) (*store.Store, error) {
	if d.st != nil {
		return d.st, nil
	}
	cfg, err := d.RunningClickHouse(ctx)
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
	d.keep(st)
	return st, nil
}

func (d *Deps) keep(st *store.Store) {
	d.st = st
	d.closers = append(d.closers, func() { st.Close() })
}

// Bus returns the Kafka config, starting the embedded broker when no
// brokers are given, and makes sure the topics exist.
func (d *Deps) Bus(ctx context.Context) (bus.Config, error) {
	if len(d.busCfg.Brokers) > 0 {
		return d.busCfg, nil
	}
	var cfg bus.Config
	if d.cfg.Brokers != "" {
		for _, s := range strings.Split(d.cfg.Brokers, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.Brokers = append(cfg.Brokers, s)
			}
		}
		if err := d.kafkaSecurity(&cfg); err != nil {
			return cfg, err
		}
	} else {
		LimitEmbeddedMemory()
		sh, err := bus.OpenShared(ctx, d.cfg.DataDir, 0)
		if err != nil {
			return cfg, fmt.Errorf("embedded kafka broker under %s: %w", d.cfg.DataDir, err)
		}
		if sh.Owned {
			d.embedded = sh
		}
		d.closers = append(d.closers, sh.Close)
		cfg = sh.Config
		slog.Debug("embedded kafka broker", "addrs", cfg.Brokers, "owned", sh.Owned, "data_dir", d.cfg.DataDir)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	if err := bus.EnsureTopics(ctx, cfg); err != nil {
		return cfg, err
	}
	d.busCfg = cfg
	return cfg, nil
}

// kafkaSecurity applies the Kafka TLS and SASL settings to cfg.
func (d *Deps) kafkaSecurity(cfg *bus.Config) error {
	if d.cfg.KafkaTLS || d.cfg.KafkaCAFile != "" {
		t, err := tlsconf.Client(d.cfg.KafkaCAFile)
		if err != nil {
			return fmt.Errorf("--kafka-ca-file: %w", err)
		}
		cfg.TLS = t
	}
	if m := strings.TrimSpace(d.cfg.KafkaSASLMechanism); m != "" {
		pw, err := tlsconf.Secret(EnvKafkaPassword, d.cfg.KafkaPasswordFile)
		if err != nil {
			return fmt.Errorf("kafka password: %w", err)
		}
		cfg.SASL = bus.SASL{Mechanism: m, User: d.cfg.KafkaUser, Password: pw}
	}
	return nil
}

// Box returns the master-key box: $PHONESIGNALS_MASTER_KEY, else
// Config.MasterKeyFile, else DATA-DIR/master.key when it exists. The key
// is checked against the key check value stored by its first use on the
// database (stored now if there is none), so a wrong key stops the command
// with store.ErrKeyMismatch before it opens or seals anything. It opens
// the migrated store (Store) to check it.
func (d *Deps) Box(ctx context.Context) (*secret.Box, error) {
	return d.verifiedBox(ctx, d.Store)
}

// BoxOn is Box checked on st, a store already open: a command that only
// reads passes its ReadStore, so resolving the key never migrates.
func (d *Deps) BoxOn(ctx context.Context, st *store.Store) (*secret.Box, error) {
	return d.verifiedBox(ctx, func(context.Context) (*store.Store, error) { return st, nil })
}

// verifiedBox reads the key, then opens the store with open and checks
// the key on it (in that order: a missing key is reported first).
func (d *Deps) verifiedBox(ctx context.Context, open func(context.Context) (*store.Store, error)) (*secret.Box, error) {
	if d.sealBox != nil {
		return d.sealBox, nil
	}
	box, err := secret.FromEnv(secret.KeyFile(d.cfg.MasterKeyFile, d.cfg.DataDir))
	if err != nil {
		return nil, err
	}
	st, err := open(ctx)
	if err != nil {
		return nil, err
	}
	if err := orgs.VerifyKey(ctx, st, box); err != nil {
		return nil, err
	}
	d.sealBox = box
	return box, nil
}

// Pipeline resolves what every stage that touches Kafka needs: the master
// key (bodies on the raw topic are sealed), the migrated store, and the
// broker with its topics.
func (d *Deps) Pipeline(ctx context.Context) (*secret.Box, *store.Store, bus.Config, error) {
	box, err := d.Box(ctx)
	if err != nil {
		return nil, nil, bus.Config{}, err
	}
	st, err := d.Store(ctx)
	if err != nil {
		return nil, nil, bus.Config{}, err
	}
	bcfg, err := d.Bus(ctx)
	if err != nil {
		return nil, nil, bus.Config{}, err
	}
	return box, st, bcfg, nil
}

// IsKeyMismatch says err is the wrong-master-key error of Box (the CLI
// exits 2 on it).
func IsKeyMismatch(err error) bool { return errors.Is(err, store.ErrKeyMismatch) }

// embeddedMemoryLimit is the soft Go heap limit of a process that may own
// the embedded broker: kfake reads every segment of its data dir when it
// starts, and without a limit the garbage collector lets those reads pile
// up to about the data dir's size (a 409 MB dir peaked at 453 MB; with the
// limit and 16 MiB segments, 251 MB).
const embeddedMemoryLimit = 256 << 20

// LimitEmbeddedMemory sets embeddedMemoryLimit unless a lower limit is set
// (run sets its own).
func LimitEmbeddedMemory() {
	if cur := debug.SetMemoryLimit(-1); cur > embeddedMemoryLimit {
		debug.SetMemoryLimit(embeddedMemoryLimit)
	}
}
