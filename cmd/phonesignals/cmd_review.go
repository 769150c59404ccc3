package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/review"
)

func reviewCommand() *cli.Command {
	return &cli.Command{
		Name:  "review",
		Usage: "print an employee's [PHONE DATA] and [BASELINES] blocks for a cycle",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "org", Required: true},
			&cli.StringFlag{Name: "employee", Required: true, Usage: "employee id"},
			&cli.StringFlag{Name: "cycle", Required: true, Usage: "cycle id"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
		},
		Action: func(c *cli.Context) error {
			if f := c.String("format"); f != "text" && f != "json" {
				return fmt.Errorf("--format %q: want text or json", f)
			}
			e := newEnv(c)
			defer e.close()
			st, err := e.store(c.Context)
			if err != nil {
				return err
			}
			b, err := review.Load(c.Context, st, c.String("org"), c.String("cycle"), c.String("employee"))
			if err != nil {
				return err
			}
			return b.Write(os.Stdout, c.String("format"))
		},
	}
}
