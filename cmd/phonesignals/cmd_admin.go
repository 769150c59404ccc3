package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "create or upgrade the ClickHouse schema (idempotent)",
		Action: func(c *cli.Context) error {
			e := newEnv(c)
			defer e.close()
			cfg, err := e.clickhouseConfig(c.Context)
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
			if len(applied) == 0 {
				fmt.Printf("schema of %s on %s is up to date (version %d)\n", c.String("database"), addr, v)
			} else {
				fmt.Printf("applied migrations %v to %s on %s; schema version %d\n", applied, c.String("database"), addr, v)
			}
			return nil
		},
	}
}

// credentials are what `org connect` seals into orgs.credentials.
type credentials struct {
	APIID        string `json:"api_id,omitempty"`
	APIToken     string `json:"api_token,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	JWT          string `json:"jwt,omitempty"`
}

func credentialsAAD(org string) string  { return "org:" + org + ":credentials" }
func webhookTokenAAD(org string) string { return "org:" + org + ":webhook_token" }

func openCredentials(box *secret.Box, o store.Org) (credentials, error) {
	var cr credentials
	if o.Credentials == "" {
		return cr, fmt.Errorf("org %s has no credentials: run `phonesignals org connect --org %s ...`", o.Name, o.Name)
	}
	plain, err := box.OpenString(o.Credentials, credentialsAAD(o.Name))
	if err != nil {
		return cr, fmt.Errorf("opening the credentials of org %s: %w", o.Name, err)
	}
	if err := json.Unmarshal([]byte(plain), &cr); err != nil {
		return cr, fmt.Errorf("decoding the credentials of org %s: %w", o.Name, err)
	}
	return cr, nil
}

func readSecretFile(flag, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flag, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("--%s %s is empty", flag, path)
	}
	return s, nil
}

func orgCommand() *cli.Command {
	orgFlag := &cli.StringFlag{Name: "org", Usage: "org name", Required: true}
	return &cli.Command{
		Name:  "org",
		Usage: "manage orgs and their provider connection",
		Subcommands: []*cli.Command{
			{
				Name:  "add",
				Usage: "create an org with its phone provider (one provider per org)",
				Flags: []cli.Flag{orgFlag, &cli.StringFlag{Name: "provider", Usage: "aircall or ringcentral", Required: true}},
				Action: storeAction(func(c *cli.Context, e *env, st *store.Store) error {
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
				}),
			},
			{
				Name:  "connect",
				Usage: "store the org's provider credentials, encrypted with the master key",
				Flags: []cli.Flag{
					orgFlag,
					&cli.StringFlag{Name: "api-url", Usage: "override the provider's base URL"},
					&cli.StringFlag{Name: "api-id", Usage: "Aircall API ID"},
					&cli.StringFlag{Name: "api-token-file", Usage: "file holding the Aircall API token"},
					&cli.StringFlag{Name: "webhook-token-file", Usage: "file holding the Aircall webhook token"},
					&cli.StringFlag{Name: "client-id", Usage: "RingCentral app client id"},
					&cli.StringFlag{Name: "client-secret-file", Usage: "file holding the RingCentral client secret"},
					&cli.StringFlag{Name: "jwt-file", Usage: "file holding the RingCentral JWT credential"},
					&cli.StringFlag{Name: "account-id", Usage: "RingCentral account id (default ~, the authenticated account)"},
					&cli.StringFlag{Name: "transcripts", Usage: "Aircall transcripts: on or off (default off)"},
					&cli.StringSliceFlag{Name: "setting", Usage: "provider setting `KEY=VALUE` (repeatable): rate_limit, mode, per_page"},
				},
				Action: orgConnect,
			},
			{
				Name:  "list",
				Usage: "list orgs",
				Action: storeAction(func(c *cli.Context, e *env, st *store.Store) error {
					orgs, err := st.ListOrgs(c.Context)
					if err != nil {
						return err
					}
					for _, n := range orgs {
						o, err := st.GetOrg(c.Context, n)
						if err != nil {
							return err
						}
						conn := "not connected"
						if o.Credentials != "" {
							conn = "connected"
						}
						fmt.Printf("%s\t%s\t%s\n", n, o.Provider, conn)
					}
					return nil
				}),
			},
		},
	}
}

func orgConnect(c *cli.Context) error {
	e := newEnv(c)
	defer e.close()
	box, err := e.box()
	if err != nil {
		return err
	}
	st, err := e.store(c.Context)
	if err != nil {
		return err
	}
	o, err := st.GetOrg(c.Context, c.String("org"))
	if err != nil {
		return err
	}
	var cr credentials
	if o.Credentials != "" {
		if cr, err = openCredentials(box, o); err != nil {
			return err
		}
	}
	var probs []string
	switch o.Provider {
	case model.ProviderAircall:
		for _, f := range []string{"client-id", "client-secret-file", "jwt-file", "account-id"} {
			if c.IsSet(f) {
				probs = append(probs, fmt.Sprintf("--%s is a RingCentral flag; org %s uses Aircall", f, o.Name))
			}
		}
		if v := c.String("api-id"); v != "" {
			cr.APIID = v
		}
		tok, err := readSecretFile("api-token-file", c.String("api-token-file"))
		if err != nil {
			probs = append(probs, err.Error())
		} else if tok != "" {
			cr.APIToken = tok
		}
		if cr.APIID == "" || cr.APIToken == "" {
			probs = append(probs, "Aircall needs --api-id and --api-token-file (Aircall → Integrations & API → API keys; the token is not the API key shown in the UI)")
		}
	case model.ProviderRingCentral:
		for _, f := range []string{"api-id", "api-token-file", "webhook-token-file", "transcripts"} {
			if c.IsSet(f) {
				probs = append(probs, fmt.Sprintf("--%s is an Aircall flag; org %s uses RingCentral", f, o.Name))
			}
		}
		if v := c.String("client-id"); v != "" {
			cr.ClientID = v
		}
		for _, f := range []struct {
			flag string
			dst  *string
		}{{"client-secret-file", &cr.ClientSecret}, {"jwt-file", &cr.JWT}} {
			v, err := readSecretFile(f.flag, c.String(f.flag))
			if err != nil {
				probs = append(probs, err.Error())
			} else if v != "" {
				*f.dst = v
			}
		}
		if cr.ClientID == "" || cr.ClientSecret == "" || cr.JWT == "" {
			probs = append(probs, "RingCentral needs --client-id, --client-secret-file and --jwt-file (from the RingCentral Developer Console)")
		}
		if c.IsSet("account-id") {
			o.AccountID = c.String("account-id")
		}
	}
	if c.IsSet("webhook-token-file") {
		tok, err := readSecretFile("webhook-token-file", c.String("webhook-token-file"))
		if err != nil {
			probs = append(probs, err.Error())
		} else {
			o.WebhookToken = box.SealString(tok, webhookTokenAAD(o.Name))
		}
	}
	switch c.String("transcripts") {
	case "":
	case "on":
		o.Transcripts = true
	case "off":
		o.Transcripts = false
	default:
		probs = append(probs, fmt.Sprintf("--transcripts %q: want on or off", c.String("transcripts")))
	}
	for _, kv := range c.StringSlice("setting") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			probs = append(probs, fmt.Sprintf("--setting %q: want KEY=VALUE", kv))
			continue
		}
		if o.Settings == nil {
			o.Settings = map[string]string{}
		}
		o.Settings[k] = v
	}
	if len(probs) > 0 {
		return fmt.Errorf("org connect %s:\n  %s", o.Name, strings.Join(probs, "\n  "))
	}
	if c.IsSet("api-url") {
		o.APIURL = c.String("api-url")
	}
	plain, err := json.Marshal(cr)
	if err != nil {
		return err
	}
	o.Credentials = box.SealString(string(plain), credentialsAAD(o.Name))
	if err := st.SaveOrg(c.Context, o); err != nil {
		return err
	}
	fmt.Printf("org %s connected to %s (credentials stored encrypted", o.Name, o.Provider)
	if o.APIURL != "" {
		fmt.Printf(", API %s", o.APIURL)
	}
	fmt.Println(")")
	return nil
}

func employeesCommand() *cli.Command {
	return &cli.Command{
		Name:  "employees",
		Usage: "manage the employee roster",
		Subcommands: []*cli.Command{
			{
				Name:      "import",
				Usage:     "import or update employees from a CSV with header " + strings.Join(store.EmployeesHeader, ","),
				ArgsUsage: "FILE.csv",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "org", Required: true, Usage: "org name"}},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("employees import: want exactly one FILE.csv, got %d arguments", c.NArg())
					}
					f, err := os.Open(c.Args().First())
					if err != nil {
						return fmt.Errorf("opening employees file: %w", err)
					}
					defer f.Close()
					emps, err := store.ParseEmployeesCSV(f)
					if err != nil {
						return fmt.Errorf("%s: %w", c.Args().First(), err)
					}
					e := newEnv(c)
					defer e.close()
					st, err := e.store(c.Context)
					if err != nil {
						return err
					}
					if _, err := st.GetOrg(c.Context, c.String("org")); err != nil {
						return err
					}
					if err := st.ImportEmployees(c.Context, c.String("org"), emps); err != nil {
						return err
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
					fmt.Printf("imported %d employees into org %s (%s)\n", len(emps), c.String("org"), strings.Join(names, ", "))
					return nil
				},
			},
			{
				Name:      "remove",
				Usage:     "remove employees from the roster (their calls stay loaded; importing them again restores them)",
				ArgsUsage: "EMPLOYEE_ID...",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "org", Required: true, Usage: "org name"}},
				Action: func(c *cli.Context) error {
					if c.NArg() == 0 {
						return fmt.Errorf("employees remove: name at least one EMPLOYEE_ID")
					}
					e := newEnv(c)
					defer e.close()
					st, err := e.store(c.Context)
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
				Usage: "list the org's employees as CSV (the import format)",
				Flags: []cli.Flag{&cli.StringFlag{Name: "org", Required: true, Usage: "org name"}},
				Action: storeAction(func(c *cli.Context, e *env, st *store.Store) error {
					emps, err := st.Employees(c.Context, c.String("org"))
					if err != nil {
						return err
					}
					w := csv.NewWriter(os.Stdout)
					_ = w.Write(store.EmployeesHeader)
					for _, em := range emps {
						_ = w.Write([]string{em.ID, em.Name, em.Email, em.Cohort, em.ProviderUserID})
					}
					w.Flush()
					return w.Error()
				}),
			},
		},
	}
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
					&cli.StringFlag{Name: "org", Required: true},
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
					st, err := e.store(c.Context)
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
				Usage: "list review cycles",
				Flags: []cli.Flag{&cli.StringFlag{Name: "org", Required: true}},
				Action: storeAction(func(c *cli.Context, e *env, st *store.Store) error {
					cs, err := st.Cycles(c.Context, c.String("org"))
					if err != nil {
						return err
					}
					for _, cy := range cs {
						fmt.Printf("%s\t%s\t%s\n", cy.ID, cy.Start.Format(time.DateOnly), cy.End.Format(time.DateOnly))
					}
					return nil
				}),
			},
		},
	}
}
