package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// Level is how serious a finding is.
type Level int

// Levels of a finding.
const (
	OK Level = iota
	Warn
	Fail
)

// Finding is one line of the diagnosis.
type Finding struct {
	Level Level
	// Text says what was found.
	Text string
	// Fix says what to do about it; empty when nothing is to be done.
	Fix string
}

// Report is the diagnosis of one org.
type Report struct {
	Org      string
	Provider string
	Findings []Finding
}

// Count returns how many findings have level l.
func (r Report) Count(l Level) int {
	n := 0
	for _, f := range r.Findings {
		if f.Level == l {
			n++
		}
	}
	return n
}

// Write prints the report: a header, then one line per finding and one per
// fix.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "doctor: org %s (%s)\n", r.Org, r.Provider)
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %-6s%s\n", [...]string{OK: "ok", Warn: "WARN", Fail: "FAIL"}[f.Level], f.Text)
		if f.Fix != "" {
			fmt.Fprintf(w, "        fix: %s\n", f.Fix)
		}
	}
}

// Config is what a diagnosis needs. Zero fields take the defaults noted.
type Config struct {
	// Store is the org's ClickHouse store. Required.
	Store *store.Store
	// Providers is the provider registry. Required.
	Providers *ingest.Registry
	// Box opens the stored credentials (the online check) and the webhook
	// tokens (whether another org shares the org's). Required unless
	// Offline; offline without it, the token check is skipped.
	Box func() (*secret.Box, error)
	// Org is the org diagnosed. Required.
	Org string
	// Cycle limits the per-cycle check to this cycle. Default: every cycle.
	Cycle string
	// Offline skips the request to the provider.
	Offline bool
	// HTTPClient sends the provider request. Default: the connector's.
	HTTPClient *http.Client
	// ProbeTimeout bounds the provider request. Default 90s.
	ProbeTimeout time.Duration
}

// Validate reports every missing field, each named.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("doctor: Store is nil"))
	}
	if c.Providers == nil {
		errs = append(errs, errors.New("doctor: Providers is nil"))
	}
	if c.Box == nil && !c.Offline {
		errs = append(errs, errors.New("doctor: Box is nil (needed unless Offline)"))
	}
	if c.Org == "" {
		errs = append(errs, errors.New("doctor: Org is empty"))
	}
	return errors.Join(errs...)
}

// diagnosis accumulates the findings of one Run.
type diagnosis struct {
	cfg Config
	st  *store.Store
	o   store.Org
	p   ingest.Provider
	rep Report
}

func (d *diagnosis) add(l Level, fix, format string, a ...any) {
	d.rep.Findings = append(d.rep.Findings, Finding{Level: l, Text: fmt.Sprintf(format, a...), Fix: fix})
}

// Run diagnoses cfg.Org. An error means the diagnosis itself failed
// (ClickHouse unreachable, unknown org); problems of the org are findings.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	o, err := cfg.Store.GetOrg(ctx, cfg.Org)
	if err != nil {
		return Report{}, err
	}
	p, err := cfg.Providers.Lookup(o.Provider)
	if err != nil {
		return Report{}, fmt.Errorf("org %s: %w", o.Name, err)
	}
	d := &diagnosis{cfg: cfg, st: cfg.Store, o: o, p: p, rep: Report{Org: o.Name, Provider: o.Provider}}
	d.schema(ctx)
	credsOK := d.credentials(ctx)
	for _, check := range []func(context.Context) error{
		d.mapping,
		func(ctx context.Context) error { return d.cycles(ctx, credsOK) },
		d.lastSync,
		d.unloadedWindows,
		d.webhooks,
		d.transcripts,
		d.deadLetters,
		d.aggregates,
	} {
		if err := check(ctx); err != nil {
			return d.rep, err
		}
	}
	return d.rep, nil
}
