package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/review"
)

func reviewCommand() *cli.Command {
	return &cli.Command{
		Name:  "review",
		Usage: "print an employee's [PHONE DATA] and [BASELINES] blocks for a cycle, then [COVERAGE] (or every employee's, without --employee)",
		Description: "[COVERAGE] says how complete the cycle's data is (sync windows, dead letters, unmapped users, the newest call and webhook)\n" +
			"and names the fix of each gap; JSON carries it as \"coverage\", CSV as the last columns. Medians of cohorts below the\n" +
			"org's minimum size (`org privacy --min-cohort`, default 3) are n/a, with the reason.",
		Flags: []cli.Flag{
			newOrgFlag(),
			&cli.StringFlag{Name: "employee", Usage: "employee id (omit for every employee of the cycle)"},
			&cli.StringFlag{Name: "cycle", Required: true, Usage: "cycle id"},
			formatFlag(formatText, allFormats...),
			&cli.BoolFlag{Name: "extended", Usage: "text: add the talk-time lines (answered, missed, voicemail, talk and answer times, their cohort medians) after the seed's lines; JSON and CSV always carry them"},
		},
		Action: func(c *cli.Context) error {
			one := c.String("employee") != ""
			if c.String("format") == formatCSV && one {
				return exitErr(exitUsage, "--format csv needs every employee: omit --employee, or use --format text or json")
			}
			e := newEnv(c)
			defer e.close()
			st, err := e.ReadStore(c.Context)
			if err != nil {
				return err
			}
			if one {
				b, err := review.Load(c.Context, st, c.String("org"), c.String("cycle"), c.String("employee"))
				if err != nil {
					return err
				}
				b.Extended = c.Bool("extended")
				return b.Write(os.Stdout, c.String("format"))
			}
			blocks, err := review.LoadCycle(c.Context, st, c.String("org"), c.String("cycle"))
			if err != nil {
				return err
			}
			for i := range blocks {
				blocks[i].Extended = c.Bool("extended")
			}
			return review.WriteAll(os.Stdout, blocks, c.String("format"))
		},
	}
}
