package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/app/doctor"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "diagnose an org: credentials, mapping, zero calls and why, last sync, webhooks, dead letters",
		Description: "Runs the troubleshooting list for real (it calls the provider once with the stored credentials)\n" +
			"and prints what it found with the fix. Exits 2 when something needs fixing.",
		Flags: []cli.Flag{
			newOrgFlag(),
			&cli.StringFlag{Name: "cycle", Usage: "check this cycle (default: every cycle)"},
			&cli.BoolFlag{Name: "offline", Usage: "do not call the provider"},
			formatFlag(formatText, allFormats...),
		},
		Action: readAction(func(c *cli.Context, e *env, st *store.Store) error {
			rep, err := doctor.Run(c.Context, doctor.Config{
				Store: st, Providers: providersOf(c), Box: func() (*secret.Box, error) { return e.readBox(c.Context, st) },
				Org: c.String("org"), Cycle: c.String("cycle"), Offline: c.Bool("offline"),
			})
			if err != nil {
				return err
			}
			format := c.String("format")
			if err := writeDoctor(rep, format); err != nil {
				return err
			}
			if n := rep.Count(doctor.Fail); n > 0 {
				return cli.Exit(fmt.Sprintf("doctor: %d problems to fix, %d warnings", n, rep.Count(doctor.Warn)), exitNeedsFix)
			}
			if format == formatText {
				fmt.Printf("doctor: no problems (%d warnings)\n", rep.Count(doctor.Warn))
			}
			return nil
		}),
	}
}

// doctorLevels name the levels in JSON and CSV.
var doctorLevels = [...]string{doctor.OK: "ok", doctor.Warn: "warn", doctor.Fail: "fail"}

// writeDoctor prints rep: in text as doctor.Report.Write does; in CSV one
// row per finding (org, provider, level, text, fix); in JSON an object of
// the org, provider, counts and findings (level, text, fix).
func writeDoctor(rep doctor.Report, format string) error {
	switch format {
	case formatText:
		rep.Write(os.Stdout)
		return nil
	case formatCSV:
		t := table{columns: cols("org", "provider", "level", "text", "fix")}
		for _, f := range rep.Findings {
			t.add(rep.Org, rep.Provider, doctorLevels[f.Level], f.Text, f.Fix)
		}
		return t.write(os.Stdout, format)
	}
	t := table{columns: cols("level", "text", "fix")}
	for _, f := range rep.Findings {
		t.add(doctorLevels[f.Level], f.Text, f.Fix)
	}
	findings, err := t.objects()
	if err != nil {
		return err
	}
	return writeJSON(os.Stdout, struct {
		Org      string            `json:"org"`
		Provider string            `json:"provider"`
		Problems int               `json:"problems"`
		Warnings int               `json:"warnings"`
		Findings []json.RawMessage `json:"findings"`
	}{rep.Org, rep.Provider, rep.Count(doctor.Fail), rep.Count(doctor.Warn), findings})
}
