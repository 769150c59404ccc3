package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"gopkg.in/yaml.v3"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
)

// MainOrgID is Grafana's first organization, where new users land by
// default: it never gets a phonesignals data source.
const MainOrgID = 1

// Datasource is one entry of provisioning/datasources/*.yaml.
type Datasource struct {
	Name           string            `yaml:"name"`
	UID            string            `yaml:"uid"`
	OrgID          int64             `yaml:"orgId"`
	Type           string            `yaml:"type"`
	Access         string            `yaml:"access"`
	IsDefault      bool              `yaml:"isDefault"`
	Editable       bool              `yaml:"editable"`
	JSONData       map[string]any    `yaml:"jsonData"`
	SecureJSONData map[string]string `yaml:"secureJsonData,omitempty"`
}

// DatasourcesFile is provisioning/datasources/phonesignals-orgs.yaml.
type DatasourcesFile struct {
	APIVersion  int          `yaml:"apiVersion"`
	Datasources []Datasource `yaml:"datasources"`
}

// Provider is one dashboard provider of provisioning/dashboards/*.yaml.
type Provider struct {
	Name                  string            `yaml:"name"`
	OrgID                 int64             `yaml:"orgId"`
	Type                  string            `yaml:"type"`
	Folder                string            `yaml:"folder"`
	DisableDeletion       bool              `yaml:"disableDeletion"`
	AllowUIUpdates        bool              `yaml:"allowUiUpdates"`
	UpdateIntervalSeconds int               `yaml:"updateIntervalSeconds"`
	Options               map[string]string `yaml:"options"`
}

// DashboardsFile is provisioning/dashboards/phonesignals-orgs.yaml.
type DashboardsFile struct {
	APIVersion int        `yaml:"apiVersion"`
	Providers  []Provider `yaml:"providers"`
}

// Target says how Grafana's plugin reaches the data.
type Target struct {
	// ClickHouse is HOST:PORT of ClickHouse's native protocol as Grafana
	// reaches it (default clickhouse:9000, the compose service).
	ClickHouse string
	// Database defaults to phonesignals.
	Database string
	// Username is ClickHouse's user for Grafana (default: ClickHouse's default).
	Username string
	// PasswordEnv names the environment variable of Grafana's process that
	// Grafana expands into secureJsonData.password (default: no password).
	PasswordEnv string
	// Kafka are the brokers for the records-behind panel (default none).
	Kafka string
	// TLS speaks ClickHouse's native protocol over TLS (port 9440,
	// ClickHouse Cloud); default false.
	TLS bool
	// CACertEnv names Grafana's environment variable holding a PEM CA for
	// a server with a private CA (secureJsonData.tlsCACert); default none.
	CACertEnv string
	// DashboardsPath is where Grafana sees grafana/dashboards (default
	// /var/lib/grafana/dashboards).
	DashboardsPath string
}

func (t *Target) defaults() {
	if t.ClickHouse == "" {
		t.ClickHouse = "clickhouse:9000"
	}
	if t.Database == "" {
		t.Database = plugin.DefaultDatabase
	}
	if t.DashboardsPath == "" {
		t.DashboardsPath = "/var/lib/grafana/dashboards"
	}
}

// DatasourceUID is the uid of org's data source.
func DatasourceUID(org string) string { return "phonesignals-" + org }

// Render builds both files for orgIDs (phonesignals org -> Grafana org id)
// and checks them with Verify.
func Render(t Target, orgIDs map[string]int64) (DatasourcesFile, DashboardsFile, error) {
	t.defaults()
	orgs := make([]string, 0, len(orgIDs))
	for o := range orgIDs {
		orgs = append(orgs, o)
	}
	sort.Strings(orgs)
	ds := DatasourcesFile{APIVersion: 1, Datasources: []Datasource{}}
	dash := DashboardsFile{APIVersion: 1, Providers: []Provider{}}
	for _, o := range orgs {
		jd := map[string]any{"clickhouse": t.ClickHouse, "database": t.Database, "org": o}
		if t.Username != "" {
			jd["username"] = t.Username
		}
		if t.Kafka != "" {
			jd["kafka"] = t.Kafka
		}
		if t.TLS {
			jd["tls"] = true
		}
		d := Datasource{Name: "phonesignals", UID: DatasourceUID(o), OrgID: orgIDs[o], Type: plugin.ID, Access: "proxy",
			IsDefault: true, Editable: false, JSONData: jd}
		d.SecureJSONData = secure(t)
		ds.Datasources = append(ds.Datasources, d)
		dash.Providers = append(dash.Providers, Provider{Name: "phonesignals-" + o, OrgID: orgIDs[o], Type: "file", Folder: "phonesignals",
			DisableDeletion: true, UpdateIntervalSeconds: 60, Options: map[string]string{"path": t.DashboardsPath}})
	}
	return ds, dash, Verify(ds, dash)
}

// secure is a data source's secureJsonData: references to Grafana's
// environment, never the secrets themselves.
func secure(t Target) map[string]string {
	out := map[string]string{}
	if t.PasswordEnv != "" {
		out["password"] = "$" + t.PasswordEnv
	}
	if t.CACertEnv != "" {
		out["tlsCACert"] = "$" + t.CACertEnv
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Verify checks that no Grafana organization can reach another org's
// data: every phonesignals data source is in its own organization, which
// holds no other phonesignals data source; none is in the Main Org; every
// data source's settings are valid; and dashboards are provisioned only
// into organizations that have their data source.
func Verify(ds DatasourcesFile, dash DashboardsFile) error {
	var errs []error
	byGrafanaOrg := map[int64][]Datasource{}
	grafanaOrgOf := map[string]int64{}
	uids := map[string]bool{}
	for _, d := range ds.Datasources {
		if d.Type != plugin.ID {
			continue
		}
		if d.OrgID <= MainOrgID {
			errs = append(errs, fmt.Errorf("data source %s (org %v) is in Grafana org %d: every user lands in the Main Org (1), so it would reach everyone; give it its own orgId", d.UID, d.JSONData["org"], d.OrgID))
		}
		if uids[d.UID] {
			errs = append(errs, fmt.Errorf("data source uid %s is used twice", d.UID))
		}
		uids[d.UID] = true
		raw, _ := json.Marshal(d.JSONData)
		st, err := plugin.LoadSettings(backend.DataSourceInstanceSettings{JSONData: raw})
		if err != nil {
			errs = append(errs, fmt.Errorf("data source %s: %w", d.UID, err))
			continue
		}
		if prev, ok := grafanaOrgOf[st.Org]; ok && prev != d.OrgID {
			errs = append(errs, fmt.Errorf("org %s has data sources in Grafana orgs %d and %d", st.Org, prev, d.OrgID))
		}
		grafanaOrgOf[st.Org] = d.OrgID
		byGrafanaOrg[d.OrgID] = append(byGrafanaOrg[d.OrgID], d)
	}
	for id, list := range byGrafanaOrg {
		if len(list) > 1 {
			var names []string
			for _, d := range list {
				names = append(names, fmt.Sprintf("%s (org %v)", d.UID, d.JSONData["org"]))
			}
			sort.Strings(names)
			errs = append(errs, fmt.Errorf("Grafana org %d holds %d phonesignals data sources (%s): any member could read all of them", id, len(list), strings.Join(names, ", ")))
		}
	}
	for _, p := range dash.Providers {
		if len(byGrafanaOrg[p.OrgID]) == 0 {
			errs = append(errs, fmt.Errorf("dashboard provider %s provisions into Grafana org %d, which has no phonesignals data source", p.Name, p.OrgID))
		}
	}
	return errors.Join(errs...)
}

// header explains the generated files.
const header = "# Generated by `phonesignals grafana provision` from the orgs in ClickHouse:\n" +
	"# one Grafana organization per phonesignals org, each with its own data source\n" +
	"# (scoped to that org) and the dashboards. Do not edit: run the command again.\n"

// Marshal encodes a provisioning file with the generated-file header.
func Marshal(v any) ([]byte, error) {
	raw, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte(header), raw...), nil
}
