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
	ID             string
	Name           string
	Email          string
	Cohort         string
	ProviderUserID string
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
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("employees CSV is empty: want a header line " + strings.Join(EmployeesHeader, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("reading employees CSV header: %w", err)
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
	}
	if strings.Join(header, ",") != strings.Join(EmployeesHeader, ",") {
		return nil, fmt.Errorf("employees CSV line 1: header is %q, want %q", strings.Join(header, ","), strings.Join(EmployeesHeader, ","))
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
		e := Employee{ID: rec[0], Name: rec[1], Email: rec[2], Cohort: rec[3], ProviderUserID: rec[4]}
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

// ImportEmployees upserts the roster of org in one atomic insert.
// Employees already known and absent from the file are kept.
func (s *Store) ImportEmployees(ctx context.Context, org string, emps []Employee) error {
	if len(emps) == 0 {
		return nil
	}
	v := version()
	rows := make([][]any, len(emps))
	for i, e := range emps {
		rows[i] = []any{org, e.ID, e.Name, e.Email, e.Cohort, e.ProviderUserID, uint8(0), v}
	}
	if err := s.insert(ctx, queries.InsertEmployees, rows...); err != nil {
		return fmt.Errorf("importing %d employees of org %s: %w", len(emps), org, err)
	}
	return nil
}

// Employees lists the current roster of org.
func (s *Store) Employees(ctx context.Context, org string) ([]Employee, error) {
	rows, err := s.conn.Query(ctx, queries.EmployeesList, org)
	if err != nil {
		return nil, fmt.Errorf("listing employees of org %s: %w", org, err)
	}
	defer rows.Close()
	var out []Employee
	for rows.Next() {
		var e Employee
		if err := rows.Scan(&e.ID, &e.Name, &e.Email, &e.Cohort, &e.ProviderUserID); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
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
