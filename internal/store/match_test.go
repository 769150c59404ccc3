package store

import (
	"fmt"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"  Ada@ACME.example ":       "ada@acme.example",
		"Ada L <Ada@Acme.Example>":  "ada@acme.example",
		"not an address":            "not an address",
		"ben.okafor1@acme.example":  "ben.okafor1@acme.example",
		"\"O'Neil, Mo\" <mo@x.org>": "mo@x.org",
	} {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatchByEmail(t *testing.T) {
	users := []ProviderUser{
		{ID: "100001", Name: "Ada Lovelace", Email: "ada@acme.example"},
		{ID: "100002", Name: "Ben Okafor", Email: "Ben@Acme.Example"},
		{ID: "100003", Name: "Shared One", Email: "team@acme.example"},
		{ID: "100004", Name: "Shared Two", Email: "TEAM@acme.example"},
		{ID: "100005", Name: "No Mail"},
		{ID: "100006", Name: "Dmitri Ivanov", Email: "dmitri@acme.example"},
	}
	emp := func(id, email, user string) Employee {
		return Employee{ID: id, Name: "Name " + id, Email: email, Cohort: "support", ProviderUserID: user}
	}
	type want struct {
		ids                                 map[string]string // employee -> provider user after matching
		matched, kept, unmatched, ambiguous []string          // employee ids
		reasons                             []string          // substrings of the problems' text
	}
	for _, tt := range []struct {
		name         string
		rows, stored []Employee
		move         bool
		want         want
	}{
		{
			name: "fills ids by e-mail, case and form aside",
			rows: []Employee{emp("E1", "ADA@acme.example", ""), emp("E2", "Ben O <ben@acme.example>", ""), emp("E3", "dmitri@acme.example", "")},
			want: want{ids: map[string]string{"E1": "100001", "E2": "100002", "E3": "100006"}, matched: []string{"E1", "E2", "E3"}},
		},
		{
			name: "rows with no e-mail or an unknown one are unmatched",
			rows: []Employee{emp("E1", "", ""), emp("E2", "zed@acme.example", ""), emp("E3", "ada@acme.example", "")},
			want: want{ids: map[string]string{"E1": "", "E2": "", "E3": "100001"}, matched: []string{"E3"}, unmatched: []string{"E1", "E2"},
				reasons: []string{"E1: no e-mail to match", "E2 <zed@acme.example>: no Aircall user has e-mail zed@acme.example"}},
		},
		{
			name: "an e-mail of two users is ambiguous, naming both",
			rows: []Employee{emp("E1", "team@acme.example", ""), emp("E2", "ada@acme.example", "")},
			want: want{ids: map[string]string{"E1": "", "E2": "100001"}, matched: []string{"E2"}, ambiguous: []string{"E1"},
				reasons: []string{"e-mail team@acme.example matches 2 Aircall users: 100003 and 100004"}},
		},
		{
			name: "two rows matching one user are both ambiguous",
			rows: []Employee{emp("E1", "ada@acme.example", ""), emp("E2", "Ada@acme.example", "")},
			want: want{ids: map[string]string{"E1": "", "E2": ""}, ambiguous: []string{"E1", "E2"},
				reasons: []string{"Aircall user 100001 is the e-mail match of employees E1, E2"}},
		},
		{
			name: "an explicit id is kept, whatever the e-mail",
			rows: []Employee{emp("E1", "ada@acme.example", "100006")},
			want: want{ids: map[string]string{"E1": "100006"}},
		},
		{
			name:   "an existing mapping stays without --move",
			rows:   []Employee{emp("E1", "ada@acme.example", ""), emp("E2", "ben@acme.example", "")},
			stored: []Employee{emp("E1", "ada@acme.example", "100009"), emp("E2", "ben@acme.example", "100002")},
			want: want{ids: map[string]string{"E1": "100009", "E2": "100002"}, kept: []string{"E1"},
				reasons: []string{"stays mapped to Aircall user 100009; its e-mail matches Aircall user 100001 (use --move"}},
		},
		{
			name:   "with --move the e-mail's user replaces it",
			rows:   []Employee{emp("E1", "ada@acme.example", "")},
			stored: []Employee{emp("E1", "ada@acme.example", "100009")},
			move:   true,
			want:   want{ids: map[string]string{"E1": "100001"}, matched: []string{"E1"}},
		},
		{
			name:   "a user another employee holds is refused without --move",
			rows:   []Employee{emp("E1", "ada@acme.example", ""), emp("E3", "", "100001")},
			stored: []Employee{emp("E1", "ada@acme.example", ""), emp("E3", "", "100001")},
			want: want{ids: map[string]string{"E1": "", "E3": "100001"}, ambiguous: []string{"E1"},
				reasons: []string{"its e-mail matches Aircall user 100001, which employee E3 (Name E3) is mapped to (use --move to move it)"}},
		},
		{
			name:   "and moved with --move",
			rows:   []Employee{emp("E1", "ada@acme.example", ""), emp("E3", "", "100001")},
			stored: []Employee{emp("E1", "ada@acme.example", ""), emp("E3", "", "100001")},
			move:   true,
			want:   want{ids: map[string]string{"E1": "100001", "E3": ""}, matched: []string{"E1"}},
		},
		{
			name: "a user the same file maps to another row is refused even with --move",
			rows: []Employee{emp("E1", "ada@acme.example", ""), emp("E3", "", "100001")},
			move: true,
			want: want{ids: map[string]string{"E1": "", "E3": "100001"}, ambiguous: []string{"E1"}, reasons: []string{"in the same file"}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := MatchByEmail(tt.rows, tt.stored, users, MatchOptions{Move: tt.move, UserIDName: "Aircall user"})
			got := map[string]string{}
			for _, r := range res.Rows {
				got[r.ID] = r.ProviderUserID
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want.ids) {
				t.Errorf("ids %v, want %v", got, tt.want.ids)
			}
			var matched []string
			for _, m := range res.Matched {
				matched = append(matched, m.Employee.ID)
			}
			ids := func(ps []RowProblem) []string {
				var out []string
				for _, p := range ps {
					out = append(out, p.Employee.ID)
				}
				return out
			}
			for _, c := range []struct {
				what      string
				got, want []string
			}{
				{"matched", matched, tt.want.matched}, {"kept", ids(res.Kept), tt.want.kept},
				{"unmatched", ids(res.Unmatched), tt.want.unmatched}, {"ambiguous", ids(res.Ambiguous), tt.want.ambiguous},
			} {
				if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
					t.Errorf("%s %v, want %v", c.what, c.got, c.want)
				}
			}
			var text []string
			for _, ps := range [][]RowProblem{res.Kept, res.Unmatched, res.Ambiguous} {
				for _, p := range ps {
					text = append(text, p.String())
				}
			}
			all := strings.Join(text, "\n")
			for _, r := range tt.want.reasons {
				if !strings.Contains(all, r) {
					t.Errorf("problems lack %q:\n%s", r, all)
				}
			}
			if err := res.Err("acme"); (err != nil) != (len(tt.want.ambiguous) > 0) {
				t.Errorf("Err = %v with %d ambiguous rows", err, len(res.Ambiguous))
			}
		})
	}
}

func TestMatchResultErrAndChanged(t *testing.T) {
	users := []ProviderUser{{ID: "7", Email: "a@x.example"}, {ID: "8", Email: "a@x.example"}, {ID: "9", Email: "b@x.example"}}
	stored := []Employee{{ID: "E1", Email: "a@x.example"}, {ID: "E2", Email: "b@x.example"}, {ID: "E3", Email: "c@x.example", ProviderUserID: "5"}, {ID: "E4"}}
	res := MatchByEmail(stored, stored, users, MatchOptions{UserIDName: "RingCentral extension"})
	err := res.Err("globex")
	if err == nil {
		t.Fatal("no error with an ambiguous row")
	}
	for _, want := range []string{
		"org globex: 1 rows match ambiguously by e-mail, nothing imported",
		"E1 <a@x.example>: e-mail a@x.example matches 2 RingCentral extensions: 7 and 8",
		"and 1 rows match no user:\n  E4: no e-mail to match",
		"phonesignals employees discover --org globex",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	ch := res.Changed(stored)
	if len(ch) != 1 || ch[0].ID != "E2" || ch[0].ProviderUserID != "9" {
		t.Fatalf("changed rows %+v, want only E2 mapped to 9", ch)
	}
}
