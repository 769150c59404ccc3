package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/phonesignals/phonesignals/internal/testkit/benche2e"
)

func main() {
	var cfg benche2e.Config
	flag.StringVar(&cfg.Bin, "bin", "bin/phonesignals", "phonesignals binary to measure")
	flag.StringVar(&cfg.BaselineBin, "baseline-bin", "", "binary to measure as the baseline, alternating, in the same run")
	flag.IntVar(&cfg.Calls, "calls", 1_000_000, "calls to publish")
	flag.IntVar(&cfg.Runs, "runs", 1, "runs of each binary")
	flag.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the measured binary's CPU profile (last run) here")
	flag.StringVar(&cfg.Dir, "dir", "", "keep the ClickHouse server, logs and outputs here (default: a temporary directory, removed)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := benche2e.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
