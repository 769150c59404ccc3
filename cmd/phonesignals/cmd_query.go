package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/queries"
)

// queryParamFlags are the parameters of the documented queries besides
// @org and @dirty, each a flag of the same name.
var queryParamFlags = []string{"cycle", "employee", "cohort"}

// queryCommand is `phonesignals query NAME`: the review queries as plain
// SQL, for analysts on servers where the views cannot be fast (18.16).
func queryCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "org", Usage: orgUsage},
		&cli.StringFlag{Name: "cycle", Usage: "the cycle `ID` (queries with @cycle)"},
		&cli.StringFlag{Name: "employee", Usage: "the employee `ID` (queries with @employee)"},
		&cli.StringFlag{Name: "cohort", Usage: "the `COHORT` (queries with @cohort)"},
		&cli.BoolFlag{Name: "print", Usage: "print the SQL with the values filled in, to run as written in clickhouse-client, instead of running it"},
		formatFlag(formatText, allFormats...),
	}
	return &cli.Command{
		Name:      "query",
		Usage:     "run or print a review query as plain SQL (phonesignals query list names them)",
		ArgsUsage: "NAME|list",
		Description: "Runs the SQL the review runs, with its fragments expanded and the org's not-yet-aggregated days read first,\n" +
			"so the numbers are the review's. --print prints it with every value filled in instead, to run in clickhouse-client\n" +
			"(exact as of the moment it was printed: print again later). On current ClickHouse the analyst views are plain SQL too.",
		Flags: flags,
		// `query list` is a NAME, not a subcommand: a command with
		// subcommands would not take its flags after NAME.
		Action: func(c *cli.Context) error {
			if c.NArg() == 1 && c.Args().First() == "list" {
				return listQueries()
			}
			return readAction(runQuery)(c)
		},
	}
}

func listQueries() error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFLAGS\tONE ROW IS")
	for _, d := range queries.DocumentedQueries() {
		var fl []string
		for _, p := range d.Params() {
			if p != queries.DirtyParam {
				fl = append(fl, "--"+p)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Name, strings.Join(fl, " "), d.Description)
	}
	return tw.Flush()
}

func runQuery(c *cli.Context, _ *env, st *store.Store) error {
	if c.NArg() != 1 {
		return exitErr(exitUsage, "query: want one NAME, got %d arguments (phonesignals query list names them)", c.NArg())
	}
	d, err := queries.LookupDocumented(c.Args().First())
	if err != nil {
		return exitErr(exitUsage, "%v", err)
	}
	org, err := requireFlag(c, "org")
	if err != nil {
		return exitErr(exitUsage, "%v", err)
	}
	values := map[string]string{"org": org}
	for _, p := range d.Params() {
		if p == "org" || p == queries.DirtyParam {
			continue
		}
		if !c.IsSet(p) {
			return exitErr(exitUsage, "query %s needs --%s", d.Name, p)
		}
		values[p] = c.String(p)
	}
	for _, f := range queryParamFlags {
		if _, used := values[f]; c.IsSet(f) && !used {
			return exitErr(exitUsage, "query %s takes no --%s", d.Name, f)
		}
	}
	if c.Bool("print") {
		return printQuery(c, st, d, values)
	}
	res, err := st.RunDocumented(c.Context, d, org, values)
	if err != nil {
		return err
	}
	t := table{columns: cols(res.Columns...)}
	for _, r := range res.Rows {
		t.add(r...)
	}
	return t.write(os.Stdout, c.String("format"))
}

// printQuery prints d with every value filled in, @dirty as it is now.
func printQuery(c *cli.Context, st *store.Store, d queries.Documented, values map[string]string) error {
	dirty, err := st.DirtyDays(c.Context, values["org"])
	if err != nil {
		return err
	}
	values[queries.DirtyParam] = dirty
	sql, err := d.Bind(values)
	if err != nil {
		return err
	}
	fmt.Printf("-- phonesignals query %s, printed %s. @dirty = '%s': the org's days\n"+
		"-- not aggregated yet at that moment, which it reads from raw_signals. The\n"+
		"-- numbers are exact as of then: print it again for a later moment.\n%s\n",
		d.Name, time.Now().UTC().Format(time.RFC3339), dirty, strings.TrimRight(sql, "\n"))
	return nil
}
