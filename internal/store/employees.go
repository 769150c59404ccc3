package store

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"

	"github.com/phonesignals/phonesignals/queries"
)

var orgRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Employee is one row of the roster.
type Employee struct {
	ID             string `ch:"employee_id"`
	Name           string `ch:"name"`
	Email          string `ch:"email"`
	Cohort         string `ch:"cohort"`
	ProviderUserID string `ch:"provider_user_id"`
	// Line is the CSV line the row came from (0 when not from a file), for
	// messages about it.
	Line int `ch:"-"`
}

// EmployeesHeader is the CSV header `employees import` expects.
var EmployeesHeader = []string{"employee_id", "name", "email", "cohort", "provider_user_id"}

// ParseEmployeesCSV reads a roster. It checks every row and reports every
// bad one with its line number, so a file is either wholly good or rejected
// with the full list of fixes.
func ParseEmployeesCSV(r io.Reader) ([]Employee, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	if err := readEmployeesHeader(cr); err != nil {
		return nil, err
	}
	var out []Employee
	var errs []error
	seenID := map[string]int{}
	seenUser := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// FieldPos panics after an error in a record's first field;
			// the parse error knows its line.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			errs = append(errs, fmt.Errorf("line %d: %w", line, err))
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(EmployeesHeader) {
			errs = append(errs, fmt.Errorf("line %d: %d fields, want %d (%s)", line, len(rec), len(EmployeesHeader), strings.Join(EmployeesHeader, ",")))
			continue
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		e := Employee{ID: rec[0], Name: rec[1], Email: rec[2], Cohort: rec[3], ProviderUserID: rec[4], Line: line}
		probs := e.problems(seenID, seenUser)
		if len(probs) > 0 {
			errs = append(errs, fmt.Errorf("line %d: %s", line, strings.Join(probs, "; ")))
			continue
		}
		seenID[e.ID] = line
		if e.ProviderUserID != "" {
			seenUser[e.ProviderUserID] = line
		}
		out = append(out, e)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("employees CSV has %d bad rows, nothing imported:\n%w", len(errs), errors.Join(errs...))
	}
	return out, nil
}

// readEmployeesHeader reads and checks the header line.
func readEmployeesHeader(cr *csv.Reader) error {
	header, err := cr.Read()
	if err == io.EOF {
		return errors.New("employees CSV is empty: want a header line " + strings.Join(EmployeesHeader, ","))
	}
	if err != nil {
		return fmt.Errorf("reading employees CSV header: %w", err)
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
	}
	if strings.Join(header, ",") != strings.Join(EmployeesHeader, ",") {
		return fmt.Errorf("employees CSV line 1: header is %q, want %q", strings.Join(header, ","), strings.Join(EmployeesHeader, ","))
	}
	return nil
}

// problems lists what is wrong with row e, given the lines where earlier
// rows used each employee id and provider user id.
func (e Employee) problems(seenID, seenUser map[string]int) []string {
	var probs []string
	if e.ID == "" {
		probs = append(probs, "employee_id is empty")
	}
	if e.Cohort == "" {
		probs = append(probs, "cohort is empty")
	}
	if e.Email != "" {
		if _, err := mail.ParseAddress(e.Email); err != nil {
			probs = append(probs, fmt.Sprintf("email %q is not an address", e.Email))
		}
	}
	if e.ProviderUserID != "" && strings.ContainsAny(e.ProviderUserID, " \t/") {
		probs = append(probs, fmt.Sprintf("provider_user_id %q must be the numeric Aircall user id or RingCentral extension id", e.ProviderUserID))
	}
	if prev, ok := seenID[e.ID]; ok && e.ID != "" {
		probs = append(probs, fmt.Sprintf("employee_id %s already on line %d", e.ID, prev))
	}
	if prev, ok := seenUser[e.ProviderUserID]; ok && e.ProviderUserID != "" {
		probs = append(probs, fmt.Sprintf("provider_user_id %s already mapped on line %d (one provider user counts for one employee)", e.ProviderUserID, prev))
	}
	return probs
}

// ImportOptions tunes ImportEmployeesWith.
type ImportOptions struct {
	// Move lets a row take a provider user already mapped to another
	// active employee; that employee keeps no provider user. Default false:
	// such rows are refused, since one provider user counts for one
	// employee and a silent second mapping would count its calls twice.
	Move bool
	// DryRun checks the rows (and finds the moves) but writes nothing.
	DryRun bool
}

// Moved is a provider user mapping an import took from another employee.
type Moved struct {
	ProviderUserID string
	From, To       string
}

// ImportEmployees upserts the roster of org in one atomic insert, refusing
// rows that would map a provider user already held by another employee.
func (s *Store) ImportEmployees(ctx context.Context, org string, emps []Employee) error {
	_, err := s.ImportEmployeesWith(ctx, org, emps, ImportOptions{})
	return err
}

// ImportEmployeesWith upserts the roster of org in one atomic insert.
// Employees already known and absent from the file are kept. A row whose
// provider user is mapped to another active employee is refused, listing
// every such row and the holder, unless opts.Move; the file may also move
// a mapping itself by giving the holder's row a new provider user.
func (s *Store) ImportEmployeesWith(ctx context.Context, org string, emps []Employee, opts ImportOptions) ([]Moved, error) {
	if len(emps) == 0 {
		return nil, nil
	}
	cur, err := s.Employees(ctx, org)
	if err != nil {
		return nil, err
	}
	released, moved, err := mappingConflicts(org, cur, emps, opts.Move)
	if err != nil || opts.DryRun {
		return moved, err
	}
	v := version()
	rows := make([][]any, 0, len(emps)+len(released))
	for _, e := range emps {
		rows = append(rows, []any{org, e.ID, e.Name, e.Email, e.Cohort, e.ProviderUserID, uint8(0), v})
	}
	for _, e := range released {
		rows = append(rows, []any{org, e.ID, e.Name, e.Email, e.Cohort, "", uint8(0), v})
	}
	if err := s.insert(ctx, queries.InsertEmployees, rows...); err != nil {
		return nil, fmt.Errorf("importing %d employees of org %s: %w", len(emps), org, err)
	}
	return moved, nil
}

// mappingConflicts finds the rows of emps whose provider user another
// active employee holds. With move it returns the holders to release;
// without, an error listing every conflicting row.
func mappingConflicts(org string, cur, emps []Employee, move bool) ([]Employee, []Moved, error) {
	holder := map[string]Employee{}
	for _, e := range cur {
		if e.ProviderUserID != "" {
			holder[e.ProviderUserID] = e
		}
	}
	incoming := map[string]Employee{}
	for _, e := range emps {
		incoming[e.ID] = e
	}
	var released []Employee
	var moved []Moved
	var bad []string
	for _, e := range emps {
		h, ok := holder[e.ProviderUserID]
		if e.ProviderUserID == "" || !ok || h.ID == e.ID {
			continue
		}
		if in, ok := incoming[h.ID]; ok && in.ProviderUserID != e.ProviderUserID {
			continue // the file gives the holder another user: an explicit move
		}
		if move {
			released = append(released, h)
			moved = append(moved, Moved{ProviderUserID: e.ProviderUserID, From: h.ID, To: e.ID})
			continue
		}
		where := "row"
		if e.Line > 0 {
			where = fmt.Sprintf("line %d", e.Line)
		}
		bad = append(bad, fmt.Sprintf("%s: employee %s maps provider_user_id %s, already mapped to employee %s (%s)", where, e.ID, e.ProviderUserID, h.ID, h.Name))
	}
	if len(bad) > 0 {
		return nil, nil, fmt.Errorf("org %s: %d rows map a provider user another employee holds (one provider user counts for one employee), nothing imported:\n  %s\n"+
			"to move a mapping, import again with --move (the employee holding it keeps no provider user), or give the holder's row its new provider_user_id in the same file",
			org, len(bad), strings.Join(bad, "\n  "))
	}
	return released, moved, nil
}

// Employees lists the current roster of org.
func (s *Store) Employees(ctx context.Context, org string) ([]Employee, error) {
	var out []Employee
	if err := s.conn.Select(ctx, &out, queries.EmployeesList, org); err != nil {
		return nil, fmt.Errorf("listing employees of org %s: %w", org, err)
	}
	return out, nil
}

// RemoveEmployees marks employees of org as removed (a newer version with
// deleted=1), so they leave the roster, the reviews and the cohort medians;
// their calls stay loaded and count again if they are imported again.
// Unknown ids are an error naming them, and nothing is removed.
func (s *Store) RemoveEmployees(ctx context.Context, org string, ids []string) error {
	cur, err := s.Employees(ctx, org)
	if err != nil {
		return err
	}
	known := map[string]Employee{}
	for _, e := range cur {
		known[e.ID] = e
	}
	var missing []string
	v := version()
	rows := make([][]any, 0, len(ids))
	for _, id := range ids {
		e, ok := known[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		rows = append(rows, []any{org, e.ID, e.Name, e.Email, e.Cohort, e.ProviderUserID, uint8(1), v})
	}
	if len(missing) > 0 {
		return fmt.Errorf("org %s has no employees %s (see `phonesignals employees list --org %s`); nothing removed", org, strings.Join(missing, ", "), org)
	}
	if len(rows) == 0 {
		return nil
	}
	if err := s.insert(ctx, queries.InsertEmployees, rows...); err != nil {
		return fmt.Errorf("removing %d employees of org %s: %w", len(rows), org, err)
	}
	return nil
}
