package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// providerOrg is a fixture org behind its provider's fake, with users the
// roster does not have: one with no calls, one without an e-mail, and a
// second user with the first user's e-mail (in upper case).
type providerOrg struct {
	org    *fixture.Org
	title  string // "Aircall"
	who    string // "Aircall user"
	extra  []fixture.User
	users  func() []fixture.User
	storm  func(n int) // the next n user-list requests answer 429
	stats  func() (listRequests, throttled int)
	secret string
	// connect are the `org connect` arguments for the fake.
	connect []string
}

func newProviderOrg(t *testing.T, provider, name string) *providerOrg {
	t.Helper()
	spec := fixture.Spec{Seed: 5, Org: name, Provider: provider, Employees: 5, UnmappedUsers: 2, Days: 14, CallsPerDay: 5}
	org := fixture.Generate(spec)
	idBase := "990"
	if provider == fixture.RingCentral {
		idBase = "63990"
	}
	p := &providerOrg{org: org, extra: []fixture.User{
		{ID: idBase + "001", Name: "Nora Newhire", Email: "nora.newhire@" + name + ".example"},
		{ID: idBase + "002", Name: "Front Desk"},
		{ID: idBase + "003", Name: org.Users[0].Name + " Second", Email: strings.ToUpper(org.Users[0].Email)},
	}}
	now := org.End.Add(24 * time.Hour)
	dir := t.TempDir()
	if provider == fixture.Aircall {
		const apiID, token = "disc-api-id", "disc-token-0c9e-secret"
		fake := aircalltest.NewFake(org, aircalltest.FakeOptions{APIID: apiID, APIToken: token, RateLimitPerMinute: 100000,
			Now: func() time.Time { return now }, ExtraUsers: p.extra})
		srv := httptest.NewServer(fake)
		t.Cleanup(srv.Close)
		p.title, p.who, p.users, p.storm, p.secret = "Aircall", "Aircall user", fake.Users, fake.Storm, token
		p.stats = func() (int, int) { s := fake.Stats(); return s.Requests, s.RateLimited }
		p.connect = []string{"--api-id", apiID, "--api-token-file", writeFile(t, dir, "token", token), "--api-url", srv.URL + "/v1", "--setting", "rate_limit=100000"}
		return p
	}
	const clientID, clientSecret, jwt = "disc-client", "disc-secret-5e1f", "eyJ.disc.jwt"
	fake := ringcentraltest.NewFake(org, ringcentraltest.FakeOptions{ClientID: clientID, ClientSecret: clientSecret, JWT: jwt,
		HeavyLimit: 100000, AuthLimit: 1000, MediumLimit: 1000, Penalty: 500 * time.Millisecond,
		Now: func() time.Time { return now }, ExtraUsers: p.extra})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p.title, p.who, p.users, p.storm, p.secret = "RingCentral", "RingCentral extension", fake.Users, fake.ThrottleNext, clientSecret
	p.stats = func() (int, int) { s := fake.Stats(); return s.MediumRequests, s.TooMany }
	p.connect = []string{"--client-id", clientID, "--client-secret-file", writeFile(t, dir, "secret", clientSecret), "--jwt-file", writeFile(t, dir, "jwt", jwt),
		"--api-url", srv.URL, "--setting", "heavy_limit=100000", "--setting", "auth_limit=1000", "--setting", "medium_limit=1000", "--setting", "mode=account"}
	return p
}

// setUp creates, connects and fills the org in e's database.
func (p *providerOrg) setUp(t *testing.T, e *cliEnv, roster []fixture.Employee) {
	t.Helper()
	e.ok(t, "migrate")
	e.ok(t, "org", "add", "--org", p.org.Name, "--provider", p.org.Provider)
	e.ok(t, append([]string{"org", "connect", "--org", p.org.Name}, p.connect...)...)
	if roster != nil {
		e.ok(t, "employees", "import", "--org", p.org.Name, writeFile(t, t.TempDir(), "roster.csv", rosterCSV(t, roster)))
	}
}

// discoveredRow is one user as every format of `employees discover` shows it.
type discoveredRow struct {
	ID, Name, Email, Employee string
	Calls                     int
}

// wantDiscovered is the fake's user list with each user's current calls
// started in [from, to) and the employee mapped to it.
func (p *providerOrg) wantDiscovered(from, to time.Time) []discoveredRow {
	calls := map[string]int{}
	for _, c := range p.org.CallsIn(from, to) {
		if !c.Deleted && c.UserID != "" {
			calls[c.UserID]++
		}
	}
	emp := map[string]string{}
	for _, em := range p.org.Employees {
		emp[em.ProviderUserID] = em.ID
	}
	var out []discoveredRow
	for _, u := range p.users() {
		out = append(out, discoveredRow{ID: u.ID, Name: u.Name, Email: u.Email, Employee: emp[u.ID], Calls: calls[u.ID]})
	}
	return out
}

func parseDiscoverJSON(t *testing.T, out string) (map[string]json.RawMessage, []discoveredRow) {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("discover --format json: %v\n%s", err, out)
	}
	var users []struct {
		ProviderUserID string  `json:"provider_user_id"`
		Name           string  `json:"name"`
		Email          *string `json:"email"`
		Calls          *int    `json:"calls"`
		EmployeeID     *string `json:"employee_id"`
		EmployeeName   *string `json:"employee_name"`
	}
	if err := json.Unmarshal(doc["users"], &users); err != nil {
		t.Fatalf("discover json users: %v\n%s", err, out)
	}
	var rows []discoveredRow
	for _, u := range users {
		r := discoveredRow{ID: u.ProviderUserID, Name: u.Name}
		if u.Email != nil {
			if *u.Email == "" {
				t.Errorf("user %s: email is \"\", want null when there is none", u.ProviderUserID)
			}
			r.Email = *u.Email
		}
		if u.Calls == nil {
			t.Errorf("user %s has no calls key", u.ProviderUserID)
		} else {
			r.Calls = *u.Calls
		}
		if u.EmployeeID != nil {
			r.Employee = *u.EmployeeID
		}
		rows = append(rows, r)
	}
	return doc, rows
}

func parseDiscoverCSV(t *testing.T, out string) []discoveredRow {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("discover --format csv: %v\n%s", err, out)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "provider_user_id,name,email,calls,employee_id,employee_name" {
		t.Fatalf("discover csv header %v", recs)
	}
	var rows []discoveredRow
	for _, r := range recs[1:] {
		n, err := strconv.Atoi(r[3])
		if err != nil {
			t.Fatalf("calls %q: %v", r[3], err)
		}
		rows = append(rows, discoveredRow{ID: r[0], Name: r[1], Email: r[2], Calls: n, Employee: r[4]})
	}
	return rows
}

func TestCLIEmployeesDiscover(t *testing.T) {
	for _, provider := range []string{fixture.Aircall, fixture.RingCentral} {
		t.Run(provider, func(t *testing.T) {
			e := newCLIEnv(t)
			p := newProviderOrg(t, provider, "disc-"+provider)
			org := p.org
			p.setUp(t, e, org.Employees)
			e.ok(t, "sync", "--org", org.Name, "--from", org.Start.Format(time.DateOnly), "--to", org.End.Format(time.DateOnly))
			e.ok(t, "run", "--until-idle")
			// Small pages, so the user list takes several; and a 429 first.
			e.ok(t, "org", "connect", "--org", org.Name, "--setting", "per_page=4")
			until := org.End.Format(time.DateOnly)
			days := strconv.Itoa(int(org.End.Sub(org.Start).Hours() / 24))
			reqs0, limited0 := p.stats()
			p.storm(1)
			out := e.ok(t, "employees", "discover", "--org", org.Name, "--until", until, "--days", days, "--format", "json")
			reqs, limited := p.stats()
			nUsers := len(p.users())
			if nUsers != len(org.Users)+3 {
				t.Fatalf("the fake lists %d users, want %d", nUsers, len(org.Users)+3)
			}
			if pages := (nUsers + 3) / 4; reqs-reqs0 != pages+1 || limited-limited0 != 1 {
				t.Errorf("discover sent %d user-list requests (%d answered 429), want %d pages of 4 and the 429 retried", reqs-reqs0, limited-limited0, pages)
			}
			want := p.wantDiscovered(org.Start, org.End)
			doc, got := parseDiscoverJSON(t, out)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("discover json users:\n got %v\nwant %v", got, want)
			}
			busy := 0
			for _, r := range want {
				if r.Calls > 0 {
					busy++
				}
			}
			if busy < len(org.Employees)-2 || want[len(want)-1].Calls != 0 {
				t.Fatalf("the fixture no longer has calls for most users and none for the extra ones: %v", want)
			}
			for k, v := range map[string]string{"org": `"` + org.Name + `"`, "provider": `"` + provider + `"`, "days": days,
				"calls_from": `"` + org.Start.Format(time.RFC3339) + `"`, "calls_to": `"` + org.End.Format(time.RFC3339) + `"`, "employees_not_listed": "[]"} {
				if strings.Join(strings.Fields(string(doc[k])), "") != v {
					t.Errorf("discover json %s = %s, want %s", k, doc[k], v)
				}
			}

			out = e.ok(t, "employees", "discover", "--org", org.Name, "--until", until, "--days", days, "--format", "csv")
			if got := parseDiscoverCSV(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("discover csv:\n got %v\nwant %v", got, want)
			}

			// The last 3 days only.
			out = e.ok(t, "employees", "discover", "--org", org.Name, "--until", until, "--days", "3", "--format", "csv")
			if got, w := parseDiscoverCSV(t, out), p.wantDiscovered(org.End.AddDate(0, 0, -3), org.End); fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("discover --days 3:\n got %v\nwant %v", got, w)
			}

			out = e.ok(t, "employees", "discover", "--org", org.Name, "--until", until, "--days", days)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			mustContain(t, "discover text", lines[0], fmt.Sprintf("%s users of org %s: %d, %d mapped to employees; calls from %s to %s (%s days",
				p.title, org.Name, nUsers, len(org.Employees), org.Start.Format(time.DateOnly), until, days))
			if f := strings.Fields(lines[1]); strings.Join(f, " ") != "ID NAME EMAIL CALLS EMPLOYEE" {
				t.Errorf("discover text header %q", lines[1])
			}
			for i, w := range want {
				f := strings.Fields(lines[2+i])
				emp := "none"
				if w.Employee != "" {
					emp = w.Employee
				}
				if f[0] != w.ID || !strings.Contains(lines[2+i], w.Name) || !strings.Contains(lines[2+i], cmpOr(w.Email, " - ")) ||
					!strings.Contains(lines[2+i], fmt.Sprintf("  %d  ", w.Calls)) || !strings.Contains(lines[2+i], "  "+emp) {
					t.Errorf("discover text line %q, want %+v", lines[2+i], w)
				}
			}
			mustContain(t, "discover text", out, fmt.Sprintf("%d users with an e-mail are not mapped: phonesignals employees import --org %s --match email", nUsers-len(org.Employees)-1, org.Name))

			// An employee mapped to an id the provider does not list is named.
			e.ok(t, "employees", "import", "--org", org.Name, writeFile(t, t.TempDir(), "typo.csv",
				strings.Join(store.EmployeesHeader, ",")+"\nE900,Typo Tim,,support,12345\n"))
			out = e.ok(t, "employees", "discover", "--org", org.Name, "--until", until)
			mustContain(t, "discover text with a typo", out, fmt.Sprintf("employee E900 (Typo Tim) is mapped to %s 12345, which %s does not list: check its provider_user_id", p.who, p.title))
			out = e.ok(t, "employees", "discover", "--org", org.Name, "--until", until, "--format", "json")
			doc, _ = parseDiscoverJSON(t, out)
			var nl bytes.Buffer
			if err := json.Compact(&nl, doc["employees_not_listed"]); err != nil || nl.String() != `[{"employee_id":"E900","provider_user_id":"12345"}]` {
				t.Errorf("employees_not_listed = %s (%v)", doc["employees_not_listed"], err)
			}
			e.assertNoSecret(t, p.secret)
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestCLIEmployeesDiscoverErrors(t *testing.T) {
	e := newCLIEnv(t)
	p := newProviderOrg(t, fixture.Aircall, "acme")
	e.ok(t, "migrate")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "yaml"}, `--format "yaml": want text, csv or json`},
		{[]string{"--days", "0"}, "--days 0: want a number of days from 1 to 3660"},
		{[]string{"--until", "next week"}, `--until "next week": want YYYY-MM-DD`},
		{nil, "org add --org acme"},
	} {
		_, err := e.fail(t, append([]string{"employees", "discover", "--org", "acme"}, tt.args...)...)
		mustContain(t, "discover "+strings.Join(tt.args, " "), err.Error(), tt.want)
	}
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	_, err := e.fail(t, "employees", "discover", "--org", "acme")
	mustContain(t, "discover of an org not connected", err.Error(), "org acme has no Aircall credentials", "phonesignals org connect --org acme")
	_, err = e.fail(t, "employees", "import", "--org", "acme", "--match", "email")
	mustContain(t, "match of an org not connected", err.Error(), "org acme has no Aircall credentials")
	// Wrong credentials: the provider's refusal with its hint.
	args := append([]string(nil), p.connect...)
	args[3] = writeFile(t, t.TempDir(), "wrong", "the-api-key-from-the-ui")
	e.ok(t, append(append([]string{"org", "connect", "--org", "acme"}, args...), "--no-verify")...)
	_, err = e.fail(t, "employees", "discover", "--org", "acme")
	mustContain(t, "discover with a wrong token", err.Error(), "listing the Aircall users of org acme", "401", "the token is not the API key shown in the Aircall UI")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--match", "name"}, `--match "name": want email`},
		{[]string{"--dry-run", "x.csv"}, "--dry-run goes with --match email"},
		{[]string{"--match", "email", "a.csv", "b.csv"}, "want at most one FILE.csv"},
	} {
		_, err := e.fail(t, append([]string{"employees", "import", "--org", "acme"}, tt.args...)...)
		mustContain(t, "import "+strings.Join(tt.args, " "), err.Error(), tt.want)
	}
}

// rosterOf is the roster CSV of rows given as id, email, provider_user_id.
func rosterOf(t *testing.T, rows ...[3]string) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(store.EmployeesHeader)
	for _, r := range rows {
		_ = w.Write([]string{r[0], "Name " + r[0], r[1], "support", r[2]})
	}
	w.Flush()
	return writeFile(t, t.TempDir(), "roster.csv", b.String())
}

func mappingOf(t *testing.T, e *cliEnv, org string) map[string]string {
	t.Helper()
	emps, err := e.store(t).Employees(t.Context(), org)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, em := range emps {
		out[em.ID] = em.ProviderUserID
	}
	return out
}

func TestCLIEmployeesMatch(t *testing.T) {
	for _, provider := range []string{fixture.Aircall, fixture.RingCentral} {
		t.Run(provider, func(t *testing.T) {
			e := newCLIEnv(t)
			p := newProviderOrg(t, provider, "match-"+provider)
			name, us := p.org.Name, p.org.Users
			p.setUp(t, e, nil)
			nobody := "nobody@" + name + ".example"
			// A roster without ids: doctor names the commands that fill them.
			e.ok(t, "employees", "import", "--org", name, rosterOf(t,
				[3]string{"E001", us[0].Email, ""},                  // two provider users have this e-mail
				[3]string{"E002", strings.ToUpper(us[1].Email), ""}, // one does, in another case
				[3]string{"E003", nobody, ""},
				[3]string{"E004", "", ""},
				[3]string{"E005", us[2].Email, ""},
				[3]string{"E006", us[4].Email, ""},
			))
			out, _ := e.run(t, "doctor", "--org", name)
			mustContain(t, "doctor with no mapping", out, "none has a provider_user_id",
				fmt.Sprintf("phonesignals employees import --org %s --match email fills provider_user_id from %s's users by e-mail", name, p.title),
				"phonesignals employees discover --org "+name)

			// The stored roster: E001 is ambiguous, so nothing is written
			// and every row that cannot be matched is named.
			before := mappingOf(t, e, name)
			_, err := e.fail(t, "employees", "import", "--org", name, "--match", "email")
			ids := []string{us[0].ID, p.extra[2].ID}
			if ids[1] < ids[0] {
				ids[0], ids[1] = ids[1], ids[0]
			}
			mustContain(t, "an ambiguous match", err.Error(), "1 rows match ambiguously by e-mail, nothing imported",
				fmt.Sprintf("E001 <%s>: e-mail %s matches 2 %ss: %s and %s", us[0].Email, us[0].Email, p.who, ids[0], ids[1]),
				"and 2 rows match no user", fmt.Sprintf("E003 <%s>: no %s has e-mail %s", nobody, p.who, nobody),
				"E004: no e-mail to match", "give these rows their provider_user_id by hand")
			if after := mappingOf(t, e, name); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("a refused match changed the roster: %v, was %v", after, before)
			}

			// Ids by hand for E001, E005 and E006 (not their e-mails'
			// users), then a file matched: its rows without an id are
			// filled, E006 keeps its mapping.
			e.ok(t, "employees", "import", "--org", name, rosterOf(t, [3]string{"E001", us[0].Email, us[0].ID},
				[3]string{"E005", us[2].Email, us[3].ID}, [3]string{"E006", us[4].Email, us[5].ID}))
			file := rosterOf(t, [3]string{"E002", strings.ToUpper(us[1].Email), ""}, [3]string{"E003", nobody, ""}, [3]string{"E006", us[4].Email, ""})
			out = e.ok(t, "employees", "import", "--org", name, "--match", "email", file)
			mustContain(t, "match of a file", out,
				fmt.Sprintf("matched 1 employees of org %s to their %s by e-mail\n  E002 <%s>: %s %s (%s)\n", name, p.who, strings.ToUpper(us[1].Email), p.who, us[1].ID, us[1].Name),
				fmt.Sprintf("kept 1 existing mappings:\n  line 4: E006 <%s>: stays mapped to %s %s; its e-mail matches %s %s (use --move", us[4].Email, p.who, us[5].ID, p.who, us[4].ID),
				"not matched, 1 rows", fmt.Sprintf("line 3: E003 <%s>: no %s has e-mail", nobody, p.who),
				"imported 3 employees into org "+name)
			wantMap := map[string]string{"E001": us[0].ID, "E002": us[1].ID, "E003": "", "E004": "", "E005": us[3].ID, "E006": us[5].ID}
			if got := mappingOf(t, e, name); fmt.Sprint(got) != fmt.Sprint(wantMap) {
				t.Fatalf("after the match: %v, want %v", got, wantMap)
			}

			// The stored roster without --move: the mappings by hand stay.
			out = e.ok(t, "employees", "import", "--org", name, "--match", "email")
			mustContain(t, "a match keeping mappings", out, "matched 0 employees", "kept 2 existing mappings",
				fmt.Sprintf("E005 <%s>: stays mapped to %s %s; its e-mail matches %s %s (use --move", us[2].Email, p.who, us[3].ID, p.who, us[2].ID),
				"nothing to change in the roster of org "+name)
			// --dry-run --move shows E005 and E006 moving and writes nothing.
			out = e.ok(t, "employees", "import", "--org", name, "--match", "email", "--move", "--dry-run")
			mustContain(t, "dry run", out, fmt.Sprintf("  E006 <%s>: %s %s (%s), was %s", us[4].Email, p.who, us[4].ID, us[4].Name, us[5].ID),
				fmt.Sprintf("  E005 <%s>: %s %s (%s), was %s", us[2].Email, p.who, us[2].ID, us[2].Name, us[3].ID),
				"dry run, nothing written: would import 2 employees")
			if got := mappingOf(t, e, name); fmt.Sprint(got) != fmt.Sprint(wantMap) {
				t.Fatalf("a dry run changed the roster: %v, want %v", got, wantMap)
			}
			out = e.ok(t, "employees", "import", "--org", name, "--match", "email", "--move")
			wantMap["E005"], wantMap["E006"] = us[2].ID, us[4].ID
			if got := mappingOf(t, e, name); fmt.Sprint(got) != fmt.Sprint(wantMap) {
				t.Fatalf("after --move: %v, want %v\n%s", got, wantMap, out)
			}
			out = e.ok(t, "employees", "import", "--org", name, "--match", "email")
			mustContain(t, "a second match", out, "matched 0 employees", "nothing to change in the roster of org "+name)

			// A user another employee holds moves only with --move.
			e.ok(t, "employees", "import", "--org", name, rosterOf(t, [3]string{"E007", "", us[6].ID}, [3]string{"E008", us[6].Email, ""}))
			_, err = e.fail(t, "employees", "import", "--org", name, "--match", "email")
			mustContain(t, "a held user", err.Error(), fmt.Sprintf("E008 <%s>: its e-mail matches %s %s, which employee E007 (Name E007) is mapped to (use --move to move it)", us[6].Email, p.who, us[6].ID))
			// In a file without the holder, the import's own check refuses it.
			_, err = e.fail(t, "employees", "import", "--org", name, "--match", "email", rosterOf(t, [3]string{"E008", us[6].Email, ""}))
			mustContain(t, "a held user, from a file", err.Error(), fmt.Sprintf("employee E008 maps provider_user_id %s, already mapped to employee E007", us[6].ID), "--move")
			out = e.ok(t, "employees", "import", "--org", name, "--match", "email", "--move")
			mustContain(t, "a held user with --move", out, fmt.Sprintf("E008 <%s>: %s %s (%s), moved from employee E007", us[6].Email, p.who, us[6].ID, us[6].Name))
			wantMap["E007"], wantMap["E008"] = "", us[6].ID
			if got := mappingOf(t, e, name); fmt.Sprint(got) != fmt.Sprint(wantMap) {
				t.Fatalf("after moving a held user: %v, want %v", got, wantMap)
			}
			e.assertNoSecret(t, p.secret)
		})
	}
}
