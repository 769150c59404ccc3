package plugin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"

	"github.com/phonesignals/phonesignals/internal/platform/tlsconf"
	"github.com/phonesignals/phonesignals/internal/store"
)

// ID is the plugin id (plugin.json "id").
const ID = "phonesignals-phonesignals-datasource"

// dialTimeout bounds a connection attempt to ClickHouse.
const dialTimeout = 10 * time.Second

// Datasource is one data-source instance: its settings and its own
// ClickHouse connection, opened on first use and closed by Dispose when
// Grafana changes or deletes the data source.
type Datasource struct {
	settings Settings
	// settingsErr is reported by every call (health, queries, resources):
	// Grafana shows a health message, but only a generic failure for an
	// error returned by the factory.
	settingsErr error

	mu       sync.Mutex
	st       *store.Store
	disposed bool
	// provider is the org's provider, cached once the org was found.
	provider string
	// escalation is whether the org's calls carry escalations, cached
	// once the cohort medians said (escalationAvailable).
	escalation *bool
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// NewDatasource is the instance factory passed to datasource.Manage.
func NewDatasource(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	st, err := LoadSettings(s)
	if err != nil {
		err = fmt.Errorf("data source %q settings: %w", s.Name, err)
	}
	return &Datasource{settings: st, settingsErr: err}, nil
}

// Dispose closes the instance's ClickHouse connection.
func (d *Datasource) Dispose() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.disposed = true
	if d.st != nil {
		_ = d.st.Close()
		d.st = nil
	}
}

// store returns the instance's connection, opening it when needed. A
// failed attempt is not cached: the next call tries again.
func (d *Datasource) store(ctx context.Context) (*store.Store, error) {
	if d.settingsErr != nil {
		return nil, d.settingsErr
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.disposed {
		return nil, errors.New("data source instance was disposed (settings changed); retry")
	}
	if d.st != nil {
		return d.st, nil
	}
	var tlsCfg *tls.Config
	if d.settings.TLS {
		var err error
		if tlsCfg, err = tlsconf.ClientPEM(d.settings.TLSCACert); err != nil {
			return nil, fmt.Errorf("secureJsonData.tlsCACert: %w", err)
		}
	}
	st, err := store.Open(ctx, store.Config{
		TLS:         tlsCfg,
		Addr:        d.settings.ClickHouse,
		Database:    d.settings.Database,
		Username:    d.settings.Username,
		Password:    d.settings.Password,
		DialTimeout: dialTimeout,
		// Grafana only reads: a read-only user works, and a mistyped
		// database is an error instead of a new empty database.
		NoCreate: true,
	})
	if err != nil {
		return nil, connectError(d.settings, err)
	}
	d.st = st
	return st, nil
}

// connectError explains a failed connection with the settings to check.
func connectError(s Settings, err error) error {
	hint := "check jsonData.clickhouse (native protocol HOST:PORT), jsonData.username and secureJsonData.password"
	if _, port, _ := net.SplitHostPort(s.ClickHouse); port == "8123" || port == "8443" {
		hint = "port " + port + " is ClickHouse's HTTP interface: jsonData.clickhouse wants the native protocol port, usually 9000"
	}
	var unknownCA x509.UnknownAuthorityError
	if s.TLS && errors.As(err, &unknownCA) {
		hint = "the server's certificate is signed by a CA Grafana does not trust: put that CA's PEM in secureJsonData.tlsCACert"
	}
	return fmt.Errorf("cannot use ClickHouse at %s, database %s (%s): %w", s.ClickHouse, s.Database, hint, err)
}

// org checks that the instance's org exists and returns its provider; the
// answer is cached once the org was found.
func (d *Datasource) org(ctx context.Context, st *store.Store) (string, error) {
	d.mu.Lock()
	p := d.provider
	d.mu.Unlock()
	if p != "" {
		return p, nil
	}
	o, err := st.GetOrg(ctx, d.settings.Org)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("%w; or fix jsonData.org of this data source", err)
		}
		return "", err
	}
	d.mu.Lock()
	d.provider = o.Provider
	d.mu.Unlock()
	return o.Provider, nil
}
