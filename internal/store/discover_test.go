package store

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Discover joins the provider's list with the roster and the org's
// current calls of one provider in a range.
func TestDiscover(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	seedMappingOrg(t, ts) // calls of 100001 (3, 2 to 4 Sep) and 100002 (1, 4 Sep)
	// A later version deletes one call of 100001; another org's call and a
	// call of another provider do not count.
	ts.query(t, "INSERT INTO "+ts.db+".raw_signals (org, provider, call_id, user_id, started_at, direction, duration_sec, deleted, version) VALUES "+
		"('acme', 'aircall', '3', '100001', '2026-09-04 10:00:00', 'outbound', 60, 1, 2), "+
		"('globex', 'aircall', '9', '100002', '2026-09-04 10:00:00', 'outbound', 60, 0, 1), "+
		"('acme', 'ringcentral', '8', '100002', '2026-09-04 10:00:00', 'outbound', 60, 0, 1)")
	emps, err := ParseEmployeesCSV(strings.NewReader(hdr + "E001,Ada,ada@acme.example,support,100001\nE002,Ben,,support,\nE003,Cy,,support,555\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.ImportEmployees(ctx, "acme", emps); err != nil {
		t.Fatal(err)
	}
	users := []ProviderUser{{ID: "100002", Name: "Ben", Email: "ben@acme.example"}, {ID: "100001", Name: "Ada", Email: "ada@acme.example"}, {ID: "100003", Name: "New"}}
	day := func(d int) time.Time { return time.Date(2026, 9, d, 0, 0, 0, 0, time.UTC) }
	for _, tt := range []struct {
		name     string
		from, to time.Time
		provider string
		want     string
	}{
		{"the whole range", day(1), day(30), "aircall", "100002:1:- 100001:2:E001 100003:0:-"},
		{"one day", day(3), day(4), "aircall", "100002:0:- 100001:1:E001 100003:0:-"},
		{"end exclusive", day(1), day(4), "aircall", "100002:0:- 100001:2:E001 100003:0:-"},
		{"another provider's calls", day(1), day(30), "ringcentral", "100002:1:- 100001:0:E001 100003:0:-"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ts.Discover(ctx, "acme", tt.provider, users, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range d.Users {
				who := "-"
				if u.Employee != nil {
					who = u.Employee.ID
				}
				got = append(got, fmt.Sprintf("%s:%d:%s", u.ID, u.Calls, who))
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got %s, want %s", strings.Join(got, " "), tt.want)
			}
			if len(d.NotListed) != 1 || d.NotListed[0].ID != "E003" {
				t.Errorf("not listed %+v, want E003 (mapped to 555)", d.NotListed)
			}
		})
	}
}
