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

// CallResource serves GET /cycles: the org's review cycles by start, for
// the query editor's cycle picker.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	path := strings.Trim(req.Path, "/")
	if path != "cycles" {
		return sendJSON(sender, http.StatusNotFound, map[string]string{"error": "unknown resource /" + path + ": this data source serves GET /cycles"})
	}
	if req.Method != http.MethodGet {
		return sendJSON(sender, http.StatusMethodNotAllowed, map[string]string{"error": req.Method + " /cycles: only GET is allowed"})
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
