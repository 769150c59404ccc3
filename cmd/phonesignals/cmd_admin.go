package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/platform/tlsconf"
	"github.com/phonesignals/phonesignals/internal/store"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "create or upgrade the ClickHouse schema (idempotent), and the read-only analyst user",
		Description: "On the local server the analyst user always exists (DATA-DIR/clickhouse/analyst-client.xml connects as it).\n" +
			"With --clickhouse, --analyst-password-file (or $" + envAnalystPassword + ") creates user analyst with SELECT on the analyst views only.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "analyst-password-file", EnvVars: []string{"PHONESIGNALS_ANALYST_PASSWORD_FILE"},
				Usage: "with --clickhouse: file holding the password of the read-only user analyst to create (current ClickHouse; default: no analyst user)"},
		},
		Action: func(c *cli.Context) error {
			e := newEnv(c)
			defer e.close()
			cfg, err := e.ClickHouseConfig(c.Context)
			if err != nil {
				return err
			}
			addr := cfg.Addr
			st, err := store.Open(c.Context, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			applied, err := st.Migrate(c.Context)
			if err != nil {
				return err
			}
			v, err := st.SchemaVersion(c.Context)
			if err != nil {
				return err
			}
			if err := reportDrift(c.Context, st); err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Printf("schema of %s on %s is up to date (version %d)\n", c.String("database"), addr, v)
			} else {
				fmt.Printf("applied migrations %v to %s on %s; schema version %d\n", applied, c.String("database"), addr, v)
			}
			return setupAnalyst(c, e, st)
		},
	}
}

// envAnalystPassword holds the analyst user's password for `migrate`
// (instead of --analyst-password-file).
const envAnalystPassword = "PHONESIGNALS_ANALYST_PASSWORD"

// setupAnalyst gives analysts their read-only access after a migration:
// on the local server its analyst database (the user is in users.xml);
// on a server of the operator's, user analyst when a password is given.
func setupAnalyst(c *cli.Context, e *env, st *store.Store) error {
	if db := e.AnalystDatabase(); db != "" {
		if err := st.SetupLocalAnalyst(c.Context, db); err != nil {
			return err
		}
		path, err := e.LocalServer().WriteAnalystClientConfig()
		if err != nil {
			return err
		}
		fmt.Printf("read-only analyst user: %s\n", chserver.ConnectCommand(path, db))
		return nil
	}
	pw, err := tlsconf.Secret(envAnalystPassword, c.String("analyst-password-file"))
	if err != nil {
		return fmt.Errorf("analyst password: %w", err)
	}
	if pw == "" {
		return nil
	}
	if err := st.SetupAnalystUser(c.Context, pw); err != nil {
		return err
	}
	fmt.Printf("read-only user analyst may SELECT the analyst views of %s (and nothing else)\n", c.String("database"))
	return nil
}

func orgCommand(reg *ingest.Registry) *cli.Command {
	orgFlag := newOrgFlag()
	return &cli.Command{
		Name:  "org",
		Usage: "manage orgs and their provider connection",
		Subcommands: []*cli.Command{
			{
				Name:        "add",
				Usage:       "create an org with its phone provider (one provider per org)",
				Description: "The org's name is its id in every table, topic and file: " + orgs.NameRule + ".",
				Flags:       []cli.Flag{orgFlag, &cli.StringFlag{Name: "provider", Usage: strings.Join(reg.Names(), " or "), Required: true}},
				Action:      orgAdd(reg),
			},
			{
				Name:   "connect",
				Usage:  "store the org's provider credentials, encrypted with the master key",
				Flags:  connectFlags(orgFlag, reg),
				Action: orgConnect,
			},
			orgSetCommand(),
			{
				Name:   "list",
				Usage:  "list orgs with their provider and whether credentials are stored",
				Flags:  []cli.Flag{formatFlag(formatText, allFormats...)},
				Action: readAction(orgList),
			},
			orgPrivacyCommand(),
		},
	}
}

// orgList is `org list`: columns org, provider, connected.
func orgList(c *cli.Context, _ *env, st *store.Store) error {
	names, err := st.ListOrgs(c.Context)
	if err != nil {
		return err
	}
	t := table{columns: cols("org", "provider", "connected")}
	for _, n := range names {
		o, err := st.GetOrg(c.Context, n)
		if err != nil {
			return err
		}
		conn := shown{value: false, text: "not connected"}
		if o.Credentials != "" {
			conn = shown{value: true, text: "connected"}
		}
		t.add(n, o.Provider, conn)
	}
	return t.write(os.Stdout, c.String("format"))
}

// orgAdd is `org add`: the name is checked before ClickHouse is reached.
func orgAdd(reg *ingest.Registry) cli.ActionFunc {
	add := storeAction(func(c *cli.Context, e *env, st *store.Store) error {
		created, err := st.AddOrg(c.Context, c.String("org"), c.String("provider"))
		if err != nil {
			return err
		}
		if created {
			fmt.Printf("org %s added with provider %s\n", c.String("org"), c.String("provider"))
		} else {
			fmt.Printf("org %s already exists with provider %s\n", c.String("org"), c.String("provider"))
		}
		return nil
	})
	return func(c *cli.Context) error {
		if err := orgs.ValidateName(c.String("org")); err != nil {
			return err
		}
		if _, err := reg.Lookup(c.String("provider")); err != nil {
			return err
		}
		return add(c)
	}
}

// connectFlags are the flags of `org connect`: the common ones and every
// registered provider's credential flags.
func connectFlags(orgFlag cli.Flag, reg *ingest.Registry) []cli.Flag {
	flags := []cli.Flag{orgFlag, &cli.StringFlag{Name: "api-url", Usage: "override the provider's base URL"}}
	seen := map[string]bool{}
	for _, p := range reg.All() {
		for _, f := range p.Credentials {
			if !seen[f.Flag] {
				seen[f.Flag] = true
				flags = append(flags, &cli.StringFlag{Name: f.Flag, Usage: f.Usage})
			}
		}
	}
	return append(flags,
		&cli.StringFlag{Name: "webhook-token-file", Usage: "file holding the webhook token (providers with webhooks)"},
		&cli.StringFlag{Name: "account-id", Usage: "provider account id (RingCentral; default ~, the authenticated account)"},
		&cli.StringFlag{Name: "transcripts", Usage: "transcripts (providers with webhooks): on or off (default off)"},
		&cli.StringSliceFlag{Name: "setting", Usage: "provider setting `KEY=VALUE` (repeatable): " + settingNames(reg)},
		&cli.BoolFlag{Name: "no-verify", Usage: "store the connection untried; without it the credentials are tried with one cheap request, and nothing is saved if the provider refuses them or cannot be reached"},
	)
}

// settingNames lists each provider's settings for the help text.
func settingNames(reg *ingest.Registry) string {
	var parts []string
	for _, p := range reg.All() {
		if names := p.Settings.Names(); len(names) > 0 {
			parts = append(parts, p.Name+": "+strings.Join(names, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func orgConnect(c *cli.Context) error {
	if err := orgs.ValidateName(c.String("org")); err != nil {
		return err
	}
	e := newEnv(c)
	defer e.close()
	box, err := e.box(c.Context)
	if err != nil {
		return err
	}
	st, err := e.Store(c.Context)
	if err != nil {
		return err
	}
	res, err := orgs.Connect(c.Context, st, box, providersOf(c), connectRequest(c))
	if err != nil {
		return err
	}
	o := res.Org
	verified := "verified and "
	if !res.Verified {
		verified = "not verified, "
	}
	fmt.Printf("org %s connected to %s (credentials %sstored encrypted", o.Name, o.Provider, verified)
	if o.APIURL != "" {
		fmt.Printf(", API %s", o.APIURL)
	}
	fmt.Println(")")
	return nil
}

// connectRequest reads the flags of `org connect`.
func connectRequest(c *cli.Context) orgs.ConnectRequest {
	req := orgs.ConnectRequest{Org: c.String("org"), Flags: map[string]string{}, Settings: c.StringSlice("setting"), NoVerify: c.Bool("no-verify")}
	for _, p := range providersOf(c).All() {
		for _, f := range orgs.ProviderFlags(p) {
			if c.IsSet(f) {
				req.Flags[f] = c.String(f)
			}
		}
	}
	if c.IsSet("api-url") {
		u := c.String("api-url")
		req.APIURL = &u
	}
	return req
}

func employeesCommand() *cli.Command {
	return &cli.Command{
		Name:  "employees",
		Usage: "manage the employee roster",
		Subcommands: []*cli.Command{
			{
				Name: "import",
				Usage: "import or update employees from a CSV with header " + strings.Join(store.EmployeesHeader, ",") +
					"; with --match email, fill in the missing provider_user_ids from the provider's user list",
				ArgsUsage: "FILE.csv (optional with --match: the stored roster)",
				Flags: []cli.Flag{newOrgFlag(),
					&cli.BoolFlag{Name: "move", Usage: "let rows take provider users mapped to other employees (those keep no provider user); with --match, let e-mail matches replace existing mappings"},
					&cli.StringFlag{Name: "match", Usage: "`email`: fill in provider_user_id for rows with an e-mail and none, from the provider's users with that e-mail (case ignored)"},
					&cli.BoolFlag{Name: "dry-run", Usage: "with --match: print what would be mapped, write nothing"}},
				Action: employeesImport,
			},
			employeesDiscoverCommand(),
			{
				Name:      "remove",
				Usage:     "remove employees from the roster (their calls stay loaded; importing them again restores them)",
				ArgsUsage: "EMPLOYEE_ID...",
				Flags:     []cli.Flag{newOrgFlag()},
				Action: func(c *cli.Context) error {
					if c.NArg() == 0 {
						return fmt.Errorf("employees remove: name at least one EMPLOYEE_ID")
					}
					e := newEnv(c)
					defer e.close()
					st, err := e.Store(c.Context)
					if err != nil {
						return err
					}
					if err := st.RemoveEmployees(c.Context, c.String("org"), c.Args().Slice()); err != nil {
						return err
					}
					fmt.Printf("removed %d employees from org %s\n", c.NArg(), c.String("org"))
					return nil
				},
			},
			{
				Name:  "list",
				Usage: "list the org's employees (default CSV, the import format)",
				// CSV by default: its output is what `employees import` reads.
				Flags: []cli.Flag{newOrgFlag(), formatFlag(formatCSV, allFormats...)},
				Action: readAction(func(c *cli.Context, e *env, st *store.Store) error {
					emps, err := st.Employees(c.Context, c.String("org"))
					if err != nil {
						return err
					}
					t := table{columns: cols(store.EmployeesHeader...)}
					for _, em := range emps {
						t.add(em.ID, em.Name, em.Email, em.Cohort, em.ProviderUserID)
					}
					return t.write(os.Stdout, c.String("format"))
				}),
			},
			employeesForgetCommand(),
		},
	}
}

// employeesImport checks every row of the CSV first, then imports them all.
func employeesImport(c *cli.Context) error {
	if c.IsSet("match") {
		return employeesMatch(c)
	}
	if c.Bool("dry-run") {
		return fmt.Errorf("employees import: --dry-run goes with --match email")
	}
	if c.NArg() != 1 {
		return fmt.Errorf("employees import: want exactly one FILE.csv, got %d arguments", c.NArg())
	}
	emps, err := readRosterFile(c.Args().First())
	if err != nil {
		return err
	}
	e := newEnv(c)
	defer e.close()
	st, err := e.Store(c.Context)
	if err != nil {
		return err
	}
	if _, err := st.GetOrg(c.Context, c.String("org")); err != nil {
		return err
	}
	moved, err := st.ImportEmployeesWith(c.Context, c.String("org"), emps, store.ImportOptions{Move: c.Bool("move")})
	if err != nil {
		return err
	}
	printImported(c.String("org"), emps, moved, "imported")
	return nil
}

// printImported prints the moves of an import and its count per cohort;
// verb is "imported" or, for a dry run, "would import".
func printImported(org string, emps []store.Employee, moved []store.Moved, verb string) {
	for _, m := range moved {
		fmt.Printf("moved provider user %s from employee %s to %s\n", m.ProviderUserID, m.From, m.To)
	}
	cohorts := map[string]int{}
	for _, e := range emps {
		cohorts[e.Cohort]++
	}
	names := make([]string, 0, len(cohorts))
	for k, v := range cohorts {
		names = append(names, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(names)
	fmt.Printf("%s %d employees into org %s (%s)\n", verb, len(emps), org, strings.Join(names, ", "))
}

// employeesDiscoverCommand is `employees discover`: the provider's own
// user list beside the roster and the calls, for mapping employees.
func employeesDiscoverCommand() *cli.Command {
	return &cli.Command{
		Name: "discover",
		Usage: "list the provider's users (Aircall users, RingCentral User extensions): id, name, e-mail, " +
			"calls in the last 90 days and the employee each is mapped to",
		Flags: []cli.Flag{newOrgFlag(),
			formatFlag(formatText, store.DiscoveryFormats...),
			&cli.IntFlag{Name: "days", Value: 90, Usage: "count the calls of the last `N` days"},
			&cli.StringFlag{Name: "until", Usage: "end those days at the start of `YYYY-MM-DD` (UTC; default now)"}},
		Action: employeesDiscover,
	}
}

func employeesDiscover(c *cli.Context) error {
	from, to, err := discoverRange(c)
	if err != nil {
		return err
	}
	e := newEnv(c)
	defer e.close()
	st, err := e.Store(c.Context)
	if err != nil {
		return err
	}
	o, p, users, err := providerUsers(c, e, st)
	if err != nil {
		return err
	}
	d, err := st.Discover(c.Context, o.Name, o.Provider, users, from, to)
	if err != nil {
		return err
	}
	return d.Write(os.Stdout, c.String("format"), store.DiscoveryLabels{Title: p.Title, UserIDName: p.UserIDName})
}

// discoverRange is the range of calls `employees discover` counts: --days
// days up to --until (default now).
func discoverRange(c *cli.Context) (time.Time, time.Time, error) {
	days := c.Int("days")
	if days < 1 || days > 3660 {
		return time.Time{}, time.Time{}, fmt.Errorf("--days %d: want a number of days from 1 to 3660", days)
	}
	to := time.Now().UTC()
	if u := c.String("until"); u != "" {
		t, err := time.Parse(time.DateOnly, u)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("--until %q: want YYYY-MM-DD", u)
		}
		to = t
	}
	return to.AddDate(0, 0, -days), to, nil
}

// providerUsers lists the users of the org's provider with its stored
// credentials, or names what to fix first.
func providerUsers(c *cli.Context, e *env, st *store.Store) (store.Org, ingest.Provider, []store.ProviderUser, error) {
	o, err := st.GetOrg(c.Context, c.String("org"))
	if err != nil {
		return o, ingest.Provider{}, nil, err
	}
	p, err := providersOf(c).Lookup(o.Provider)
	if err != nil {
		return o, p, nil, fmt.Errorf("org %s: %w", o.Name, err)
	}
	if o.Credentials == "" {
		return o, p, nil, fmt.Errorf("org %s has no %s credentials to list its users with: phonesignals org connect --org %s ... first", o.Name, p.Title, o.Name)
	}
	box, err := e.box(c.Context)
	if err != nil {
		return o, p, nil, err
	}
	cr, err := orgs.OpenCredentials(box, o)
	if err != nil {
		return o, p, nil, err
	}
	list, err := p.ListUsers(c.Context, orgs.Config(o, cr, nil))
	if err != nil {
		return o, p, nil, err
	}
	users := make([]store.ProviderUser, len(list))
	for i, u := range list {
		users[i] = store.ProviderUser{ID: u.ID, Name: u.Name, Email: u.Email}
	}
	return o, p, users, nil
}

// employeesMatch is `employees import --match email [FILE.csv]`: the rows
// of FILE.csv (or of the stored roster) that have an e-mail and no
// provider_user_id get the id of the provider's user with that e-mail.
func employeesMatch(c *cli.Context) error {
	if m := c.String("match"); m != "email" {
		return fmt.Errorf("--match %q: want email (the key both providers' user lists carry)", m)
	}
	if c.NArg() > 1 {
		return fmt.Errorf("employees import --match email: want at most one FILE.csv (none: the stored roster), got %d arguments", c.NArg())
	}
	var file []store.Employee
	if c.NArg() == 1 {
		var err error
		if file, err = readRosterFile(c.Args().First()); err != nil {
			return err
		}
	}
	e := newEnv(c)
	defer e.close()
	st, err := e.Store(c.Context)
	if err != nil {
		return err
	}
	o, p, users, err := providerUsers(c, e, st)
	if err != nil {
		return err
	}
	stored, err := st.Employees(c.Context, o.Name)
	if err != nil {
		return err
	}
	rows := file
	if file == nil {
		if len(stored) == 0 {
			return fmt.Errorf("org %s has no employees to match: phonesignals employees import --org %s --match email FILE.csv (header %s)", o.Name, o.Name, strings.Join(store.EmployeesHeader, ","))
		}
		// Matched as if no row had an id: each employee's mapping is its
		// stored one, which an e-mail match replaces only with --move.
		rows = make([]store.Employee, len(stored))
		for i, em := range stored {
			em.ProviderUserID = ""
			rows[i] = em
		}
	}
	res := store.MatchByEmail(rows, stored, users, store.MatchOptions{Move: c.Bool("move"), UserIDName: p.UserIDName})
	if err := res.Err(o.Name); err != nil {
		return err
	}
	return writeMatch(c, st, o.Name, p, res, stored, file != nil)
}

// writeMatch reports a match and imports its rows: every row of a file,
// or the stored rows it changed.
func writeMatch(c *cli.Context, st *store.Store, org string, p ingest.Provider, res store.MatchResult, stored []store.Employee, fromFile bool) error {
	res.Write(os.Stdout, org, p.UserIDName)
	rows := res.Rows
	if !fromFile {
		rows = res.Changed(stored)
	}
	if len(rows) == 0 {
		fmt.Printf("nothing to change in the roster of org %s\n", org)
		return nil
	}
	dry := c.Bool("dry-run")
	moved, err := st.ImportEmployeesWith(c.Context, org, rows, store.ImportOptions{Move: c.Bool("move"), DryRun: dry})
	if err != nil {
		return err
	}
	verb := "imported"
	if dry {
		verb = "dry run, nothing written: would import"
	}
	printImported(org, rows, moved, verb)
	return nil
}

// readRosterFile parses a roster CSV, naming the file in its errors.
func readRosterFile(path string) ([]store.Employee, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening employees file: %w", err)
	}
	defer f.Close()
	emps, err := store.ParseEmployeesCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return emps, nil
}

func cyclesCommand() *cli.Command {
	return &cli.Command{
		Name:  "cycles",
		Usage: "manage review cycles",
		Subcommands: []*cli.Command{
			{
				Name:  "add",
				Usage: "add or update a review cycle [start, end) in UTC",
				Flags: []cli.Flag{
					newOrgFlag(),
					&cli.StringFlag{Name: "cycle", Required: true, Usage: "cycle id, e.g. 2026-Q3"},
					&cli.StringFlag{Name: "start", Required: true, Usage: "first day `YYYY-MM-DD` (inclusive)"},
					&cli.StringFlag{Name: "end", Required: true, Usage: "day after the last `YYYY-MM-DD` (exclusive)"},
				},
				Action: func(c *cli.Context) error {
					start, end, err := store.ParseCycleDates(c.String("start"), c.String("end"))
					if err != nil {
						return err
					}
					e := newEnv(c)
					defer e.close()
					st, err := e.Store(c.Context)
					if err != nil {
						return err
					}
					if _, err := st.GetOrg(c.Context, c.String("org")); err != nil {
						return err
					}
					if err := st.AddCycle(c.Context, c.String("org"), store.Cycle{ID: c.String("cycle"), Start: start, End: end}); err != nil {
						return err
					}
					fmt.Printf("cycle %s of org %s: %s to %s (end exclusive, UTC)\n", c.String("cycle"), c.String("org"), start.Format(time.DateOnly), end.Format(time.DateOnly))
					return nil
				},
			},
			{
				Name:  "list",
				Usage: "list review cycles: id, first day, day after the last (UTC)",
				Flags: []cli.Flag{newOrgFlag(), formatFlag(formatText, allFormats...)},
				Action: readAction(func(c *cli.Context, e *env, st *store.Store) error {
					cs, err := st.Cycles(c.Context, c.String("org"))
					if err != nil {
						return err
					}
					// cycle_id as review's JSON and CSV name it.
					t := table{columns: []column{{key: "cycle_id", head: "CYCLE"}, {key: "start"}, {key: "end"}}}
					for _, cy := range cs {
						t.add(cy.ID, cy.Start.Format(time.DateOnly), cy.End.Format(time.DateOnly))
					}
					return t.write(os.Stdout, c.String("format"))
				}),
			},
		},
	}
}

// reportDrift compares the live schema with the migrations' and fails,
// listing every difference with its fix, when they differ: schema_migrations
// alone cannot see a column retyped by hand.
func reportDrift(ctx context.Context, st *store.Store) error {
	drift, err := st.SchemaDrift(ctx)
	if err != nil {
		return err
	}
	if len(drift) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the live schema of %s differs from the expected one in %d places:", st.Config().Database, len(drift))
	for _, d := range drift {
		fmt.Fprintf(&b, "\n  %s", d)
		if f := d.Fix(); f != "" {
			fmt.Fprintf(&b, "\n    fix: %s", f)
		}
	}
	return cli.Exit(b.String(), exitNeedsFix)
}
