package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load"
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
			stats, err := runTransform(c.Context, providersOf(c), bcfg, box, st,
				transformOpts{maxBatch: c.Int("max-batch"), maxWait: c.Duration("max-wait"), untilIdle: c.Bool("until-idle")})
			if errors.Is(err, secret.ErrWrongKey) {
				return cli.Exit(err.Error(), 2)
			}
			if err != nil {
				return err
			}
			fmt.Printf("loaded %d rows from %d raw records in %d batches (%d dead-lettered) in %s\n",
				stats.Rows, stats.Records, stats.Batches, stats.DeadLetters, time.Since(start).Round(time.Millisecond))
			if c.Bool("until-idle") {
				return reportUnloaded(c.Context, st)
			}
			return nil
		},
	}
}

// transformUntil runs the transform with maxBatch and the default
// --max-wait, until ctx ends or, with untilIdle, until everything published
// is loaded.
func transformUntil(ctx context.Context, reg *ingest.Registry, bcfg bus.Config, box *secret.Box, st *store.Store, maxBatch int, untilIdle bool) (transform.Stats, error) {
	return runTransform(ctx, reg, bcfg, box, st, transformOpts{maxBatch: maxBatch, untilIdle: untilIdle})
}

// transformOpts are run's flags for the transform (zero: the defaults).
type transformOpts struct {
	maxBatch  int
	maxWait   time.Duration
	untilIdle bool
}

func runTransform(ctx context.Context, reg *ingest.Registry, bcfg bus.Config, box *secret.Box, st *store.Store, o transformOpts) (transform.Stats, error) {
	ld, err := load.New(load.Config{Conn: st.Conn(), Now: loaderClock})
	if err != nil {
		return transform.Stats{}, err
	}
	// Closing the loader recomputes the per-day aggregates still behind,
	// so a run that ends leaves reviews on the fast path.
	defer func() {
		if err := ld.Close(context.WithoutCancel(ctx)); err != nil {
			slog.Warn("refreshing user_day_metrics at exit; reviews read those days from raw_signals until the next run", "err", err)
		}
		if a := ld.Aggregates().Stats(); a.Marked > 0 {
			slog.Info("per-day aggregates", "batches_marked", a.Marked, "mark_time", a.MarkElapsed.Round(time.Millisecond), "lookup_time", a.LookupElapsed.Round(time.Millisecond),
				"refreshes", a.Refreshes, "days_refreshed", a.Keys, "refresh_time", a.RefreshElapsed.Round(time.Millisecond))
		}
	}()
	cons, err := transform.New(transform.Config{
		Bus: bcfg, Box: box, Decoders: reg.Decoders(), Writer: timedWriter{ld}, DeadLetters: st, MaxBatch: o.maxBatch,
		MaxWait: o.maxWait, Hours: st.NewHoursCache(), Logger: slog.Default(),
	})
	if err != nil {
		return transform.Stats{}, err
	}
	defer cons.Close()
	if o.untilIdle {
		err = cons.RunUntilIdle(ctx)
	} else {
		slog.Info("transforming raw calls; Ctrl-C to stop", "brokers", bcfg.Brokers)
		err = cons.Run(ctx)
	}
	return cons.Stats(), err
}

// reportUnloaded says which orgs have finished sync windows whose calls are
// still not in ClickHouse once everything on Kafka is loaded: the broker
// lost them (a wiped or damaged data dir), which must not pass silently.
func reportUnloaded(ctx context.Context, st *store.Store) error {
	names, err := st.ListOrgs(ctx)
	if err != nil {
		return err
	}
	for _, org := range names {
		ws, err := st.UnloadedWindows(ctx, org)
		if err != nil {
			return err
		}
		missing := 0
		for _, w := range ws {
			missing += w.Missing
		}
		if missing > 0 {
			fmt.Printf("ERROR org %s: %d calls of %d finished sync windows never reached ClickHouse although Kafka has nothing left to load: "+
				"the broker lost them; run `phonesignals sync --org %s` for the same window to fetch them again (or wait, if a sync is running)\n",
				org, missing, len(ws), org)
			slog.Error("calls of finished sync windows never reached ClickHouse", "org", org, "calls", missing, "windows", len(ws))
		}
	}
	return nil
}
