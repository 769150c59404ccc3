package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/phonesignals/phonesignals/internal/platform/tlsconf"
)

// DefaultDatabase is the database used when jsonData.database is empty.
const DefaultDatabase = "phonesignals"

// Settings are one data-source instance's settings: where ClickHouse is and
// the one org the instance may read. Queries carry no org, so a manager
// given this data source can never read another org.
type Settings struct {
	// ClickHouse is HOST:PORT of ClickHouse's native protocol (jsonData.clickhouse).
	ClickHouse string `json:"clickhouse"`
	// Database defaults to "phonesignals" (jsonData.database).
	Database string `json:"database"`
	// Org is the phonesignals org this instance is scoped to (jsonData.org).
	Org string `json:"org"`
	// Username defaults to ClickHouse's "default" (jsonData.username).
	Username string `json:"username"`
	// Kafka are the brokers phonesignals uses, HOST:PORT, from the
	// comma-separated jsonData.kafka; optional, only records_behind reads
	// it (default none).
	Kafka []string `json:"-"`
	// Password comes from secureJsonData.password only.
	Password string `json:"-"`
	// TLS speaks the native protocol over TLS (jsonData.tls; port 9440,
	// ClickHouse Cloud). Default false; implied by TLSCACert.
	TLS bool `json:"-"`
	// TLSCACert is a PEM CA to trust beside the system roots
	// (secureJsonData.tlsCACert), for a server with a private CA.
	TLSCACert string `json:"-"`
}

// Same rules as internal/store: databases are identifiers, orgs are what
// `phonesignals org add` accepts.
var (
	identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	orgRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// LoadSettings decodes and validates an instance's settings. The error
// lists every problem, each naming its field (jsonData.X or
// secureJsonData.X) and what to put there.
func LoadSettings(s backend.DataSourceInstanceSettings) (Settings, error) {
	var st Settings
	raw := map[string]json.RawMessage{}
	if len(s.JSONData) > 0 && string(s.JSONData) != "null" {
		if err := json.Unmarshal(s.JSONData, &raw); err != nil {
			return st, fmt.Errorf("jsonData: not a JSON object (%v); want {\"clickhouse\": \"HOST:PORT\", \"database\": \"phonesignals\", \"org\": \"ORG\"}", err)
		}
	}
	var errs []error
	str := func(key string, dst *string) {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			return
		}
		if err := json.Unmarshal(v, dst); err != nil {
			errs = append(errs, fmt.Errorf("jsonData.%s: want a string, got %s", key, v))
			return
		}
		*dst = strings.TrimSpace(*dst)
	}
	str("clickhouse", &st.ClickHouse)
	str("database", &st.Database)
	str("org", &st.Org)
	str("username", &st.Username)
	st.Password = s.DecryptedSecureJSONData["password"]
	var kafka string
	str("kafka", &kafka)
	var kerrs []error
	st.Kafka, kerrs = parseBrokers(kafka)
	errs = append(errs, kerrs...)
	_, hostKey := raw["host"]
	if err := checkClickHouseAddr(st.ClickHouse, hostKey); err != nil {
		errs = append(errs, err)
	}
	if st.Database == "" {
		st.Database = DefaultDatabase
	} else if !identRe.MatchString(st.Database) {
		errs = append(errs, fmt.Errorf("jsonData.database %q: use letters, digits and _ only (default %s)", st.Database, DefaultDatabase))
	}
	switch {
	case st.Org == "":
		errs = append(errs, errors.New("jsonData.org: empty; every phonesignals data source reads exactly one org: set it to the org's name (as in `phonesignals org add --org NAME`), one data source per org"))
	case !identRe.MatchString(st.Org) && !orgRe.MatchString(st.Org):
		errs = append(errs, fmt.Errorf("jsonData.org %q: use letters, digits, '-', '_' and '.' only", st.Org))
	}
	errs = append(errs, st.loadTLS(raw, s.DecryptedSecureJSONData["tlsCACert"])...)
	if _, ok := raw["password"]; ok {
		errs = append(errs, errors.New("jsonData.password: passwords are not stored in plain jsonData; move it to secureJsonData.password"))
	}
	return st, errors.Join(errs...)
}

// parseBrokers splits jsonData.kafka into HOST:PORT brokers, with an error
// per malformed one.
func parseBrokers(kafka string) (brokers []string, errs []error) {
	for _, b := range strings.Split(kafka, ",") {
		if b = strings.TrimSpace(b); b == "" {
			continue
		}
		if h, p, err := net.SplitHostPort(b); err != nil || h == "" || p == "" {
			errs = append(errs, fmt.Errorf("jsonData.kafka: broker %q: want HOST:PORT[,HOST:PORT], e.g. redpanda:9092", b))
			continue
		}
		brokers = append(brokers, b)
	}
	return brokers, errs
}

// checkClickHouseAddr checks jsonData.clickhouse; hostKey says jsonData has
// the official ClickHouse plugin's "host" key, a likely mix-up.
func checkClickHouseAddr(addr string, hostKey bool) error {
	switch {
	case addr == "":
		hint := ""
		if hostKey {
			hint = " (found jsonData.host/port, the official ClickHouse plugin's keys: this plugin reads one HOST:PORT from jsonData.clickhouse)"
		}
		return fmt.Errorf("jsonData.clickhouse: empty; set it to ClickHouse's native-protocol HOST:PORT, e.g. clickhouse:9000%s", hint)
	case strings.Contains(addr, "://"):
		return fmt.Errorf("jsonData.clickhouse %q: want HOST:PORT of the native protocol (usually 9000), not a URL", addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("jsonData.clickhouse %q: want HOST:PORT of the native protocol, e.g. clickhouse:9000", addr)
	}
	if p, perr := strconv.Atoi(port); host == "" || perr != nil || p < 1 || p > 65535 {
		return fmt.Errorf("jsonData.clickhouse %q: want HOST:PORT with a host and a port in 1-65535, e.g. clickhouse:9000", addr)
	}
	return nil
}

// loadTLS reads jsonData.tls and secureJsonData.tlsCACert.
func (st *Settings) loadTLS(raw map[string]json.RawMessage, caPEM string) []error {
	var errs []error
	if v, ok := raw["tls"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &st.TLS); err != nil {
			errs = append(errs, fmt.Errorf("jsonData.tls: want true or false, got %s", v))
		}
	}
	st.TLSCACert = caPEM
	if strings.TrimSpace(caPEM) != "" {
		st.TLS = true
		if _, err := tlsconf.ClientPEM(caPEM); err != nil {
			errs = append(errs, fmt.Errorf("secureJsonData.tlsCACert: %w", err))
		}
	}
	if _, port, err := net.SplitHostPort(st.ClickHouse); err == nil && port == "9440" && !st.TLS {
		errs = append(errs, fmt.Errorf("jsonData.clickhouse %q: 9440 is ClickHouse's TLS port (ClickHouse Cloud); set jsonData.tls to true", st.ClickHouse))
	}
	return errs
}
