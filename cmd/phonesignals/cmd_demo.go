package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/app/syncjob"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/demo"
	"github.com/phonesignals/phonesignals/transform"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run the whole pipeline on simulated Aircall and RingCentral orgs, end to end",
		Description: "Starts (or reuses) a local ClickHouse and the embedded Kafka broker under --data-dir, serves a\n" +
			"generated Aircall org and RingCentral org over HTTP, syncs, transforms and loads everything, checks\n" +
			"every review number against an independent computation, and prints reviews and a summary.\n" +
			"Safe to run again: the same calls load again and still count once.",
		Flags: []cli.Flag{
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "generation seed"},
		},
		Action: runDemo,
	}
}

// runDemo wires the demo to the same code paths as the commands: the env's
// store and broker, `sync`'s recorded jobs and `run --until-idle`.
func runDemo(c *cli.Context) error {
	e := newEnv(c)
	defer e.close()
	if os.Getenv(secret.EnvKey) == "" && c.String("master-key-file") == "" {
		if err := secret.EnsureKeyFile(filepath.Join(e.dataDir, "master.key")); err != nil {
			return err
		}
	}
	box, err := e.box(c.Context)
	if err != nil {
		return err
	}
	reg := providersOf(c)
	return demo.Run(c.Context, demo.Config{
		Box: box, Providers: reg, DataDir: e.dataDir, Seed: c.Int64("seed"),
		Open: func(ctx context.Context) (demo.Env, error) {
			st, err := e.Store(ctx)
			if err != nil {
				return demo.Env{}, err
			}
			bcfg, err := e.Bus(ctx)
			return demo.Env{Store: st, Bus: bcfg, Embedded: e.Embedded()}, err
		},
		Sync: func(ctx context.Context, st *store.Store, src ingest.Source, o store.Org, w ingest.Window, sink ingest.Sink) error {
			cfg := syncjob.Config{Store: st, Source: src, Org: o, Window: w, Restart: true, Sink: sink}
			return syncjob.RunReported(ctx, cfg, os.Stdout, os.Stderr)
		},
		Transform: func(ctx context.Context, env demo.Env) (transform.Stats, error) {
			return transformUntil(ctx, reg, env.Bus, box, env.Store, transform.DefaultMaxBatch, true)
		},
	})
}
