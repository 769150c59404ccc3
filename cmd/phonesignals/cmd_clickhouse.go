package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/chserver"
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
					fmt.Printf("no local ClickHouse server running under %s\n", dir(c))
					return nil
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

// connectHint says how a person connects to the local server: the
// password is read from its 0600 file by the shell, never printed.
func connectHint(srv *chserver.Server, database string) string {
	if srv.PasswordFile() == "" {
		return fmt.Sprintf("connect: clickhouse-client --port %d -d %s", srv.TCPPort(), database)
	}
	return fmt.Sprintf("connect: clickhouse-client --port %d --user %s --password \"$(cat %s)\" -d %s\n"+
		"(the password is in %s, readable by its owner only; phonesignals commands use it by themselves)",
		srv.TCPPort(), srv.User(), srv.PasswordFile(), database, srv.PasswordFile())
}
