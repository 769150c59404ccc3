package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/tlsconf"
	"github.com/phonesignals/phonesignals/internal/store"
)

// Environment variables holding passwords. Passwords never come from a
// flag value: argv is readable by every user of the machine (ps).
const (
	envClickHousePassword = "PHONESIGNALS_CLICKHOUSE_PASSWORD"
	envKafkaPassword      = "PHONESIGNALS_KAFKA_PASSWORD"
)

// secureFlags are the global flags for authenticated and encrypted
// connections to managed ClickHouse (Cloud) and Kafka clusters.
func secureFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "clickhouse-tls", EnvVars: []string{"PHONESIGNALS_CLICKHOUSE_TLS"}, Usage: "speak ClickHouse's native protocol over TLS (port 9440; ClickHouse Cloud)"},
		&cli.StringFlag{Name: "clickhouse-ca-file", EnvVars: []string{"PHONESIGNALS_CLICKHOUSE_CA_FILE"}, Usage: "PEM `FILE` of a private CA to trust for ClickHouse TLS, beside the system roots"},
		&cli.StringFlag{Name: "clickhouse-user", EnvVars: []string{"PHONESIGNALS_CLICKHOUSE_USER"}, Usage: "ClickHouse user (default: default)"},
		&cli.StringFlag{Name: "clickhouse-password-file", EnvVars: []string{"PHONESIGNALS_CLICKHOUSE_PASSWORD_FILE"}, Usage: "`FILE` holding the ClickHouse password (or set " + envClickHousePassword + ")"},
		&cli.BoolFlag{Name: "kafka-tls", EnvVars: []string{"PHONESIGNALS_KAFKA_TLS"}, Usage: "dial the Kafka brokers over TLS"},
		&cli.StringFlag{Name: "kafka-ca-file", EnvVars: []string{"PHONESIGNALS_KAFKA_CA_FILE"}, Usage: "PEM `FILE` of a private CA to trust for Kafka TLS, beside the system roots"},
		&cli.StringFlag{Name: "kafka-sasl-mechanism", EnvVars: []string{"PHONESIGNALS_KAFKA_SASL_MECHANISM"}, Usage: "`MECHANISM` PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default: no SASL)"},
		&cli.StringFlag{Name: "kafka-user", EnvVars: []string{"PHONESIGNALS_KAFKA_USER"}, Usage: "Kafka SASL user"},
		&cli.StringFlag{Name: "kafka-password-file", EnvVars: []string{"PHONESIGNALS_KAFKA_PASSWORD_FILE"}, Usage: "`FILE` holding the Kafka SASL password (or set " + envKafkaPassword + ")"},
	}
}

// secretEnvNames are the environment variables read directly (not as
// flags) by the binary.
var secretEnvNames = []string{envClickHousePassword, envKafkaPassword}

// storeConfig is the store config for addr with the TLS and credential
// flags applied.
func storeConfig(c *cli.Context, addr string) (store.Config, error) {
	cfg := store.Config{Addr: addr, Database: c.String("database"), Username: c.String("clickhouse-user")}
	pw, err := tlsconf.Secret(envClickHousePassword, c.String("clickhouse-password-file"))
	if err != nil {
		return cfg, fmt.Errorf("clickhouse password: %w", err)
	}
	cfg.Password = pw
	if c.Bool("clickhouse-tls") || c.String("clickhouse-ca-file") != "" {
		if cfg.TLS, err = tlsconf.Client(c.String("clickhouse-ca-file")); err != nil {
			return cfg, fmt.Errorf("--clickhouse-ca-file: %w", err)
		}
	}
	return cfg, nil
}

// kafkaSecurity applies the Kafka TLS and SASL flags to cfg.
func kafkaSecurity(c *cli.Context, cfg *bus.Config) error {
	if c.Bool("kafka-tls") || c.String("kafka-ca-file") != "" {
		t, err := tlsconf.Client(c.String("kafka-ca-file"))
		if err != nil {
			return fmt.Errorf("--kafka-ca-file: %w", err)
		}
		cfg.TLS = t
	}
	if m := strings.TrimSpace(c.String("kafka-sasl-mechanism")); m != "" {
		pw, err := tlsconf.Secret(envKafkaPassword, c.String("kafka-password-file"))
		if err != nil {
			return fmt.Errorf("kafka password: %w", err)
		}
		cfg.SASL = bus.SASL{Mechanism: m, User: c.String("kafka-user"), Password: pw}
	}
	return nil
}
