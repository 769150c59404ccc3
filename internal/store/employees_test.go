package store

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "store", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const hdr = "employee_id,name,email,cohort,provider_user_id\n"

func TestParseEmployeesCSV(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Employee
		// wantErr are substrings the error must contain, in order; nil
		// means no error.
		wantErr []string
		// wantBad is the number of bad rows the message announces.
		wantBad int
		// notErr are substrings the error must not contain.
		notErr []string
	}{
		{
			name: "good file",
			in:   readFixture(t, "good.csv"),
			want: []Employee{
				{ID: "E001", Name: "Ada Lovelace", Email: "ada@acme.example", Cohort: "support", ProviderUserID: "100001"},
				{ID: "E002", Name: "Okafor, Ben", Email: "ben@acme.example", Cohort: "sdr", ProviderUserID: "100008"},
				{ID: "E003", Name: "Chloé Dubois", Email: "", Cohort: "inside_sales", ProviderUserID: ""},
			},
		},
		{
			name: "BOM, CRLF and header case and spaces",
			in:   readFixture(t, "bom_crlf.csv"),
			want: []Employee{{ID: "E001", Name: "Ada", Email: "ada@acme.example", Cohort: "support", ProviderUserID: "100001"}},
		},
		{
			name: "header only",
			in:   hdr,
			want: nil,
		},
		{
			name: "spaces around fields are trimmed",
			in:   hdr + "  E001 , Ada ,  ada@acme.example , support , 100001 \n",
			want: []Employee{{ID: "E001", Name: "Ada", Email: "ada@acme.example", Cohort: "support", ProviderUserID: "100001"}},
		},
		{
			name:    "empty file",
			in:      "",
			wantErr: []string{"empty", "employee_id,name,email,cohort,provider_user_id"},
		},
		{
			name:    "wrong header",
			in:      "id,name,email,cohort,user\nE001,Ada,,support,1\n",
			wantErr: []string{"line 1", `header is "id,name,email,cohort,user"`, `want "employee_id,name,email,cohort,provider_user_id"`},
		},
		{
			name:    "header missing a column",
			in:      "employee_id,name,email,cohort\nE001,Ada,,support\n",
			wantErr: []string{"line 1", "header is"},
		},
		{
			name:    "too few fields",
			in:      hdr + "E001,Ada,ada@acme.example,support\n",
			wantErr: []string{"line 2: 4 fields, want 5"},
			wantBad: 1,
		},
		{
			name:    "too many fields",
			in:      hdr + "E001,Ada,ada@acme.example,support,1,extra\n",
			wantErr: []string{"line 2: 6 fields, want 5"},
			wantBad: 1,
		},
		{
			name:    "empty employee_id",
			in:      hdr + ",Ada,ada@acme.example,support,1\n",
			wantErr: []string{"line 2: employee_id is empty"},
			wantBad: 1,
		},
		{
			name:    "empty cohort",
			in:      hdr + "E001,Ada,ada@acme.example,,1\n",
			wantErr: []string{"line 2: cohort is empty"},
			wantBad: 1,
		},
		{
			name:    "empty id and cohort on one line are both named",
			in:      hdr + ",Ada,ada@acme.example, ,1\n",
			wantErr: []string{"line 2: employee_id is empty; cohort is empty"},
			wantBad: 1,
		},
		{
			name:    "bad email",
			in:      hdr + "E001,Ada,not an email,support,1\n",
			wantErr: []string{`line 2: email "not an email" is not an address`},
			wantBad: 1,
		},
		{
			name:    "provider user id with a slash",
			in:      hdr + "E001,Ada,,support,12/34\n",
			wantErr: []string{`line 2: provider_user_id "12/34"`},
			wantBad: 1,
		},
		{
			name:    "duplicate employee_id names both lines",
			in:      hdr + "E001,Ada,,support,1\nE002,Ben,,sdr,2\nE001,Eve,,sdr,3\n",
			wantErr: []string{"line 4: employee_id E001 already on line 2"},
			wantBad: 1,
		},
		{
			name:    "duplicate provider_user_id names both lines",
			in:      hdr + "E001,Ada,,support,100001\n\nE002,Ben,,sdr,100001\n",
			wantErr: []string{"line 4: provider_user_id 100001 already mapped on line 2"},
			wantBad: 1,
		},
		{
			name:    "empty provider_user_id is not a duplicate",
			in:      hdr + "E001,Ada,,support,\nE002,Ben,,sdr,\n",
			want:    []Employee{{ID: "E001", Name: "Ada", Cohort: "support"}, {ID: "E002", Name: "Ben", Cohort: "sdr"}},
			wantErr: nil,
		},
		{
			name:    "CSV syntax error in a later field",
			in:      hdr + "E001,a\"b,,support,1\nE002,Ben,,sdr,2\n",
			wantErr: []string{"line 2:", "bare \""},
			wantBad: 1,
		},
		{
			// A syntax error in the first field of a record used to panic
			// (csv.Reader.FieldPos on a record it never returned).
			name:    "CSV syntax error in the first field",
			in:      hdr + "E001,Ada,,support,1\nE\"002,Ben,,sdr,2\nE003,Eve,,sdr,3\n",
			wantErr: []string{"line 3:", "bare \""},
			wantBad: 1,
		},
		{
			name: "every bad row reported at once",
			in:   readFixture(t, "bad_rows.csv"),
			wantErr: []string{
				"employees CSV has 7 bad rows, nothing imported",
				"line 3: 4 fields, want 5",
				"line 4: employee_id is empty",
				"line 5: cohort is empty",
				`line 6: email "not-an-email" is not an address`,
				"line 7: employee_id E001 already on line 2",
				"line 8: provider_user_id 100001 already mapped on line 2",
				`line 9: provider_user_id "10/43"`,
			},
			wantBad: 7,
			notErr:  []string{"line 10", "line 2:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEmployeesCSV(strings.NewReader(tt.in))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				for i := range got {
					if got[i].Line < 2 {
						t.Fatalf("row %d has line %d", i, got[i].Line)
					}
					got[i].Line = 0 // compared by TestImportMappingConflicts
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v\nwant %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; got %+v", got)
			}
			if got != nil {
				t.Errorf("returned %d employees along with the error; want none", len(got))
			}
			msg := err.Error()
			rest := msg
			for _, w := range tt.wantErr {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error lacks %q (or it is out of order):\n%s", w, msg)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.notErr {
				if strings.Contains(msg, n) {
					t.Errorf("error contains %q:\n%s", n, msg)
				}
			}
			if tt.wantBad > 0 {
				want := "has " + strconv.Itoa(tt.wantBad) + " bad rows, nothing imported"
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
				if n := strings.Count(msg, "\nline "); n != tt.wantBad {
					t.Errorf("error lists %d lines, want %d:\n%s", n, tt.wantBad, msg)
				}
			}
		})
	}
}

func TestParseCycleDates(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name       string
		start, end string
		wantStart  time.Time
		wantEnd    time.Time
		wantErr    []string
	}{
		{name: "month", start: "2026-08-01", end: "2026-09-01", wantStart: d("2026-08-01"), wantEnd: d("2026-09-01")},
		{name: "one day", start: "2026-08-01", end: "2026-08-02", wantStart: d("2026-08-01"), wantEnd: d("2026-08-02")},
		{name: "leap day", start: "2028-02-29", end: "2028-03-01", wantStart: d("2028-02-29"), wantEnd: d("2028-03-01")},
		{name: "end equals start", start: "2026-08-01", end: "2026-08-01", wantErr: []string{"--end 2026-08-01 must be after --start 2026-08-01", "exclusive"}},
		{name: "end before start", start: "2026-09-01", end: "2026-08-01", wantErr: []string{"--end 2026-08-01 must be after --start 2026-09-01"}},
		{name: "bad start", start: "2026/08/01", end: "2026-09-01", wantErr: []string{`--start "2026/08/01": want YYYY-MM-DD`}},
		{name: "bad end", start: "2026-08-01", end: "Sept 1", wantErr: []string{`--end "Sept 1": want YYYY-MM-DD`}},
		{name: "both bad, both named", start: "x", end: "2026-13-01", wantErr: []string{`--start "x"`, `--end "2026-13-01"`}},
		{name: "empty", start: "", end: "", wantErr: []string{`--start ""`, `--end ""`}},
		{name: "RFC 3339 is not a date", start: "2026-08-01T00:00:00Z", end: "2026-09-01", wantErr: []string{"--start"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, e, err := ParseCycleDates(tt.start, tt.end)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error for %q %q", tt.start, tt.end)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q: %v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !s.Equal(tt.wantStart) || !e.Equal(tt.wantEnd) {
				t.Fatalf("got %s..%s, want %s..%s", s, e, tt.wantStart, tt.wantEnd)
			}
			if s.Location() != time.UTC || e.Location() != time.UTC {
				t.Errorf("not UTC: %s %s", s.Location(), e.Location())
			}
		})
	}
}

func TestRemoveEmployees(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	emps := []Employee{{ID: "E1", Cohort: "a", ProviderUserID: "1"}, {ID: "E2", Cohort: "a", ProviderUserID: "2"}, {ID: "E3", Cohort: "b"}}
	if err := ts.ImportEmployees(ctx, "acme", emps); err != nil {
		t.Fatal(err)
	}
	err := ts.RemoveEmployees(ctx, "acme", []string{"E2", "E9"})
	if err == nil || !strings.Contains(err.Error(), "E9") || !strings.Contains(err.Error(), "nothing removed") {
		t.Fatalf("removing an unknown id: %v", err)
	}
	if got, _ := ts.Employees(ctx, "acme"); len(got) != 3 {
		t.Fatalf("a refused removal removed employees: %v", got)
	}
	if err := ts.RemoveEmployees(ctx, "acme", []string{"E2"}); err != nil {
		t.Fatal(err)
	}
	got, err := ts.Employees(ctx, "acme")
	if err != nil || len(got) != 2 || got[0].ID != "E1" || got[1].ID != "E3" {
		t.Fatalf("after removal: %v %v", got, err)
	}
	// Importing again restores the employee.
	time.Sleep(time.Millisecond)
	if err := ts.ImportEmployees(ctx, "acme", emps[1:2]); err != nil {
		t.Fatal(err)
	}
	if got, _ := ts.Employees(ctx, "acme"); len(got) != 3 {
		t.Fatalf("re-import did not restore: %v", got)
	}
}
