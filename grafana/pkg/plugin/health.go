package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/queries"
)

// HealthDetails are CheckHealth's JSON details when the data source works.
type HealthDetails struct {
	Org           string `json:"org"`
	Provider      string `json:"provider"`
	SchemaVersion int    `json:"schemaVersion"`
	Database      string `json:"database"`
	ClickHouse    string `json:"clickhouse"`
	Employees     int    `json:"employees"`
	Cycles        int    `json:"cycles"`
}

func healthError(format string, args ...any) *backend.CheckHealthResult {
	return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: fmt.Sprintf(format, args...)}
}

// CheckHealth is Grafana's "Save & test": it connects, checks the schema
// is migrated and the org exists, and names the fix when something is
// missing.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	if d.settingsErr != nil {
		return healthError("%v", d.settingsErr), nil
	}
	st, err := d.store(ctx)
	if err != nil {
		return healthError("%v", err), nil
	}
	s := d.settings
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return healthError("database %s on %s has no phonesignals schema: run `phonesignals migrate` against it (or fix jsonData.database): %v", s.Database, s.ClickHouse, err), nil
	}
	if v == 0 {
		return healthError("database %s on %s has no migration applied: run `phonesignals migrate` against it", s.Database, s.ClickHouse), nil
	}
	if want := latestMigration(); want > v {
		return healthError("database %s on %s is at schema version %d, this plugin reads version %d: run `phonesignals migrate`", s.Database, s.ClickHouse, v, want), nil
	}
	o, err := st.GetOrg(ctx, s.Org)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return healthError("%v; or fix jsonData.org of this data source", err), nil
		}
		return healthError("reading org %s: %v", s.Org, err), nil
	}
	emps, err := st.Employees(ctx, s.Org)
	if err != nil {
		return healthError("%v", err), nil
	}
	cycles, err := st.Cycles(ctx, s.Org)
	if err != nil {
		return healthError("%v", err), nil
	}
	details, _ := json.Marshal(HealthDetails{Org: s.Org, Provider: o.Provider, SchemaVersion: v, Database: s.Database,
		ClickHouse: s.ClickHouse, Employees: len(emps), Cycles: len(cycles)})
	msg := fmt.Sprintf("phonesignals OK: org %s (provider %s), schema version %d, %d employees, %d review cycles", s.Org, o.Provider, v, len(emps), len(cycles))
	if len(emps) == 0 {
		msg += fmt.Sprintf("; no employees yet: `phonesignals employees import --org %s employees.csv`", s.Org)
	}
	if len(cycles) == 0 {
		msg += fmt.Sprintf("; no review cycles yet: `phonesignals cycles add --org %s --cycle ID --start YYYY-MM-DD --end YYYY-MM-DD`", s.Org)
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: msg, JSONDetails: details}, nil
}

// latestMigration is the newest schema version the embedded queries need.
func latestMigration() int {
	migs, err := queries.Migrations()
	if err != nil || len(migs) == 0 {
		return 0
	}
	return migs[len(migs)-1].Version
}
