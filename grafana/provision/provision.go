package provision

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File names the command writes under the provisioning directory.
const (
	DatasourcesFileName = "datasources/phonesignals-orgs.yaml"
	DashboardsFileName  = "dashboards/phonesignals-orgs.yaml"
)

// Manager is a Grafana user to make a member of an org's organization.
type Manager struct {
	Org   string
	Login string
	// Role is Viewer (the default), Editor or Admin.
	Role string
}

// Result is what Provision did.
type Result struct {
	// OrgIDs maps each phonesignals org to its Grafana organization.
	OrgIDs map[string]int64
	// Files are the provisioning files written.
	Files []string
	// Members are the managers added.
	Members int
}

// Provision makes one Grafana organization per org (named after it),
// writes the data source and dashboard provisioning into out, checks it
// with Verify, adds the managers, and asks Grafana to reload.
func Provision(ctx context.Context, g *Grafana, t Target, out string, orgs []string, managers []Manager) (Result, error) {
	res := Result{OrgIDs: map[string]int64{}}
	if len(orgs) == 0 {
		return res, errors.New("no orgs in ClickHouse: add one with `phonesignals org add --org NAME --provider aircall|ringcentral` first")
	}
	known := map[string]bool{}
	for _, o := range orgs {
		known[o] = true
	}
	for _, m := range managers {
		if !known[m.Org] {
			return res, fmt.Errorf("manager %s: org %q is not in ClickHouse (orgs: %s)", m.Login, m.Org, strings.Join(orgs, ", "))
		}
	}
	for _, o := range orgs {
		id, err := g.EnsureOrg(ctx, o)
		if err != nil {
			return res, err
		}
		if id <= MainOrgID {
			return res, fmt.Errorf("Grafana org %q is the Main Org (id %d), where every user lands: rename the Main Org in Grafana (Administration > Organizations) and run again", o, id)
		}
		res.OrgIDs[o] = id
	}
	ds, dash, err := Render(t, res.OrgIDs)
	if err != nil {
		return res, fmt.Errorf("the generated provisioning would not keep orgs apart: %w", err)
	}
	for name, v := range map[string]any{DatasourcesFileName: ds, DashboardsFileName: dash} {
		p := filepath.Join(out, name)
		if err := writeYAML(p, v); err != nil {
			return res, err
		}
		res.Files = append(res.Files, p)
	}
	sort.Strings(res.Files)
	if err := g.Reload(ctx); err != nil {
		return res, err
	}
	for _, m := range managers {
		if err := g.AddMember(ctx, res.OrgIDs[m.Org], m.Login, m.Role); err != nil {
			return res, err
		}
		res.Members++
	}
	return res, nil
}

// writeYAML writes v to p through a temporary file, so Grafana never reads
// half a file.
func writeYAML(p string, v any) error {
	raw, err := Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", p, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(p), err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// ParseManagers reads `org,login[,role]` lines (a header line starting
// with "org" is skipped); role defaults to Viewer. Every bad line is
// reported with its number.
func ParseManagers(r io.Reader) ([]Manager, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	var out []Manager
	var errs []error
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("managers file: %w", err)
		}
		if line == 1 && strings.EqualFold(strings.TrimSpace(rec[0]), "org") {
			continue
		}
		m := Manager{Role: "Viewer"}
		if len(rec) >= 2 {
			m.Org, m.Login = strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		}
		if len(rec) >= 3 && strings.TrimSpace(rec[2]) != "" {
			m.Role = strings.TrimSpace(rec[2])
		}
		switch {
		case len(rec) < 2 || len(rec) > 3 || m.Org == "" || m.Login == "":
			errs = append(errs, fmt.Errorf("managers file line %d: want org,login[,role]", line))
		case m.Role != "Viewer" && m.Role != "Editor" && m.Role != "Admin":
			errs = append(errs, fmt.Errorf("managers file line %d: role %q: want Viewer, Editor or Admin", line, m.Role))
		default:
			out = append(out, m)
		}
	}
	return out, errors.Join(errs...)
}
