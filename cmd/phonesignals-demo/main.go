package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/internal/app/deps"
	"github.com/phonesignals/phonesignals/internal/app/syncjob"
	"github.com/phonesignals/phonesignals/internal/app/transformjob"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/demo"
	"github.com/phonesignals/phonesignals/transform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "phonesignals-demo:", err)
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:           "phonesignals-demo",
		ExitErrHandler: func(*cli.Context, error) {},
		Usage:          "run the whole pipeline on simulated Aircall and RingCentral orgs, end to end",
		Description: "Starts (or reuses) a local ClickHouse and the embedded Kafka broker under --data-dir, serves a\n" +
			"generated Aircall org and RingCentral org over HTTP, syncs, transforms and loads everything, checks\n" +
			"every review number against an independent computation, and prints reviews and a summary.\n" +
			"Safe to run again: the same calls load again and still count once.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "clickhouse", EnvVars: []string{"PHONESIGNALS_CLICKHOUSE"}, Usage: "ClickHouse native address `HOST:PORT` (default: a local server under --data-dir)"},
			&cli.StringFlag{Name: "database", EnvVars: []string{"PHONESIGNALS_DATABASE"}, Value: "phonesignals", Usage: "ClickHouse database"},
			&cli.StringFlag{Name: "brokers", EnvVars: []string{"PHONESIGNALS_BROKERS"}, Usage: "Kafka brokers, comma separated `HOST:PORT,...` (default: the embedded broker under --data-dir)"},
			&cli.StringFlag{Name: "data-dir", EnvVars: []string{"PHONESIGNALS_DATA_DIR"}, Value: ".phonesignals", Usage: "where the embedded broker, the local ClickHouse and the demo keep their data"},
			&cli.StringFlag{Name: "master-key-file", EnvVars: []string{"PHONESIGNALS_MASTER_KEY_FILE"}, Usage: "file holding the master key when PHONESIGNALS_MASTER_KEY is unset (default: DATA-DIR/master.key, created when missing)"},
			&cli.StringFlag{Name: "log-level", EnvVars: []string{"PHONESIGNALS_LOG_LEVEL"}, Value: "info", Usage: "debug, info, warn or error"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "generation seed"},
		},
		Before: setupLogging,
		Action: runDemo,
	}
}

// setupLogging installs the text logger at --log-level on stderr.
func setupLogging(c *cli.Context) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	h, err := obs.NewLogHandler(os.Stderr, "text", lvl)
	if err != nil {
		return err
	}
	slog.SetDefault(slog.New(h))
	return nil
}

// runDemo wires the demo to the same code paths as the commands: the
// store and broker of deps, `sync`'s recorded jobs and `run --until-idle`.
func runDemo(c *cli.Context) error {
	d := deps.New(deps.Config{
		DataDir: c.String("data-dir"), Database: c.String("database"), ClickHouse: c.String("clickhouse"),
		Brokers: c.String("brokers"), MasterKeyFile: c.String("master-key-file"),
	})
	defer d.Close()
	if os.Getenv(secret.EnvKey) == "" && c.String("master-key-file") == "" {
		if err := secret.EnsureKeyFile(filepath.Join(d.DataDir(), "master.key")); err != nil {
			return err
		}
	}
	box, err := d.Box(c.Context)
	if deps.IsKeyMismatch(err) {
		return cli.Exit(err.Error(), 2)
	}
	if err != nil {
		return err
	}
	reg := providers.Registry()
	return demo.Run(c.Context, demo.Config{
		Box: box, Providers: reg, DataDir: d.DataDir(), Seed: c.Int64("seed"),
		Open: func(ctx context.Context) (demo.Env, error) {
			st, err := d.Store(ctx)
			if err != nil {
				return demo.Env{}, err
			}
			bcfg, err := d.Bus(ctx)
			return demo.Env{Store: st, Bus: bcfg, Embedded: d.Embedded()}, err
		},
		Sync: func(ctx context.Context, st *store.Store, src ingest.Source, o store.Org, w ingest.Window, sink ingest.Sink) error {
			cfg := syncjob.Config{Store: st, Source: src, Org: o, Window: w, Restart: true, Sink: sink}
			return syncjob.RunReported(ctx, cfg, os.Stdout, os.Stderr)
		},
		Transform: func(ctx context.Context, env demo.Env) (transform.Stats, error) {
			return transformjob.Run(ctx, transformjob.Config{Providers: reg, Bus: env.Bus, Box: box, Store: env.Store,
				MaxBatch: transform.DefaultMaxBatch, UntilIdle: true})
		},
	})
}
