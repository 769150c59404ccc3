package chdb

import (
	"errors"
	"strings"
)

// ErrClosed is returned by a DB used after Close, instead of handing a
// dangling connection to libchdb (which would crash the process).
var ErrClosed = errors.New("chdb: database is closed")

// ErrAlreadyOpen is returned by Open while another DB is open: libchdb
// hosts one engine per process, so a second connection would either fail
// or silently share the first one's data directory.
var ErrAlreadyOpen = errors.New("chdb: a database is already open in this process (libchdb allows one)")

// QueryError is ClickHouse's own error text for a failed statement
// (chdb_result_error), kept apart from the query so tests can assert on
// the ClickHouse message, e.g. its "Code: 60" or "(UNKNOWN_TABLE)".
type QueryError struct {
	// Query is the statement that failed.
	Query string
	// Message is ClickHouse's error text, e.g.
	// "Code: 60. DB::Exception: Unknown table ... (UNKNOWN_TABLE)".
	Message string
}

// Error formats the ClickHouse message with the start of the query, so a
// failing test shows which of many statements failed.
func (e *QueryError) Error() string {
	return "chdb: " + strings.TrimSpace(e.Message) + " (query: " + abbreviate(e.Query, 200) + ")"
}

// abbreviate shortens s to at most n bytes on one line for error messages.
func abbreviate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
