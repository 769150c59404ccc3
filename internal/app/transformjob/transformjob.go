package transformjob

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load"
	"github.com/phonesignals/phonesignals/transform"
)

// Config is one transform run. Zero fields take the defaults noted.
type Config struct {
	// Providers gives the decoders of every provider. Required.
	Providers *ingest.Registry
	// Bus is the Kafka the raw calls are read from. Required.
	Bus bus.Config
	// Box opens the sealed raw calls. Required.
	Box *secret.Box
	// Store is the migrated ClickHouse store loaded into; it also keeps
	// the dead letters and working hours. Required.
	Store *store.Store
	// MaxBatch is the records a poll gathers before one insert. Default
	// transform.DefaultMaxBatch.
	MaxBatch int
	// MaxWait is the longest a record waits for its poll to fill. Default
	// transform.DefaultMaxWait.
	MaxWait time.Duration
	// UntilIdle returns once everything published so far is loaded;
	// otherwise Run returns when ctx ends.
	UntilIdle bool
	// Now is the loader's clock (tests step it). Default time.Now.
	Now func() time.Time
}

// Run transforms and loads until ctx ends or, with UntilIdle, until
// everything published is loaded, and returns what it did.
func Run(ctx context.Context, cfg Config) (transform.Stats, error) {
	ld, err := load.New(load.Config{Conn: cfg.Store.Conn(), Now: cfg.Now})
	if err != nil {
		return transform.Stats{}, err
	}
	// Closing the loader recomputes the per-day aggregates still behind,
	// so a run that ends leaves reviews on the fast path.
	defer closeLoader(ctx, ld)
	cons, err := transform.New(transform.Config{
		Bus: cfg.Bus, Box: cfg.Box, Decoders: cfg.Providers.Decoders(), Writer: timedWriter{ld},
		DeadLetters: cfg.Store, MaxBatch: cfg.MaxBatch, MaxWait: cfg.MaxWait, Hours: cfg.Store.NewHoursCache(), Logger: slog.Default(),
	})
	if err != nil {
		return transform.Stats{}, err
	}
	defer cons.Close()
	if cfg.UntilIdle {
		err = cons.RunUntilIdle(ctx)
	} else {
		slog.Info("transforming raw calls; Ctrl-C to stop", "brokers", cfg.Bus.Brokers)
		err = cons.Run(ctx)
	}
	return cons.Stats(), err
}

// closeLoader closes ld even after ctx ended, logging what its aggregates
// did.
func closeLoader(ctx context.Context, ld *load.Loader) {
	if err := ld.Close(context.WithoutCancel(ctx)); err != nil {
		slog.Warn("refreshing user_day_metrics at exit; reviews read those days from raw_signals until the next run", "err", err)
	}
	if a := ld.Aggregates().Stats(); a.Marked > 0 {
		slog.Info("per-day aggregates", "batches_marked", a.Marked, "mark_time", a.MarkElapsed.Round(time.Millisecond), "lookup_time", a.LookupElapsed.Round(time.Millisecond),
			"refreshes", a.Refreshes, "days_refreshed", a.Keys, "refresh_time", a.RefreshElapsed.Round(time.Millisecond))
	}
}

// ReportUnloaded writes to out which orgs have finished sync windows whose
// calls are still not in ClickHouse once everything on Kafka is loaded:
// the broker lost them (a wiped or damaged data dir), which must not pass
// silently.
func ReportUnloaded(ctx context.Context, st *store.Store, out io.Writer) error {
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
			fmt.Fprintf(out, "ERROR org %s: %d calls of %d finished sync windows never reached ClickHouse although Kafka has nothing left to load: "+
				"the broker lost them; run `phonesignals sync --org %s` for the same window to fetch them again (or wait, if a sync is running)\n",
				org, missing, len(ws), org)
			slog.Error("calls of finished sync windows never reached ClickHouse", "org", org, "calls", missing, "windows", len(ws))
		}
	}
	return nil
}

// timedWriter times every ClickHouse insert of the transform.
type timedWriter struct{ ld *load.Loader }

// BeginPoll makes timedWriter the transform's Writer.
func (w timedWriter) BeginPoll(ctx context.Context, calls []model.CallKey) transform.PollLoad {
	return timedPoll{w.ld.BeginPoll(ctx, calls)}
}

// timedPoll times a poll's insert.
type timedPoll struct{ transform.PollLoad }

func (p timedPoll) Write(ctx context.Context, recs []arrow.Record) (err error) {
	done := obs.InsertTimer()
	defer func() { done(err) }()
	return p.PollLoad.Write(ctx, recs)
}
