// Command phonesignals syncs phone-system calls (Aircall, RingCentral) into
// Kafka, transforms and loads them into ClickHouse, and prints the review
// numbers of employees. Run `phonesignals --help` for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfile, err := obs.StartCPUProfile(os.Getenv("PHONESIGNALS_CPU_PROFILE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "phonesignals: cpu profile:", err)
	}
	obs.WatchHeapPeak(os.Getenv("PHONESIGNALS_HEAP_PROFILE"))
	err = runApp(ctx, newApp(), os.Args)
	stopProfile()
	if err != nil {
		code := exitCode(err)
		printError(err, code)
		os.Exit(code)
	}
}

func newApp() *cli.App { return newAppWith(providers.Registry()) }

// newAppWith builds the CLI over the providers of reg.
func newAppWith(reg *ingest.Registry) *cli.App {
	app := &cli.App{
		Metadata: map[string]any{providersKey: reg},
		Name:     "phonesignals",
		// main prints the error and exits, so deferred cleanups (the
		// embedded broker's flush) run first; urfave would os.Exit itself.
		ExitErrHandler:       func(*cli.Context, error) {},
		EnableBashCompletion: true,
		// A mistyped command gets "Did you mean ...?" (exit code exitUsage).
		Suggest: true,
		Version: version,
		Usage:   "turn Aircall and RingCentral call activity into per-employee review signals",
		Description: "Pipeline: provider APIs -> Kafka (raw calls, sealed) -> transform (Arrow, rules) -> ClickHouse -> review.\n" +
			"Without --clickhouse a local ClickHouse server is started under --data-dir (installed from the OS packages when missing);\n" +
			"without --brokers an embedded Kafka broker keeps its data under --data-dir.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "clickhouse", EnvVars: []string{"PHONESIGNALS_CLICKHOUSE"}, Usage: "ClickHouse native address `HOST:PORT` (default: a local server under --data-dir)"},
			&cli.StringFlag{Name: "database", EnvVars: []string{"PHONESIGNALS_DATABASE"}, Value: "phonesignals", Usage: "ClickHouse database"},
			&cli.StringFlag{Name: "cluster", EnvVars: []string{"PHONESIGNALS_CLUSTER"}, Usage: "ClickHouse cluster `NAME` from the servers' remote_servers: migrate creates Replicated tables ON CLUSTER and Distributed tables sharded by org (NAME_all must list every node as a shard, for ALTERs of the Distributed tables)"},
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
			queryCommand(),
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
			versionCommand(),
		},
	}
	withValueCompletion(app.Commands)
	return app
}

// versionCommand is `phonesignals version`, which prints what --version
// prints.
func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version (as --version does)",
		Action: func(c *cli.Context) error {
			cli.VersionPrinter(c)
			return nil
		},
	}
}
