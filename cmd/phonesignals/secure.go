package main

import (
	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/app/deps"
)

// Environment variables holding passwords. Passwords never come from a
// flag value: argv is readable by every user of the machine (ps).
const (
	envClickHousePassword = deps.EnvClickHousePassword
	envKafkaPassword      = deps.EnvKafkaPassword
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
var secretEnvNames = []string{envClickHousePassword, envKafkaPassword, envAnalystPassword}
