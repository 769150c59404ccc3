package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/phonesignals/phonesignals/internal/testkit/benche2e"
)

func main() {
	var cfg benche2e.Config
	flag.StringVar(&cfg.Bin, "bin", "bin/phonesignals", "phonesignals binary to measure")
	flag.StringVar(&cfg.BaselineBin, "baseline-bin", "", "binary to measure as the baseline, alternating, in the same run")
	flag.IntVar(&cfg.Calls, "calls", 1_000_000, "calls to publish")
	flag.IntVar(&cfg.Runs, "runs", 1, "runs of each binary")
	flag.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the measured binary's CPU profile (last run) here")
	flag.Func("instances", "comma-separated counts of `run` processes sharing the group, each measured (default 1; make bench-scale: 1,2)", func(v string) error {
		return parseInstances(v, &cfg.Instances)
	})
	flag.StringVar(&cfg.Dir, "dir", "", "keep the ClickHouse server, logs and outputs here (default: a temporary directory, removed)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := benche2e.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// parseInstances reads -instances 1,2.
func parseInstances(v string, out *[]int) error {
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-instances %q: want counts of processes such as 1,2", v)
		}
		*out = append(*out, n)
	}
	return nil
}
