package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
)

// clickhouseCommand manages the local ClickHouse server that commands
// start under --data-dir when no --clickhouse is given.
func clickhouseCommand() *cli.Command {
	dir := func(c *cli.Context) string { return filepath.Join(c.String("data-dir"), "clickhouse") }
	return &cli.Command{
		Name:  "clickhouse",
		Usage: "status, start or stop the local ClickHouse server under --data-dir",
		Subcommands: []*cli.Command{
			{Name: "status", Usage: "print the local server's address", Action: func(c *cli.Context) error {
				srv, err := chserver.Lookup(c.Context, dir(c))
				if errors.Is(err, chserver.ErrNotRunning) {
					// Exit 1, so scripts and health checks can tell.
					return cli.Exit(fmt.Sprintf("no local ClickHouse server running under %s: phonesignals clickhouse start starts it", dir(c)), exitFailed)
				}
				if err != nil {
					return err
				}
				fmt.Printf("local ClickHouse server pid %d, native %s, http %s\n", srv.Pid(), srv.Addr(), srv.HTTPAddr())
				fmt.Println(connectHint(srv, c.String("database")))
				return nil
			}},
			{Name: "start", Usage: "start (or reuse) the local server", Action: func(c *cli.Context) error {
				srv, err := chserver.Ensure(c.Context, chserver.Config{Dir: dir(c), Install: true})
				if err != nil {
					return err
				}
				fmt.Printf("local ClickHouse server pid %d on %s\n", srv.Pid(), srv.Addr())
				return nil
			}},
			{Name: "stop", Usage: "stop the local server", Action: func(c *cli.Context) error {
				srv, err := chserver.Lookup(c.Context, dir(c))
				if errors.Is(err, chserver.ErrNotRunning) {
					fmt.Println("not running")
					return nil
				}
				if srv == nil {
					return err
				}
				if err := srv.Terminate(); err != nil {
					return err
				}
				fmt.Printf("stopped the local ClickHouse server (pid %d)\n", srv.Pid())
				return nil
			}},
		},
	}
}

// connectHint says how a person connects to the local server: with a
// clickhouse-client configuration file (0600) holding the password, never
// a password flag on a command line every user of the machine can read.
func connectHint(srv *chserver.Server, database string) string {
	hint, err := srv.ConnectHint(database)
	if err != nil {
		return fmt.Sprintf("connect: clickhouse-client --port %d --user %s -d %s, password in %s (writing a client configuration file failed: %v)",
			srv.TCPPort(), srv.User(), database, srv.PasswordFile(), err)
	}
	return hint
}
