package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/app/deps"
	"github.com/phonesignals/phonesignals/internal/bus"
)

// brokerCommand runs the embedded broker in the foreground, so that several
// long-running commands (`sync --follow`, `run`, `webhooks serve`) can
// share it; every command uses a broker already running under --data-dir.
func brokerCommand() *cli.Command {
	return &cli.Command{
		Name:  "broker",
		Usage: "run the embedded Kafka broker (kfake) under --data-dir in the foreground",
		Description: "Commands without --brokers use the broker already running under --data-dir, or start one\n" +
			"for their own lifetime. Run this for long-lived setups; kcat and other Kafka clients can connect too.",
		Flags: []cli.Flag{&cli.IntFlag{Name: "port", Value: 0, Usage: "port to listen on (0: a free port)"}},
		Action: func(c *cli.Context) error {
			deps.LimitEmbeddedMemory()
			sh, err := bus.OpenShared(c.Context, c.String("data-dir"), c.Int("port"))
			if err != nil {
				return err
			}
			defer sh.Close()
			if !sh.Owned {
				return fmt.Errorf("an embedded broker already runs under %s at %v", c.String("data-dir"), sh.Config.Brokers)
			}
			if err := bus.EnsureTopics(c.Context, sh.Config); err != nil {
				return err
			}
			fmt.Printf("embedded kafka broker on %v (data in %s/kafka); Ctrl-C to stop\n", sh.Config.Brokers, c.String("data-dir"))
			<-c.Context.Done()
			return nil
		},
	}
}
