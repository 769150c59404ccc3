package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/app/serve"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/review"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/transform"
)

// stopWithin bounds a graceful stop of serve (SIGTERM): past it the
// process exits anyway; nothing unloaded is committed either way.
const stopWithin = 28 * time.Second

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "keep every connected org current: follow their providers, receive webhooks, fetch transcripts, transform; replicas share the orgs",
		Description: "Each org this replica owns is followed in its own goroutine: a backfill of --backfill-days (resumable, a day at a time through\n" +
			"--backfills fair slots), then a round every --every re-reading the calls of the last minutes, and every --reread-every the\n" +
			"last --reread. Replicas (same --brokers and ClickHouse) share the orgs through the Kafka consumer group phonesignals.serve.",
		Subcommands: []*cli.Command{serveStatusCommand()},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "roles", Value: strings.Join(serve.AllRoles, ","), Usage: "what this process does, some of " + strings.Join(serve.AllRoles, ",")},
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8088", Usage: "`ADDR` of the webhook receiver (role webhooks)"},
			&cli.StringFlag{Name: "replica", Usage: "this replica's name in status, logs and the provider User-Agent (default HOSTNAME-PID)"},
			&cli.DurationFlag{Name: "every", Value: serve.DefaultEvery, Usage: "poll interval of each org: a round fetches the calls created since a little before the last one"},
			&cli.DurationFlag{Name: "reread", Value: serve.DefaultReread, Usage: "how far back a deep round re-reads calls: Aircall calls are ended, tagged, commented and reassigned " +
				"for hours after they start, and Aircall retries a failed webhook for about 12 h before disabling it; 24h covers that twice and is RingCentral's default look-back"},
			&cli.DurationFlag{Name: "reread-every", Value: serve.DefaultRereadEvery, Usage: "how often each org gets a deep round over --reread"},
			&cli.DurationFlag{Name: "refresh-every", Value: serve.DefaultRefreshEvery, Usage: "how often the org list is read: orgs added or connected are followed, removed or disconnected stopped, within this plus one round"},
			&cli.IntFlag{Name: "backfill-days", Value: 30, Usage: "days a newly followed org is backfilled (checkpointed by day: done days are skipped); -1: none"},
			&cli.IntFlag{Name: "backfills", Value: 4, Usage: "backfill days fetched at once across orgs, handed out round robin"},
			&cli.DurationFlag{Name: "request-timeout", Value: serve.DefaultRequestTimeout, Usage: "bound of one provider request (a hung provider)"},
			&cli.DurationFlag{Name: "round-timeout", Value: serve.DefaultRoundTimeout, Usage: "bound of one round or backfill day"},
			&cli.DurationFlag{Name: "max-backoff", Value: serve.DefaultMaxBackoff, Usage: "longest wait before retrying a failing org (the wait doubles from --every)"},
			&cli.DurationFlag{Name: "session-timeout", Value: serve.DefaultSessionTimeout, Usage: "consumer group session: a dead or cut-off replica's orgs move after about this"},
			&cli.IntFlag{Name: "metrics-max-orgs", Value: obs.DefaultServeOrgLabelCap, Usage: "orgs with their own org label in /metrics; the rest share org=\"_other\""},
		},
		Action: serveAction,
	}
}

func serveAction(c *cli.Context) error {
	e := newEnv(c)
	defer e.close()
	box, st, bcfg, err := e.pipeline(c.Context)
	if err != nil {
		return err
	}
	roles := strings.Split(c.String("roles"), ",")
	var lagOf *bus.Config
	for _, r := range roles {
		if r == serve.RoleTransform {
			lagOf = &bcfg
		}
	}
	stopOps, err := serveOps(c, readiness(st, bcfg), lagOf)
	if err != nil {
		return err
	}
	defer stopOps()
	obs.SetServeOrgLabelCap(c.Int("metrics-max-orgs"))
	reg := providersOf(c)
	svc, err := serve.New(serve.Config{
		Store: st, Registry: reg, Box: box, Bus: bcfg, Roles: roles, Replica: c.String("replica"), Listen: c.String("listen"), WebhookCache: e.webhookCache(),
		Transform: func(ctx context.Context) error {
			_, err := transformUntil(ctx, reg, bcfg, box, st, transform.DefaultMaxBatch, false)
			return err
		},
		Every: c.Duration("every"), Reread: c.Duration("reread"), RereadEvery: c.Duration("reread-every"), RefreshEvery: c.Duration("refresh-every"),
		BackfillDays: c.Int("backfill-days"), Backfills: c.Int("backfills"), RequestTimeout: c.Duration("request-timeout"),
		RoundTimeout: c.Duration("round-timeout"), MaxBackoff: c.Duration("max-backoff"), SessionTimeout: c.Duration("session-timeout"),
	})
	if err != nil {
		return err
	}
	defer svc.Close()
	done := make(chan error, 1)
	go func() { done <- svc.Run(c.Context) }()
	select {
	case err := <-done:
		return err
	case <-c.Context.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(stopWithin):
		return cli.Exit(fmt.Sprintf("serve: stopping took over %s; exiting anyway (nothing unloaded was committed)", stopWithin), 1)
	}
}

// serveStatusCommand shows every org: the replica following it, its last
// successful round, how far behind it is and its last error.
func serveStatusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show every org: owner replica, last successful sync, lag, last error",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "stale-after", Value: 3 * serve.DefaultStatusEvery, Usage: "an owner whose status is older than this is shown as stale (dead, or cut off)"},
		},
		Action: storeAction(func(c *cli.Context, e *env, st *store.Store) error {
			// One read for every org: with thousands of orgs a read per
			// org took as many round trips.
			all, err := st.ServeStatuses(c.Context)
			if err != nil {
				return err
			}
			now := time.Now()
			tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "org\tprovider\towner\tlast success\tlag\tstatus\tlast error")
			for _, s := range all {
				printOrgStatus(tw, s, now, c.Duration("stale-after"))
			}
			return tw.Flush()
		}),
	}
}

func printOrgStatus(tw *tabwriter.Writer, s store.ServeStatus, now time.Time, staleAfter time.Duration) {
	owner := serve.Owner(s.RunID)
	if owner == "" {
		what := "not followed by serve"
		if !s.Connected {
			what = "not connected"
		}
		fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t%s\t\n", review.EscapeText(s.Org), s.Provider, what)
		return
	}
	if now.Sub(s.Written) > staleAfter {
		owner += " (stale: no status for " + now.Sub(s.Written).Round(time.Second).String() + ")"
	}
	lag := now.Sub(s.LastSuccess).Round(time.Second).String()
	errText := s.Error
	if len(errText) > 160 {
		errText = errText[:160] + "..."
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", review.EscapeText(s.Org), s.Provider, review.EscapeText(owner),
		s.LastSuccess.UTC().Format(time.RFC3339), lag, s.Status, review.EscapeText(errText))
}
