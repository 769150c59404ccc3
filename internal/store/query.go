package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/queries"
)

// Result is the answer of a documented query: its column names and rows,
// each cell a Go value of the column's type (nil for a NULL).
type Result struct {
	Columns []string
	Rows    [][]any
}

// DirtyDays are the days of org not aggregated yet, as the review queries'
// @dirty parameter takes them ('YYYY-MM-DD,...', "" for none).
func (s *Store) DirtyDays(ctx context.Context, org string) (string, error) {
	v, err := s.dirtyDays(ctx, org)
	if err != nil {
		return "", err
	}
	return v.Value.(string), nil
}

// RunDocumented runs the documented query d for org with values for its
// other parameters (@cycle, @employee, @cohort), reading @dirty first as
// the review does, so its numbers are the review's.
func (s *Store) RunDocumented(ctx context.Context, d queries.Documented, org string, values map[string]string) (Result, error) {
	var args []any
	for _, p := range d.Params() {
		switch p {
		case "org":
			args = append(args, clickhouse.Named(p, org))
		case queries.DirtyParam:
			dirty, err := s.dirtyDays(ctx, org)
			if err != nil {
				return Result{}, err
			}
			args = append(args, dirty)
		default:
			v, ok := values[p]
			if !ok {
				return Result{}, fmt.Errorf("query %s needs --%s", d.Name, p)
			}
			args = append(args, clickhouse.Named(p, v))
		}
	}
	rows, err := s.conn.Query(ctx, d.SQL, args...)
	if err != nil {
		return Result{}, fmt.Errorf("running query %s for org %s: %w", d.Name, org, err)
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	res := Result{Columns: rows.Columns()}
	for rows.Next() {
		ptrs := make([]any, len(types))
		for i, ct := range types {
			ptrs[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return Result{}, fmt.Errorf("reading query %s for org %s: %w", d.Name, org, err)
		}
		row := make([]any, len(ptrs))
		for i, p := range ptrs {
			row[i] = deref(reflect.ValueOf(p).Elem())
		}
		res.Rows = append(res.Rows, nullUnavailable(res.Columns, row))
	}
	if err := rows.Err(); err != nil {
		return Result{}, fmt.Errorf("reading query %s for org %s: %w", d.Name, org, err)
	}
	return res, nil
}

// nullUnavailable sets to nil each review number of row whose
// availability column (model.Metric.Available) says it does not exist, so
// a RingCentral escalated_calls reads as n/a, never as a real 0.
func nullUnavailable(cols []string, row []any) []any {
	for _, mt := range model.ReviewMetrics {
		if mt.Available == "" {
			continue
		}
		vi, ai := slices.Index(cols, mt.Name), slices.Index(cols, mt.Available)
		if vi < 0 || ai < 0 {
			continue
		}
		if fmt.Sprint(row[ai]) == "0" || row[ai] == false {
			row[vi] = nil
		}
	}
	return row
}

// deref is v's value, with a Nullable column's pointer followed (nil for
// NULL).
func deref(v reflect.Value) any {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		return v.Elem().Interface()
	}
	return v.Interface()
}
