package main

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

func TestHoistGlobalFlags(t *testing.T) {
	cases := []struct{ in, want string }{
		{"p review --clickhouse X --org acme", "p --clickhouse X review --org acme"},
		{"p --database d review --clickhouse=X --org acme", "p --database d --clickhouse=X review --org acme"},
		{"p sync --org acme --follow --metrics-addr :9100 --kafka-tls", "p --metrics-addr :9100 --kafka-tls sync --org acme --follow"},
		{"p org connect --org acme --api-url u --brokers b", "p --brokers b org connect --org acme --api-url u"},
		// A subcommand's own flag is not a global one, even with the same name.
		{"p healthcheck --timeout 3s http://x", "p healthcheck --timeout 3s http://x"},
		// A value is never read as a flag, nothing after -- moves.
		{"p review --org --clickhouse --cycle c", "p review --org --clickhouse --cycle c"},
		{"p review --org a -- --clickhouse X", "p review --org a -- --clickhouse X"},
		{"p --clickhouse-tls migrate", "p --clickhouse-tls migrate"},
		{"p migrate --clickhouse-tls --clickhouse X", "p --clickhouse-tls --clickhouse X migrate"},
		{"p", "p"},
		// A command's flags after its arguments move before them.
		{"p employees import --org acme f.csv --move", "p employees import --org acme --move f.csv"},
		{"p employees remove E100 --org acme", "p employees remove --org acme E100"},
		{"p employees remove E1 --clickhouse X E2 --org=a", "p --clickhouse X employees remove --org=a E1 E2"},
		{"p healthcheck http://x --timeout 3s", "p healthcheck --timeout 3s http://x"},
		{"p employees remove E1 -- --org", "p employees remove E1 -- --org"},
		{"p employees remove E1 --generate-bash-completion", "p employees remove E1 --generate-bash-completion"},
	}
	app := newApp()
	for _, tc := range cases {
		got := strings.Join(hoistGlobalFlags(app, strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("hoist(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCLIGlobalFlagsAfterSubcommand: `review --clickhouse X` used to fail
// with "flag provided but not defined".
func TestCLIGlobalFlagsAfterSubcommand(t *testing.T) {
	e := newCLIEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(args ...string) (string, error) {
		app := newApp()
		app.ExitErrHandler = func(*cli.Context, error) {}
		var err error
		out := captureStdout(t, func() { err = runApp(ctx, app, append([]string{"phonesignals"}, args...)) })
		return out, err
	}
	out, err := run("migrate", "--clickhouse", e.srv.Addr(), "--database="+e.db, "--data-dir", e.dataDir, "--log-level", "warn")
	if err != nil || !strings.Contains(out, e.db) {
		t.Fatalf("migrate with global flags after it: %q, %v", out, err)
	}
	_, err = run("review", "--org", "nope", "--clickhouse", e.srv.Addr(), "--database", e.db, "--data-dir", e.dataDir, "--cycle", "2026-08")
	if err == nil || strings.Contains(err.Error(), "flag provided but not defined") || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("review with --clickhouse after it: %v; want the unknown org named", err)
	}
}

// TestCLIFlagHelp: every --org says what it is, and no help line prints a
// default twice.
func TestCLIFlagHelp(t *testing.T) {
	var walk func(path string, flags []cli.Flag, cmds []*cli.Command)
	orgs := 0
	walk = func(path string, flags []cli.Flag, cmds []*cli.Command) {
		for _, f := range flags {
			help := f.String()
			if n := strings.Count(help, "(default"); n > 1 {
				t.Errorf("%s: %q prints its default %d times", path, help, n)
			}
			if f.Names()[0] == "org" {
				orgs++
				if !strings.Contains(help, "--org NAME") || !strings.Contains(help, "phonesignals org list") {
					t.Errorf("%s: --org help %q lacks its usage", path, help)
				}
			}
		}
		for _, c := range cmds {
			walk(path+" "+c.Name, c.Flags, c.Subcommands)
		}
	}
	app := newApp()
	walk("phonesignals", app.Flags, app.Commands)
	if orgs < 8 {
		t.Fatalf("found %d --org flags; the walk is broken", orgs)
	}
}

// TestCompletionHelper is the binary the completion script calls: this
// test binary running the CLI on the arguments after "--".
func TestCompletionHelper(t *testing.T) {
	if os.Getenv("PHONESIGNALS_COMPLETION_HELPER") != "1" {
		t.Skip("helper process")
	}
	i := slices.Index(os.Args, "--")
	// urfave's completion reads os.Args itself.
	os.Args = append([]string{"phonesignals"}, os.Args[i+1:]...)
	_ = runApp(context.Background(), newApp(), os.Args)
	os.Exit(0)
}

// completionScript is `phonesignals completion bash`.
func completionScript(t *testing.T) string {
	t.Helper()
	var script strings.Builder
	app := newApp()
	app.Writer = &script
	if err := runApp(context.Background(), app, []string{"phonesignals", "completion", "bash"}); err != nil {
		t.Fatal(err)
	}
	return script.String()
}

// complete sources script in a real bash, with phonesignals being this
// CLI (TestCompletionHelper), and returns what TAB offers after line.
func complete(t *testing.T, script, line string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	words := strings.Split(line, " ")
	prog := `phonesignals() { PHONESIGNALS_COMPLETION_HELPER=1 "$HELPER" -test.run='^TestCompletionHelper$' -- "$@"; }
` + script + `
COMP_WORDS=(` + strings.Join(quoteAll(words), " ") + `)
COMP_CWORD=` + strconv.Itoa(len(words)-1) + `
_phonesignals_complete
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command(bash, "-c", prog)
	cmd.Env = append(os.Environ(), "HELPER="+os.Args[0])
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v: %s", line, err, out)
	}
	return strings.Fields(string(out))
}

// TestCLICompletion completes commands and flags as a shell user would.
func TestCLICompletion(t *testing.T) {
	script := completionScript(t)
	cases := []struct {
		line string
		want []string
	}{
		{"phonesignals re", []string{"review"}},
		{"phonesignals sync ", []string{"status"}},
		{"phonesignals webhooks ", []string{"serve"}},
		{"phonesignals run --max", []string{"--max-batch"}},
		{"phonesignals --clickhouse-t", []string{"--clickhouse-tls"}},
	}
	for _, tc := range cases {
		got := complete(t, script, tc.line)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("completing %q gave %q, want %s among them", tc.line, got, w)
			}
		}
	}
	if err := runApp(context.Background(), newApp(), []string{"phonesignals", "completion", "fish"}); err == nil || !strings.Contains(err.Error(), "bash or zsh") {
		t.Errorf("completion fish: %v", err)
	}
}

// TestCLICompletionValues: TAB after --org offers the stored org names,
// after --cycle the cycle ids of the --org given, on any command; a
// database that does not exist offers nothing and is not created.
func TestCLICompletionValues(t *testing.T) {
	e := newCLIEnv(t)
	e.ok(t, "migrate")
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "add", "--org", "globex", "--provider", "ringcentral")
	e.ok(t, "cycles", "add", "--org", "acme", "--cycle", "2026-09", "--start", "2026-09-01", "--end", "2026-10-01")
	e.ok(t, "cycles", "add", "--org", "acme", "--cycle", "2026-q4", "--start", "2026-10-01", "--end", "2027-01-01")
	e.ok(t, "cycles", "add", "--org", "globex", "--cycle", "g-1", "--start", "2026-09-01", "--end", "2026-10-01")
	script := completionScript(t)
	base := "phonesignals --clickhouse " + e.srv.Addr() + " --database " + e.db + " --data-dir " + e.dataDir + " "
	cases := []struct {
		line string
		want []string
	}{
		{base + "review --org ", []string{"acme", "globex"}},
		{base + "review --org g", []string{"globex"}},
		{base + "sync status --org ", []string{"acme", "globex"}},
		{base + "review --org acme --cycle ", []string{"2026-09", "2026-q4"}},
		{base + "review --org acme --cycle 2026-q", []string{"2026-q4"}},
		{base + "review --org globex --cycle ", []string{"g-1"}},
		// Global flags after the command count too.
		{"phonesignals review --clickhouse " + e.srv.Addr() + " --database " + e.db + " --org acme --cycle ", []string{"2026-09", "2026-q4"}},
		// No --org yet: no cycle can be named.
		{base + "review --cycle ", nil},
		{"phonesignals --clickhouse " + e.srv.Addr() + " --database nope_completion --data-dir " + e.dataDir + " review --org ", nil},
	}
	for _, tc := range cases {
		got := complete(t, script, tc.line)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("completing %q gave %q, want %q", strings.TrimPrefix(tc.line, base), got, tc.want)
		}
	}
	if out := e.query(t, "SELECT count() FROM system.databases WHERE name = 'nope_completion'"); strings.TrimSpace(out) != "0" {
		t.Errorf("completion created database nope_completion: %q", out)
	}
}

func quoteAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = "'" + w + "'"
	}
	return out
}

// TestCLINoSecretInArgv: a secret is never a flag value (the process list
// shows argv to every user); flags name a file or an environment variable.
func TestCLINoSecretInArgv(t *testing.T) {
	var walk func(path string, flags []cli.Flag, cmds []*cli.Command)
	walk = func(path string, flags []cli.Flag, cmds []*cli.Command) {
		for _, f := range flags {
			for _, n := range f.Names() {
				secretish := strings.Contains(n, "password") || strings.Contains(n, "token") || strings.Contains(n, "secret") ||
					strings.HasSuffix(n, "-key") || strings.Contains(n, "jwt")
				if secretish && !strings.HasSuffix(n, "-file") && !strings.HasSuffix(n, "-env") {
					t.Errorf("%s --%s takes a secret on the command line; read it from a file or the environment", path, n)
				}
			}
		}
		for _, c := range cmds {
			walk(path+" "+c.Name, c.Flags, c.Subcommands)
		}
	}
	app := newApp()
	walk("phonesignals", app.Flags, app.Commands)
}
