package store

import (
	"context"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/load/aggregate"
)

// seedMappingOrg stores org acme with one cycle and calls of provider
// users 100001 (3 calls) and 100002 (1 call) straight into raw_signals,
// then brings user_day_metrics up to date as the load stage would.
func seedMappingOrg(t *testing.T, ts testStore) {
	t.Helper()
	ctx := testCtx(t)
	if _, err := ts.AddOrg(ctx, "acme", fixture.Aircall); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	if err := ts.AddCycle(ctx, "acme", Cycle{ID: "2026-09", Start: start, End: start.AddDate(0, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	ts.query(t, "INSERT INTO "+ts.db+".raw_signals (org, provider, call_id, user_id, started_at, direction, duration_sec, version) VALUES "+
		"('acme', 'aircall', '1', '100001', '2026-09-02 10:00:00', 'inbound', 60, 1), "+
		"('acme', 'aircall', '2', '100001', '2026-09-03 10:00:00', 'inbound', 60, 1), "+
		"('acme', 'aircall', '3', '100001', '2026-09-04 10:00:00', 'outbound', 60, 1), "+
		"('acme', 'aircall', '4', '100002', '2026-09-04 11:00:00', 'outbound', 60, 1)")
	// What the load stage does after a batch: mark the days, refresh them.
	ts.query(t, "INSERT INTO "+ts.db+".user_day_dirty (org, day, kind, value) SELECT DISTINCT org, toDate(started_at), 'loaded', 1 FROM "+ts.db+".raw_signals")
	agg, err := aggregate.New(ts.Conn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := agg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
}

// totals returns total_calls per employee of the cycle and their sum.
func totals(t *testing.T, ts testStore) (map[string]uint64, uint64) {
	t.Helper()
	ms, err := ts.CycleMetrics(testCtx(t), "acme", "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	var sum uint64
	for _, m := range ms {
		out[m.EmployeeID] = m.TotalCalls
		sum += m.TotalCalls
	}
	return out, sum
}

// A provider user already mapped to an active employee cannot be mapped
// to a second one by an import: the import names the row and the holder,
// and nothing is imported; --move (ImportOptions.Move) or a file that
// gives the holder a new user moves it explicitly.
func TestImportMappingConflicts(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	seedMappingOrg(t, ts)
	first, err := ParseEmployeesCSV(strings.NewReader(hdr + "E001,Ada,,support,100001\nE002,Ben,,support,100002\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.ImportEmployees(ctx, "acme", first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	second, err := ParseEmployeesCSV(strings.NewReader(hdr + "E003,Cy,,support,\nE999,Zed,,support,100001\nE998,Yan,,support,100002\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = ts.ImportEmployees(ctx, "acme", second)
	if err == nil {
		t.Fatal("a second mapping of provider user 100001 was accepted")
	}
	for _, want := range []string{"2 rows map a provider user another employee holds", "nothing imported",
		"line 3: employee E999 maps provider_user_id 100001, already mapped to employee E001 (Ada)",
		"line 4: employee E998 maps provider_user_id 100002, already mapped to employee E002 (Ben)", "--move"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if got, _ := ts.Employees(ctx, "acme"); len(got) != 2 {
		t.Fatalf("a refused import stored employees: %+v", got)
	}
	got, sum := totals(t, ts)
	if got["E001"] != 3 || got["E002"] != 1 || sum != 4 {
		t.Fatalf("totals %v (sum %d), want E001 3, E002 1", got, sum)
	}

	// An explicit move: E999 takes 100001, E001 keeps no provider user.
	time.Sleep(time.Millisecond)
	moved, err := ts.ImportEmployeesWith(ctx, "acme", second[1:2], ImportOptions{Move: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(moved) != 1 || moved[0] != (Moved{ProviderUserID: "100001", From: "E001", To: "E999"}) {
		t.Fatalf("moved %+v", moved)
	}
	got, sum = totals(t, ts)
	if got["E001"] != 0 || got["E999"] != 3 || sum != 4 {
		t.Fatalf("after --move: totals %v (sum %d), want E001 0, E999 3", got, sum)
	}
	// The same employee with a new user, and the holder's new user in the
	// same file: a swap, accepted without --move.
	time.Sleep(time.Millisecond)
	swap := []Employee{{ID: "E002", Name: "Ben", Cohort: "support", ProviderUserID: "100001"}, {ID: "E999", Name: "Zed", Cohort: "support", ProviderUserID: "100002"}}
	if err := ts.ImportEmployees(ctx, "acme", swap); err != nil {
		t.Fatalf("swap: %v", err)
	}
	got, sum = totals(t, ts)
	if got["E002"] != 3 || got["E999"] != 1 || sum != 4 {
		t.Fatalf("after the swap: totals %v (sum %d), want E002 3, E999 1", got, sum)
	}
}

// Whatever the employees table holds (rows written before the import
// check, or by two imports racing), one call counts for one employee.
func TestViewsNeverCountACallTwice(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	seedMappingOrg(t, ts)
	// Written directly, as an old binary or a race would: E001 and E999 both
	// map 100001 (E999 newer), E003 and E004 both map 100002 (same version).
	ts.query(t, "INSERT INTO "+ts.db+".employees (org, employee_id, name, cohort, provider_user_id, deleted, version) VALUES "+
		"('acme', 'E001', 'Ada', 'support', '100001', 0, 10), ('acme', 'E999', 'Zed', 'support', '100001', 0, 20), "+
		"('acme', 'E003', 'Cy', 'sdr', '100002', 0, 30), ('acme', 'E004', 'Di', 'sdr', '100002', 0, 30)")
	for _, stage := range []string{"before merge", "after merge"} {
		got, sum := totals(t, ts)
		if sum != 4 {
			t.Errorf("%s: %d calls counted over employees, 4 stored: %v", stage, sum, got)
		}
		if got["E999"] != 3 || got["E001"] != 0 || got["E003"] != 1 || got["E004"] != 0 {
			t.Errorf("%s: totals %v, want the newest mapping (E999 3) and the smallest id on a tie (E003 1)", stage, got)
		}
		m, err := ts.Review(ctx, "acme", "2026-09", "E001")
		if err != nil || m.TotalCalls != 0 {
			t.Errorf("%s: review of E001 %+v %v, want 0 calls", stage, m, err)
		}
		bs, err := ts.CycleBaselines(ctx, "acme", "2026-09")
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			// support: E001 0, E999 3; sdr: E003 1, E004 0.
			want := map[string]float64{"support": 1.5, "sdr": 0.5}[b.Cohort]
			if b.MedianTotalCalls != want {
				t.Errorf("%s: cohort %s median %v, want %v", stage, b.Cohort, b.MedianTotalCalls, want)
			}
		}
		ts.query(t, "OPTIMIZE TABLE "+ts.db+".employees FINAL")
	}
	var n uint64
	if err := ts.Conn().QueryRow(context.Background(), "SELECT count() FROM employees_current WHERE org = 'acme'").Scan(&n); err != nil || n != 4 {
		t.Fatalf("employees_current has %d employees (%v), want all 4 on the roster", n, err)
	}
}
