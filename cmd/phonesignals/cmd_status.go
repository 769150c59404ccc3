package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/store"
)

// syncStatusCommand shows the recent sync runs of an org with their errors
// (a rejected token shows here and in `doctor`) and the backfill progress.
func syncStatusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show the org's recent sync runs, their errors and the finished backfill windows",
		Flags: []cli.Flag{
			newOrgFlag(),
			&cli.IntFlag{Name: "runs", Value: 10, Usage: "how many recent runs to show"},
			formatFlag(formatText, allFormats...),
		},
		Action: readAction(func(c *cli.Context, e *env, st *store.Store) error {
			o, err := st.GetOrg(c.Context, c.String("org"))
			if err != nil {
				return err
			}
			runs, err := st.RecentRuns(c.Context, o.Name, c.Int("runs"))
			if err != nil {
				return err
			}
			ws, err := st.SyncWindowStats(c.Context, o.Name)
			if err != nil {
				return err
			}
			if f := c.String("format"); f != formatText {
				return writeSyncStatus(o, runs, ws, f)
			}
			fmt.Printf("org %s (%s)\n", o.Name, o.Provider)
			if len(runs) == 0 {
				fmt.Printf("never synced: phonesignals sync --org %s --since-days 30\n", o.Name)
				return nil
			}
			tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "started\tstatus\tcalls\trequests\twindow\terror")
			for _, r := range runs {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", r.Started.UTC().Format(time.RFC3339), r.Status, r.Calls, r.Requests, r.Window, r.Error)
			}
			tw.Flush()
			if ws.Windows > 0 {
				fmt.Printf("%d backfill windows finished (%d calls); latest finished %s; they reach %s\n",
					ws.Windows, ws.Calls, ws.LastDone.UTC().Format(time.RFC3339), ws.LastWindowTo.UTC().Format(time.RFC3339))
			}
			if runs[0].Status == "running" {
				fmt.Println("the latest run has not finished: it is still running, or it was killed (run the same sync again to resume)")
			}
			return nil
		}),
	}
}

// writeSyncStatus prints sync status in JSON (an object of the org, its
// provider, the runs and the backfill summary) or CSV (one row per run,
// with the org and provider).
func writeSyncStatus(o store.Org, runs []store.Run, ws store.WindowStats, format string) error {
	runCols := cols("run_id", "started_at", "finished_at", "status", "calls", "requests", "window_from", "window_to", "error")
	t := table{columns: runCols}
	if format == formatCSV {
		t.columns = append(cols("org", "provider"), runCols...)
	}
	for _, r := range runs {
		row := []any{r.ID, r.Started, r.Finished, r.Status, r.Calls, r.Requests, r.Window.From, r.Window.To, r.Error}
		if format == formatCSV {
			row = append([]any{o.Name, o.Provider}, row...)
		}
		t.add(row...)
	}
	if format == formatCSV {
		return t.write(os.Stdout, format)
	}
	objs, err := t.objects()
	if err != nil {
		return err
	}
	type backfill struct {
		Windows      uint64 `json:"windows"`
		Calls        uint64 `json:"calls"`
		LastDone     any    `json:"last_done"`
		LastWindowTo any    `json:"last_window_to"`
	}
	return writeJSON(os.Stdout, struct {
		Org      string            `json:"org"`
		Provider string            `json:"provider"`
		Runs     []json.RawMessage `json:"runs"`
		Backfill backfill          `json:"backfill"`
	}{o.Name, o.Provider, objs, backfill{ws.Windows, ws.Calls, jsonCell(ws.LastDone), jsonCell(ws.LastWindowTo)}})
}
