package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/grafana/provision"
	"github.com/phonesignals/phonesignals/internal/store"
)

// grafanaCommand wires `phonesignals grafana provision` to grafana/provision.
func grafanaCommand() *cli.Command {
	return &cli.Command{
		Name:  "grafana",
		Usage: "Grafana for managers",
		Subcommands: []*cli.Command{{
			Name: "provision",
			Usage: "one Grafana organization per org, each with its own data source and the dashboards " +
				"(open-source Grafana has no data source permissions: organizations keep orgs apart)",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "grafana-url", EnvVars: []string{"PHONESIGNALS_GRAFANA_URL"}, Value: "http://127.0.0.1:3000", Usage: "Grafana's `URL`"},
				&cli.StringFlag{Name: "grafana-user", EnvVars: []string{"GRAFANA_ADMIN_USER"}, Value: "admin", Usage: "a Grafana server admin"},
				&cli.StringFlag{Name: "grafana-password-file", Usage: "`FILE` holding that user's password (default: PHONESIGNALS_GRAFANA_PASSWORD, else GRAFANA_ADMIN_PASSWORD)"},
				&cli.StringFlag{Name: "out", Value: "grafana/provisioning", Usage: "the provisioning `DIR` Grafana mounts at /etc/grafana/provisioning"},
				&cli.StringFlag{Name: "datasource-clickhouse", Value: "clickhouse:9000", Usage: "ClickHouse `HOST:PORT` (native) as Grafana reaches it"},
				&cli.StringFlag{Name: "datasource-database", Usage: "database as Grafana reads it (default: --database)"},
				&cli.StringFlag{Name: "datasource-user", Usage: "read-only ClickHouse user for Grafana (default: ClickHouse's default)"},
				&cli.StringFlag{Name: "datasource-password-env", Value: "PHONESIGNALS_CLICKHOUSE_PASSWORD", Usage: "`NAME` of Grafana's environment variable holding that user's password (docker-compose.yml sets it; empty for none)"},
				&cli.BoolFlag{Name: "datasource-tls", Usage: "Grafana speaks TLS to ClickHouse (port 9440, ClickHouse Cloud)"},
				&cli.StringFlag{Name: "datasource-ca-env", Usage: "`NAME` of Grafana's environment variable holding a PEM CA of ClickHouse's certificate (private CA)"},
				&cli.StringFlag{Name: "datasource-kafka", Usage: "Kafka brokers `HOST:PORT,...` as Grafana reaches them, for the records-behind panel"},
				&cli.StringFlag{Name: "managers", Usage: "CSV `FILE` of org,login[,role]: Grafana users to add to their org's organization (role Viewer by default)"},
			},
			Action: storeAction(grafanaProvision),
		}},
	}
}

func grafanaProvision(c *cli.Context, _ *env, st *store.Store) error {
	password := os.Getenv("PHONESIGNALS_GRAFANA_PASSWORD")
	if password == "" {
		password = os.Getenv("GRAFANA_ADMIN_PASSWORD") // what docker-compose.yml gives Grafana
	}
	if f := c.String("grafana-password-file"); f != "" {
		raw, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("--grafana-password-file: %w", err)
		}
		password = strings.TrimSpace(string(raw))
	}
	g, err := provision.NewGrafana(provision.GrafanaConfig{URL: c.String("grafana-url"), User: c.String("grafana-user"), Password: password})
	if err != nil {
		return err
	}
	var managers []provision.Manager
	if f := c.String("managers"); f != "" {
		fh, err := os.Open(f)
		if err != nil {
			return fmt.Errorf("--managers: %w", err)
		}
		managers, err = provision.ParseManagers(fh)
		fh.Close()
		if err != nil {
			return fmt.Errorf("--managers %s: %w", f, err)
		}
	}
	orgs, err := st.ListOrgs(c.Context)
	if err != nil {
		return err
	}
	db := c.String("datasource-database")
	if db == "" {
		db = c.String("database")
	}
	t := provision.Target{ClickHouse: c.String("datasource-clickhouse"), Database: db, Username: c.String("datasource-user"),
		PasswordEnv: c.String("datasource-password-env"), Kafka: c.String("datasource-kafka"),
		TLS: c.Bool("datasource-tls"), CACertEnv: c.String("datasource-ca-env")}
	res, err := provision.Provision(c.Context, g, t, c.String("out"), orgs, managers)
	for _, o := range orgs {
		if id, ok := res.OrgIDs[o]; ok {
			fmt.Printf("org %s: Grafana organization %d, data source %s\n", o, id, provision.DatasourceUID(o))
		}
	}
	if err != nil {
		return fmt.Errorf("grafana provision: %w", err)
	}
	fmt.Printf("wrote %s; Grafana reloaded its provisioning; %d managers added\n", strings.Join(res.Files, ", "), res.Members)
	return nil
}
