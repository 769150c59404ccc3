package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/app/progress"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/store"
)

// opsFlags are the global operations flags: logging and the metrics
// server of the long-running commands.
func opsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-format", EnvVars: []string{"PHONESIGNALS_LOG_FORMAT"}, Value: "text", Usage: "`FORMAT` of the logs on stderr: text or json"},
		&cli.StringFlag{Name: "metrics-addr", EnvVars: []string{"PHONESIGNALS_METRICS_ADDR"}, Usage: "serve /metrics, /healthz and /readyz on `HOST:PORT` during run, webhooks serve and sync --follow (default: not served)"},
	}
}

// setupLogging installs the logger --log-level and --log-format ask for.
func setupLogging(c *cli.Context) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	h, err := obs.NewLogHandler(os.Stderr, c.String("log-format"), lvl)
	if err != nil {
		return err
	}
	slog.SetDefault(slog.New(h))
	obs.SetVersion(version)
	return nil
}

// statusWriter is where a command's progress and notices go: stderr,
// or with --log-format json log records on it, as text there would break
// the log collector's parsing.
func statusWriter(c *cli.Context) io.Writer {
	if strings.EqualFold(c.String("log-format"), "json") {
		return progress.Events{Logger: slog.Default()}
	}
	return os.Stderr
}

// printError reports the error a command ended with on stderr: a line of
// text, or a log record when the logs are JSON (setupLogging ran with
// --log-format json), so stderr stays all JSON.
func printError(err error, code int) {
	if _, ok := slog.Default().Handler().(*slog.JSONHandler); ok {
		slog.Error("phonesignals failed", "err", err, "exit_code", code)
		return
	}
	fmt.Fprintln(os.Stderr, "phonesignals:", err)
}

// readiness is what a pipeline command needs to work: Kafka and
// ClickHouse answering.
func readiness(st *store.Store, bcfg bus.Config) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := bus.WaitReachable(ctx, bcfg, 2*time.Second); err != nil {
			return err
		}
		if err := st.Conn().Ping(ctx); err != nil {
			return fmt.Errorf("reaching clickhouse: %w", err)
		}
		return nil
	}
}

// serveOps serves /metrics, /healthz and /readyz on --metrics-addr until
// the returned stop is called; without --metrics-addr it does nothing.
// watchLag also records the transform group's lag every 10 s.
func serveOps(c *cli.Context, ready func(context.Context) error, watchLag *bus.Config) (stop func(), err error) {
	addr := c.String("metrics-addr")
	if addr == "" {
		return func() {}, nil
	}
	srv, err := obs.NewServer(obs.ServerConfig{Addr: addr, Ready: ready})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(c.Context)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Run(ctx); err != nil {
			slog.Error("metrics server stopped", "err", err)
		}
	}()
	lagDone := make(chan struct{})
	go func() {
		defer close(lagDone)
		if watchLag != nil {
			bus.WatchLag(ctx, *watchLag, bus.GroupTransform, bus.TopicRaw, 10*time.Second,
				func(err error) { slog.Warn("checking consumer lag", "err", err) })
		}
	}()
	return func() { cancel(); <-done; <-lagDone }, nil
}

// healthcheckCommand is the health check of the distroless image, which
// has no shell or curl.
func healthcheckCommand() *cli.Command {
	return &cli.Command{
		Name:      "healthcheck",
		Usage:     "exit 0 when URL answers 2xx (for container health checks)",
		ArgsUsage: "URL",
		Description: "GETs URL (e.g. http://127.0.0.1:9100/readyz, served with --metrics-addr) and exits 0 on a 2xx\n" +
			"answer, 1 otherwise, printing why.",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Second, Usage: "give up after `DURATION`"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("want one URL, e.g. phonesignals healthcheck http://127.0.0.1:9100/readyz")
			}
			ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
			defer cancel()
			if err := obs.Check(ctx, c.Args().First()); err != nil {
				return cli.Exit(err.Error(), exitFailed)
			}
			return nil
		},
	}
}
