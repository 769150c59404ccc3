package main

import (
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
		},
		Action: readAction(func(c *cli.Context, e *env, st *store.Store) error {
			rep, err := doctor.Run(c.Context, doctor.Config{
				Store: st, Providers: providersOf(c), Box: func() (*secret.Box, error) { return e.readBox(c.Context, st) },
				Org: c.String("org"), Cycle: c.String("cycle"), Offline: c.Bool("offline"),
			})
			if err != nil {
				return err
			}
			rep.Write(os.Stdout)
			if n := rep.Count(doctor.Fail); n > 0 {
				return cli.Exit(fmt.Sprintf("doctor: %d problems to fix, %d warnings", n, rep.Count(doctor.Warn)), 2)
			}
			fmt.Printf("doctor: no problems (%d warnings)\n", rep.Count(doctor.Warn))
			return nil
		}),
	}
}
