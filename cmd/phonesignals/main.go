// Command phonesignals syncs phone-system calls (Aircall, RingCentral) into
// Kafka, transforms and loads them into ClickHouse, and prints the review
// numbers of employees. Run `phonesignals --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/providers"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfile := startCPUProfile(os.Getenv("PHONESIGNALS_CPU_PROFILE"))
	watchHeapPeak(os.Getenv("PHONESIGNALS_HEAP_PROFILE"))
	err := runApp(ctx, newApp(), os.Args)
	stopProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "phonesignals:", err)
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

func newApp() *cli.App { return newAppWith(providers.Registry()) }

// newAppWith builds the CLI over the providers of reg.
func newAppWith(reg *ingest.Registry) *cli.App {
	return &cli.App{
		Metadata: map[string]any{providersKey: reg},
		Name:     "phonesignals",
		// main prints the error and exits, so deferred cleanups (the
		// embedded broker's flush) run first; urfave would os.Exit itself.
		ExitErrHandler:       func(*cli.Context, error) {},
		EnableBashCompletion: true,
		Version:              version,
		Usage:                "turn Aircall and RingCentral call activity into per-employee review signals",
		Description: "Pipeline: provider APIs -> Kafka (raw calls, sealed) -> transform (Arrow, rules) -> ClickHouse -> review.\n" +
			"Without --clickhouse a local ClickHouse server is started under --data-dir (installed from the OS packages when missing);\n" +
			"without --brokers an embedded Kafka broker keeps its data under --data-dir.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "clickhouse", EnvVars: []string{"PHONESIGNALS_CLICKHOUSE"}, Usage: "ClickHouse native address `HOST:PORT` (default: a local server under --data-dir)"},
			&cli.StringFlag{Name: "database", EnvVars: []string{"PHONESIGNALS_DATABASE"}, Value: "phonesignals", Usage: "ClickHouse database"},
			&cli.StringFlag{Name: "brokers", EnvVars: []string{"PHONESIGNALS_BROKERS"}, Usage: "Kafka brokers, comma separated `HOST:PORT,...` (default: the embedded broker under --data-dir)"},
			&cli.StringFlag{Name: "data-dir", EnvVars: []string{"PHONESIGNALS_DATA_DIR"}, Value: ".phonesignals", Usage: "where the embedded broker, the local ClickHouse and the demo keep their data"},
			&cli.StringFlag{Name: "master-key-file", EnvVars: []string{"PHONESIGNALS_MASTER_KEY_FILE"}, Usage: "file holding the master key when PHONESIGNALS_MASTER_KEY is unset (default: DATA-DIR/master.key if it exists)"},
			&cli.StringFlag{Name: "log-level", EnvVars: []string{"PHONESIGNALS_LOG_LEVEL"}, Value: "info", Usage: "debug, info, warn or error"},
		}, append(opsFlags(), secureFlags()...)...),
		Before: setupLogging,
		Commands: []*cli.Command{
			migrateCommand(),
			orgCommand(reg),
			employeesCommand(),
			cyclesCommand(),
			syncCommand(),
			serveCommand(),
			runCommand(),
			reviewCommand(),
			doctorCommand(),
			aggregatesCommand(),
			retentionCommand(),
			dlqCommand(),
			webhooksCommand(),
			demoCommand(),
			clickhouseCommand(),
			brokerCommand(),
			grafanaCommand(),
			healthcheckCommand(),
			completionCommand(),
		},
	}
}

// startCPUProfile writes a CPU profile of the whole command to path (set
// by `make bench-e2e` through PHONESIGNALS_CPU_PROFILE); "" does nothing.
func startCPUProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "phonesignals: cpu profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "phonesignals: cpu profile:", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// watchHeapPeak writes a heap profile to path each time the live heap
// reaches a new high (checked every 100 ms), so the file ends up showing
// what held memory at the peak (set by `make bench-e2e` through
// PHONESIGNALS_HEAP_PROFILE); "" does nothing.
func watchHeapPeak(path string) {
	if path == "" {
		return
	}
	runtime.MemProfileRate = 64 << 10
	go func() {
		var peak uint64
		samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for range time.Tick(100 * time.Millisecond) {
			metrics.Read(samples)
			if v := samples[0].Value.Uint64(); v > peak+peak/20 {
				peak = v
				if f, err := os.Create(path); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
}
