package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/app/deps"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// env is the command's deps.Deps, built from the global flags, with the
// CLI's exit codes on top.
type env struct {
	*deps.Deps
	c       *cli.Context
	dataDir string
}

func newEnv(c *cli.Context) *env {
	return &env{Deps: deps.New(depsConfig(c)), c: c, dataDir: c.String("data-dir")}
}

// depsConfig reads the global flags into a deps.Config.
func depsConfig(c *cli.Context) deps.Config {
	return deps.Config{
		DataDir:                c.String("data-dir"),
		Database:               c.String("database"),
		Cluster:                c.String("cluster"),
		ClickHouse:             c.String("clickhouse"),
		ClickHouseUser:         c.String("clickhouse-user"),
		ClickHousePasswordFile: c.String("clickhouse-password-file"),
		ClickHouseTLS:          c.Bool("clickhouse-tls"),
		ClickHouseCAFile:       c.String("clickhouse-ca-file"),
		Brokers:                c.String("brokers"),
		KafkaTLS:               c.Bool("kafka-tls"),
		KafkaCAFile:            c.String("kafka-ca-file"),
		KafkaSASLMechanism:     c.String("kafka-sasl-mechanism"),
		KafkaUser:              c.String("kafka-user"),
		KafkaPasswordFile:      c.String("kafka-password-file"),
		MasterKeyFile:          c.String("master-key-file"),
	}
}

func (e *env) close() { e.Close() }

// box is deps.Box; a wrong master key exits with code 2.
func (e *env) box(ctx context.Context) (*secret.Box, error) {
	box, err := e.Box(ctx)
	if deps.IsKeyMismatch(err) {
		return nil, cli.Exit(err.Error(), exitNeedsFix)
	}
	return box, err
}

// readBox is deps.BoxOn for a command that only reads, on its st; a wrong
// master key exits with code 2.
func (e *env) readBox(ctx context.Context, st *store.Store) (*secret.Box, error) {
	box, err := e.BoxOn(ctx, st)
	if deps.IsKeyMismatch(err) {
		return nil, cli.Exit(err.Error(), exitNeedsFix)
	}
	return box, err
}

// pipeline is deps.Pipeline with box's exit code.
func (e *env) pipeline(ctx context.Context) (*secret.Box, *store.Store, bus.Config, error) {
	if _, err := e.box(ctx); err != nil {
		return nil, nil, bus.Config{}, err
	}
	return e.Pipeline(ctx)
}

// requireFlag returns the flag's value or an error naming it.
func requireFlag(c *cli.Context, name string) (string, error) {
	v := strings.TrimSpace(c.String(name))
	if v == "" {
		return "", fmt.Errorf("--%s is required", name)
	}
	return v, nil
}

// readAction is storeAction for commands that only read (deps.ReadStore).
func readAction(fn func(c *cli.Context, e *env, st *store.Store) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		e := newEnv(c)
		defer e.close()
		st, err := e.ReadStore(c.Context)
		if err != nil {
			return err
		}
		return fn(c, e, st)
	}
}

// storeAction runs fn with the env and its migrated store, closing both
// (and the local servers' clients) afterwards.
func storeAction(fn func(c *cli.Context, e *env, st *store.Store) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		e := newEnv(c)
		defer e.close()
		st, err := e.Store(c.Context)
		if err != nil {
			return err
		}
		return fn(c, e, st)
	}
}
