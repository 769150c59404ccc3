package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/app/transformjob"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/transform"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "transform raw calls from Kafka and load them into ClickHouse, continuously",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "until-idle", Usage: "exit 0 once everything published so far is in ClickHouse"},
			&cli.IntFlag{Name: "max-batch", Value: transform.DefaultMaxBatch, Usage: "records a poll gathers before one ClickHouse insert (a poll takes whole Kafka fetches, so up to 24 MiB more), and the most per Arrow batch"},
			&cli.DurationFlag{Name: "max-wait", Value: transform.DefaultMaxWait, EnvVars: []string{"PHONESIGNALS_MAX_WAIT"},
				Usage: "the longest a record waits for its poll to fill: a poll is loaded at --max-batch records or once its oldest record was fetched this long ago, " +
					"so a steady stream reaches reviews within about this plus one load; a backlog fills whole polls far sooner, so its throughput does not change"},
			&cli.IntFlag{Name: "memory-limit-mib", Value: 200, Usage: "soft limit of the Go heap in MiB (the garbage collector works harder near it); 0: none"},
		},
		Action: func(c *cli.Context) error {
			if c.Duration("max-wait") < 0 {
				return fmt.Errorf("--max-wait %s is negative: use a positive duration such as 1s", c.Duration("max-wait"))
			}
			e := newEnv(c)
			defer e.close()
			box, st, bcfg, err := e.pipeline(c.Context)
			if err != nil {
				return err
			}
			stopOps, err := serveOps(c, readiness(st, bcfg), &bcfg)
			if err != nil {
				return err
			}
			defer stopOps()
			if mib := c.Int("memory-limit-mib"); mib > 0 {
				// Keeps the transform's peak RSS near 250 MB however much
				// is queued: its live heap is about 120 MB (two batches of
				// records in flight plus the client's next fetch).
				debug.SetMemoryLimit(int64(mib) << 20)
			}
			start := time.Now()
			stats, err := transformjob.Run(c.Context, transformjob.Config{Providers: providersOf(c), Bus: bcfg, Box: box, Store: st,
				MaxBatch: c.Int("max-batch"), MaxWait: c.Duration("max-wait"), UntilIdle: c.Bool("until-idle"), Now: loaderClock})
			if errors.Is(err, secret.ErrWrongKey) {
				return cli.Exit(err.Error(), exitNeedsFix)
			}
			if err != nil {
				return err
			}
			fmt.Printf("loaded %d rows from %d raw records in %d batches (%d dead-lettered) in %s\n",
				stats.Rows, stats.Records, stats.Batches, stats.DeadLetters, time.Since(start).Round(time.Millisecond))
			if c.Bool("until-idle") {
				return transformjob.ReportUnloaded(c.Context, st, os.Stdout)
			}
			return nil
		},
	}
}

// transformUntil runs the transform with maxBatch and the default
// --max-wait, until ctx ends or, with untilIdle, until everything published
// is loaded.
func transformUntil(ctx context.Context, reg *ingest.Registry, bcfg bus.Config, box *secret.Box, st *store.Store, maxBatch int, untilIdle bool) (transform.Stats, error) {
	return transformjob.Run(ctx, transformjob.Config{Providers: reg, Bus: bcfg, Box: box, Store: st, MaxBatch: maxBatch, UntilIdle: untilIdle, Now: loaderClock})
}
