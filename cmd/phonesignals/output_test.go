package main

import (
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/internal/app/syncjob"
)

// wantExit checks that err exits with code and says every one of subs.
func wantExit(t *testing.T, what string, err error, code int, subs ...string) {
	t.Helper()
	if got := exitCode(err); got != code {
		t.Errorf("%s: %v, exit code %d, want %d", what, err, got, code)
	}
	if err != nil {
		mustContain(t, what, err.Error(), subs...)
	}
}

// jsonKeys parses out as a JSON array of objects and returns the keys of
// each, in any order.
func jsonArrayKeys(t *testing.T, what, out string) [][]string {
	t.Helper()
	var arr []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &arr); err != nil {
		t.Fatalf("%s is not a JSON array of objects: %v\n%s", what, err, out)
	}
	keys := make([][]string, len(arr))
	for i, o := range arr {
		for k := range o {
			keys[i] = append(keys[i], k)
		}
		slices.Sort(keys[i])
	}
	return keys
}

func sorted(vs ...string) []string { return slices.Sorted(slices.Values(vs)) }

// TestCLIFormatLists: every list command prints text with a header, a JSON
// array of objects with the CSV header's names, and CSV with that header.
// `dlq list --format json` failed with "flag provided but not defined";
// `org list` and `cycles list` printed no header.
func TestCLIFormatLists(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, dir, "r.csv", "employee_id,name,email,cohort,provider_user_id\nE001,Ada,ada@acme.example,support,100001\n"))
	e.ok(t, "cycles", "add", "--org", "acme", "--cycle", "2026-08", "--start", "2026-08-01", "--end", "2026-09-01")
	for _, tt := range []struct {
		args     []string
		header   []string // CSV header, also the JSON keys
		text     string   // the text output, exactly
		jsonRows int
	}{
		{[]string{"org", "list"}, []string{"org", "provider", "connected"},
			"ORG   PROVIDER  CONNECTED\nacme  aircall   not connected\n", 1},
		{[]string{"cycles", "list", "--org", "acme"}, []string{"cycle_id", "start", "end"},
			"CYCLE    START       END\n2026-08  2026-08-01  2026-09-01\n", 1},
		{[]string{"employees", "list", "--org", "acme"}, []string{"employee_id", "name", "email", "cohort", "provider_user_id"},
			"EMPLOYEE_ID  NAME  EMAIL             COHORT   PROVIDER_USER_ID\nE001         Ada   ada@acme.example  support  100001\n", 1},
		{[]string{"dlq", "list"}, []string{"dead_lettered_at", "org", "provider", "call_id", "record", "first_record", "replayed_at", "reason"},
			"no dead letters\n", 0},
		{[]string{"sync", "status", "--org", "acme"}, []string{"org", "provider", "run_id", "started_at", "finished_at", "status", "calls", "requests", "window_from", "window_to", "error"},
			"org acme (aircall)\nnever synced: phonesignals sync --org acme --since-days 30\n", -1},
		{[]string{"doctor", "--org", "acme", "--offline"}, []string{"org", "provider", "level", "text", "fix"}, "", -1},
	} {
		name := strings.Join(tt.args, " ")
		t.Run(name, func(t *testing.T) {
			text, _ := e.run(t, append(tt.args, "--format", "text")...)
			if tt.text != "" && text != tt.text {
				t.Errorf("%s --format text printed %q, want %q", name, text, tt.text)
			}
			out, _ := e.run(t, append(tt.args, "-o", "csv")...)
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(rows) == 0 || !slices.Equal(rows[0], tt.header) {
				t.Fatalf("%s -o csv: %v, header %q, want %q\n%s", name, err, rows, tt.header, out)
			}
			out, _ = e.run(t, append(tt.args, "--format", "json")...)
			if tt.jsonRows < 0 {
				var obj map[string]json.RawMessage
				if err := json.Unmarshal([]byte(out), &obj); err != nil || obj["org"] == nil || obj["provider"] == nil {
					t.Fatalf("%s --format json: %v, want an object naming the org and provider\n%s", name, err, out)
				}
				return
			}
			keys := jsonArrayKeys(t, name, out)
			if len(keys) != tt.jsonRows {
				t.Fatalf("%s --format json: %d objects, want %d\n%s", name, len(keys), tt.jsonRows, out)
			}
			for _, k := range keys {
				if !slices.Equal(k, sorted(tt.header...)) {
					t.Errorf("%s --format json keys %v, want the CSV header's %v", name, k, sorted(tt.header...))
				}
			}
		})
	}
	// The JSON carries typed values: connected is a bool.
	var orgs []struct {
		Org       string `json:"org"`
		Connected bool   `json:"connected"`
	}
	if err := json.Unmarshal([]byte(e.ok(t, "org", "list", "-o", "json")), &orgs); err != nil || len(orgs) != 1 || orgs[0].Org != "acme" || orgs[0].Connected {
		t.Errorf("org list -o json: %+v, %v; want acme, not connected", orgs, err)
	}
	var doc struct {
		Findings []struct{ Level, Text, Fix string } `json:"findings"`
		Problems *int                                `json:"problems"`
	}
	out, _ := e.run(t, "doctor", "--org", "acme", "--offline", "-o", "json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Findings) == 0 || doc.Problems == nil {
		t.Fatalf("doctor -o json: %v, want findings and a problem count (and nothing else on stdout)\n%s", err, out)
	}
	for _, f := range doc.Findings {
		if !slices.Contains([]string{"ok", "warn", "fail"}, f.Level) || f.Text == "" {
			t.Errorf("doctor finding %+v: want a level of ok, warn or fail and a text", f)
		}
	}
}

// TestCLIFormatUnknown: an unknown --format is refused before anything is
// read, naming the flag and the valid values, with exit code exitUsage.
func TestCLIFormatUnknown(t *testing.T) {
	e := newCLIEnv(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"org", "list"}, "want text, json or csv"},
		{[]string{"employees", "list", "--org", "acme"}, "want text, json or csv"},
		{[]string{"cycles", "list", "--org", "acme"}, "want text, json or csv"},
		{[]string{"sync", "status", "--org", "acme"}, "want text, json or csv"},
		{[]string{"dlq", "list"}, "want text, json or csv"},
		{[]string{"doctor", "--org", "acme"}, "want text, json or csv"},
		{[]string{"review", "--org", "acme", "--cycle", "c"}, "want text, json or csv"},
		{[]string{"aggregates", "verify"}, "want text or json"},
		{[]string{"employees", "discover", "--org", "acme"}, "want text, csv or json"},
	} {
		_, err := e.fail(t, append(tt.args, "--format", "xml")...)
		wantExit(t, strings.Join(tt.args, " ")+" --format xml", err, exitUsage, `--format "xml"`, tt.want)
		_, err = e.fail(t, append(tt.args, "-o", "yaml")...)
		wantExit(t, strings.Join(tt.args, " ")+" -o yaml", err, exitUsage, `--format "yaml"`, tt.want)
	}
	_, err := e.fail(t, "review", "--org", "acme", "--cycle", "c", "--employee", "E001", "-o", "csv")
	wantExit(t, "review --employee -o csv", err, exitUsage, "--format csv needs every employee")
}

// TestCLIExitCodes: one meaning per code. "No help topic" (a mistyped
// command) and "another sync is running" both exited 3.
func TestCLIExitCodes(t *testing.T) {
	e := newCLIEnv(t)
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	release, err := syncjob.Lock(e.dataDir, "acme")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.fail(t, "sync", "--org", "acme", "--since-days", "1")
	release()
	wantExit(t, "sync while another runs", err, exitLocked, "another sync of org acme is running")
	for _, tt := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"revew"}, exitUsage, []string{"revew", `Did you mean "review"?`}},
		{[]string{"help", "revew"}, exitUsage, []string{"revew", `Did you mean "review"?`}},
		{[]string{"org", "lst"}, exitUsage, []string{"lst", `Did you mean "list"?`}},
		{[]string{"employees", "improt"}, exitUsage, []string{`Did you mean "import"?`}},
		{[]string{"org", "list", "--bogus"}, exitUsage, []string{"flag provided but not defined"}},
		{[]string{"doctor"}, exitUsage, []string{`Required flag "org" not set`}},
		{[]string{"dlq", "list", "--format", "xml"}, exitUsage, []string{`--format "xml"`}},
		{[]string{"cycles", "add", "--org", "acme", "--cycle", "x", "--start", "2026-09-01", "--end", "2026-08-01"}, exitFailed, []string{"must be after"}},
		{[]string{"doctor", "--org", "acme", "--offline"}, exitNeedsFix, []string{"problems to fix"}},
	} {
		_, err := e.fail(t, tt.args...)
		wantExit(t, strings.Join(tt.args, " "), err, tt.code, tt.want...)
	}
	codes := []int{exitFailed, exitNeedsFix, exitLocked, exitUsage}
	slices.Sort(codes)
	if len(slices.Compact(codes)) != 4 {
		t.Errorf("exit codes %v: want four distinct codes", codes)
	}
}

// TestCLIVersionCommand: `version` prints what `--version` prints; it was
// "No help topic for 'version'".
func TestCLIVersionCommand(t *testing.T) {
	e := newCLIEnv(t)
	cmd := e.ok(t, "version")
	flag := e.ok(t, "--version")
	if cmd != flag || !strings.Contains(cmd, "phonesignals version "+version) {
		t.Errorf("version printed %q, --version %q; want the same, naming version %s", cmd, flag, version)
	}
}

// TestCLIFlagsAfterArguments: a command's flags may follow its arguments.
// `employees import --org acme f.csv --move` failed with "want exactly one
// FILE.csv, got 2 arguments"; `employees remove E100 --org acme` with
// `Required flag "org" not set`.
func TestCLIFlagsAfterArguments(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	header := "employee_id,name,email,cohort,provider_user_id\n"
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, dir, "a.csv", header+"E100,Ada,,support,100001\nE102,Cy,,support,\n"))
	// E101 takes E100's provider user: refused without --move.
	f := writeFile(t, dir, "b.csv", header+"E101,Ben,,sdr,100001\n")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"employees", "import", "--org", "acme", f, "--move"}, "moved provider user 100001 from employee E100 to E101"},
		{[]string{"employees", "import", f, "--org", "acme", "--move"}, "imported 1 employees into org acme"},
		{[]string{"employees", "remove", "E100", "--org", "acme"}, "removed 1 employees from org acme"},
		{[]string{"employees", "remove", "E101", "--org=acme", "E102"}, "removed 2 employees from org acme"},
	} {
		mustContain(t, strings.Join(tt.args, " "), e.ok(t, tt.args...), tt.want)
	}
	if out := e.ok(t, "employees", "list", "--org", "acme"); out != header {
		t.Errorf("roster after the removals: %q, want none", out)
	}
}
