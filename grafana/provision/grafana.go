package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GrafanaConfig says how to reach Grafana's HTTP API as a server admin.
type GrafanaConfig struct {
	// URL is Grafana's base URL, e.g. http://127.0.0.1:3000. Required.
	URL string
	// User is a Grafana server admin (default admin).
	User string
	// Password is that user's password. Required.
	Password string
	// Timeout bounds each request (default 15s).
	Timeout time.Duration
}

// Validate reports every problem, each naming the field.
func (c GrafanaConfig) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("grafana url %q: want http(s)://HOST:PORT of Grafana, e.g. http://127.0.0.1:3000", c.URL))
	}
	if c.Password == "" {
		errs = append(errs, errors.New("grafana password: empty; the server admin's password (GF_SECURITY_ADMIN_PASSWORD of the Grafana container) from --grafana-password-file or PHONESIGNALS_GRAFANA_PASSWORD"))
	}
	return errors.Join(errs...)
}

// Grafana is a client of the few admin endpoints provisioning needs.
type Grafana struct {
	cfg  GrafanaConfig
	http *http.Client
}

// NewGrafana checks cfg and returns a client.
func NewGrafana(cfg GrafanaConfig) (*Grafana, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.User == "" {
		cfg.User = "admin"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	return &Grafana{cfg: cfg, http: &http.Client{Timeout: cfg.Timeout}}, nil
}

// do sends a JSON request and decodes a JSON answer into out; a non-2xx
// answer is an error carrying the status and Grafana's message.
func (g *Grafana) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.cfg.URL+path, rd)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(g.cfg.User, g.cfg.Password)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := g.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w (is Grafana up at %s?)", method, path, err, g.cfg.URL)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &m)
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = fmt.Sprintf(" (user %s must be a Grafana server admin; check the password)", g.cfg.User)
		}
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d %s%s", method, path, resp.StatusCode, m.Message, hint)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding %q: %w", method, path, raw, err)
		}
	}
	return resp.StatusCode, nil
}

// EnsureOrg returns the id of the Grafana organization called name,
// creating it when missing.
func (g *Grafana) EnsureOrg(ctx context.Context, name string) (int64, error) {
	var org struct {
		ID int64 `json:"id"`
	}
	code, err := g.do(ctx, http.MethodGet, "/api/orgs/name/"+url.PathEscape(name), nil, &org)
	if err == nil {
		return org.ID, nil
	}
	if code != http.StatusNotFound {
		return 0, fmt.Errorf("looking up Grafana org %s: %w", name, err)
	}
	var created struct {
		OrgID json.Number `json:"orgId"`
	}
	if _, err := g.do(ctx, http.MethodPost, "/api/orgs", map[string]string{"name": name}, &created); err != nil {
		return 0, fmt.Errorf("creating Grafana org %s: %w", name, err)
	}
	id, err := created.OrgID.Int64()
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("creating Grafana org %s: answer has no orgId (%q)", name, created.OrgID)
	}
	return id, nil
}

// AddMember makes an existing Grafana user (login or email) a member of
// the organization with role (Viewer, Editor or Admin); already being one
// is fine.
func (g *Grafana) AddMember(ctx context.Context, orgID int64, login, role string) error {
	code, err := g.do(ctx, http.MethodPost, fmt.Sprintf("/api/orgs/%d/users", orgID), map[string]string{"loginOrEmail": login, "role": role}, nil)
	switch {
	case err == nil, code == http.StatusConflict:
		return nil
	case code == http.StatusNotFound:
		return fmt.Errorf("adding %s to Grafana org %d: %w (create the user first: Grafana > Administration > Users, or sign-in through your SSO)", login, orgID, err)
	}
	return fmt.Errorf("adding %s to Grafana org %d: %w", login, orgID, err)
}

// Reload makes Grafana read the data source and dashboard provisioning
// again, without a restart.
func (g *Grafana) Reload(ctx context.Context) error {
	for _, what := range []string{"datasources", "dashboards"} {
		if _, err := g.do(ctx, http.MethodPost, "/api/admin/provisioning/"+what+"/reload", nil, nil); err != nil {
			return fmt.Errorf("reloading Grafana's %s provisioning: %w", what, err)
		}
	}
	return nil
}
