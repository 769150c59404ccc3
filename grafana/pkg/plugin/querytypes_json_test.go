package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFrontendQueryTypes checks grafana/src/queryTypes.json, which the
// query editor shows, against the query types the backend answers: the
// same types, each with the fields the backend reads.
func TestFrontendQueryTypes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "src", "queryTypes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var types []struct {
		Value  string   `json:"value"`
		Fields []string `json:"fields"`
		Alert  bool     `json:"alert"`
	}
	if err := json.Unmarshal(raw, &types); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ft := range types {
		seen[ft.Value] = true
		n, ok := needs[ft.Value]
		if !ok {
			t.Errorf("the query editor offers %q, which the backend does not answer", ft.Value)
			continue
		}
		usesHours := ft.Value == QueryAlertEscalated || ft.Value == QueryAlertDeadLetter
		for field, want := range map[string]bool{"cycle": n.cycle, "employee": n.employee, "employeeOptional": n.optionalEmployee,
			"hours": usesHours, "newestFirst": ft.Value == QueryCycles} {
			if slices.Contains(ft.Fields, field) != want {
				t.Errorf("query type %s: the editor shows %s: %v, the backend reads it: %v", ft.Value, field, !want, want)
			}
		}
		if ft.Alert != n.alert {
			t.Errorf("query type %s: alert %v in the editor, %v in the backend", ft.Value, ft.Alert, n.alert)
		}
	}
	for _, qt := range queryTypes {
		if !seen[qt] {
			t.Errorf("the query editor does not offer %s", qt)
		}
	}
}
