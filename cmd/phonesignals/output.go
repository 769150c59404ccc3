package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/review"
)

// The output formats of the commands that print data: text for people,
// json and csv for scripts. Every command names its fields the same way in
// all three (snake_case; upper-cased as text headers).
const (
	formatText = "text"
	formatJSON = "json"
	formatCSV  = "csv"
)

// allFormats is what most data commands print.
var allFormats = []string{formatText, formatJSON, formatCSV}

// formatFlag is the one --format (-o) flag of the commands that print
// data: def is its default and formats what the command prints. A value
// outside formats is refused before anything is read, naming the flag and
// the valid values.
func formatFlag(def string, formats ...string) *cli.StringFlag {
	return &cli.StringFlag{
		Name: "format", Aliases: []string{"o"}, Value: def,
		Usage: "output `FORMAT`: " + orList(formats),
		Action: func(_ *cli.Context, v string) error {
			return checkFormat(v, formats)
		},
	}
}

// checkFormat refuses a --format value that is not one of formats.
func checkFormat(v string, formats []string) error {
	if slices.Contains(formats, v) {
		return nil
	}
	return exitErr(exitUsage, "--format %q: want %s", v, orList(formats))
}

// orList is "a, b or c".
func orList(vs []string) string {
	if len(vs) < 2 {
		return strings.Join(vs, "")
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}

// column is one field of a table: key is its JSON name and CSV header;
// head, when set, replaces the upper-cased key as the text header (to keep
// a header people already read).
type column struct{ key, head string }

// shown is a cell whose text differs from its JSON and CSV value (a
// "connected" for true, a "no" for a time never reached).
type shown struct {
	value any
	text  string
}

// table is the printed data of a list command: one row per item, the
// cells in column order. Cells are strings, numbers, bools, time.Time
// (RFC 3339 UTC; zero is JSON null and empty in text and CSV) or shown.
type table struct {
	columns []column
	rows    [][]any
}

// cols builds columns from keys.
func cols(keys ...string) []column {
	cs := make([]column, len(keys))
	for i, k := range keys {
		cs[i] = column{key: k}
	}
	return cs
}

// add appends a row.
func (t *table) add(cells ...any) { t.rows = append(t.rows, cells) }

// write prints t in format: a text table with a header, a JSON array of
// objects or CSV with a header row.
func (t *table) write(w io.Writer, format string) error {
	switch format {
	case formatJSON:
		return t.writeJSON(w)
	case formatCSV:
		return t.writeCSV(w)
	default:
		return t.writeText(w)
	}
}

func (t *table) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	heads := make([]string, len(t.columns))
	for i, c := range t.columns {
		heads[i] = heading(c)
	}
	fmt.Fprintln(tw, strings.Join(heads, "\t"))
	for _, r := range t.rows {
		cells := make([]string, len(r))
		for i, v := range r {
			// Tabs and newlines would break the table; escaping keeps
			// each row on one line.
			cells[i] = review.EscapeText(strings.ReplaceAll(textCell(v), "\t", " "))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func heading(c column) string {
	if c.head != "" {
		return c.head
	}
	return strings.ToUpper(c.key)
}

func (t *table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	heads := make([]string, len(t.columns))
	for i, c := range t.columns {
		heads[i] = c.key
	}
	_ = cw.Write(heads)
	for _, r := range t.rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = csvCell(v)
		}
		_ = cw.Write(cells)
	}
	cw.Flush()
	return cw.Error()
}

func (t *table) writeJSON(w io.Writer) error {
	objs, err := t.objects()
	if err != nil {
		return err
	}
	return writeJSON(w, objs)
}

// objects are the rows as JSON objects, for a command whose JSON nests
// the list in an object of its own (doctor, sync status).
func (t *table) objects() ([]json.RawMessage, error) {
	objs := make([]json.RawMessage, len(t.rows))
	for i, r := range t.rows {
		o, err := t.object(r)
		if err != nil {
			return nil, err
		}
		objs[i] = o
	}
	return objs, nil
}

// object is row r as a JSON object with the keys in column order.
func (t *table) object(r []any) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range t.columns {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c.key)
		v, err := json.Marshal(jsonCell(r[i]))
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", c.key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeJSON prints v indented, as review's JSON is.
func writeJSON(w io.Writer, v any) error {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}

func textCell(v any) string {
	if s, ok := v.(shown); ok {
		return s.text
	}
	return csvCell(v)
}

func csvCell(v any) string {
	switch x := v.(type) {
	case shown:
		return csvCell(x.value)
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	case bool:
		return strconv.FormatBool(x)
	default:
		return fmt.Sprint(x)
	}
}

func jsonCell(v any) any {
	switch x := v.(type) {
	case shown:
		return jsonCell(x.value)
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return x.UTC().Format(time.RFC3339)
	default:
		return x
	}
}
