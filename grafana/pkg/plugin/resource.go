package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/phonesignals/phonesignals/internal/store"
)

// CycleJSON is one review cycle as GET /cycles returns it; period_end is
// exclusive.
type CycleJSON struct {
	CycleID     string    `json:"cycle_id"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
}

// EmployeeJSON is one employee as GET /employees returns it.
type EmployeeJSON struct {
	EmployeeID string `json:"employee_id"`
	Name       string `json:"name"`
	Cohort     string `json:"cohort"`
}

// CallResource serves GET /cycles (the org's review cycles by start) and
// GET /employees (the roster), for the query editor's pickers.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	path := strings.Trim(req.Path, "/")
	if path != "cycles" && path != "employees" {
		return sendJSON(sender, http.StatusNotFound, map[string]string{"error": "unknown resource /" + path + ": this data source serves GET /cycles and GET /employees"})
	}
	if req.Method != http.MethodGet {
		return sendJSON(sender, http.StatusMethodNotAllowed, map[string]string{"error": req.Method + " /" + path + ": only GET is allowed"})
	}
	st, err := d.store(ctx)
	if err != nil {
		code := http.StatusBadGateway
		if d.settingsErr != nil {
			code = http.StatusBadRequest
		}
		return sendJSON(sender, code, map[string]string{"error": err.Error()})
	}
	if _, err := d.org(ctx, st); err != nil {
		code := http.StatusBadGateway
		if errors.Is(err, store.ErrNotFound) {
			code = http.StatusNotFound
		}
		return sendJSON(sender, code, map[string]string{"error": err.Error()})
	}
	if path == "employees" {
		emps, err := st.Employees(ctx, d.settings.Org)
		if err != nil {
			return sendJSON(sender, http.StatusBadGateway, map[string]string{"error": err.Error()})
		}
		out := make([]EmployeeJSON, 0, len(emps))
		for _, e := range emps {
			out = append(out, EmployeeJSON{EmployeeID: e.ID, Name: e.Name, Cohort: e.Cohort})
		}
		return sendJSON(sender, http.StatusOK, out)
	}
	cs, err := st.Cycles(ctx, d.settings.Org)
	if err != nil {
		return sendJSON(sender, http.StatusBadGateway, map[string]string{"error": err.Error()})
	}
	out := make([]CycleJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, CycleJSON{CycleID: c.ID, PeriodStart: c.Start.UTC(), PeriodEnd: c.End.UTC()})
	}
	return sendJSON(sender, http.StatusOK, out)
}

func sendJSON(sender backend.CallResourceResponseSender, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  status,
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    body,
	})
}
