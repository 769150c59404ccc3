//go:build !cgo

package chdb

import "errors"

// DefaultFormat is the output format Query uses when given none.
const DefaultFormat = "TabSeparated"

// errNoCgo explains why a CGO_ENABLED=0 build cannot load libchdb, so such
// builds (static release binaries) still compile and fail only if used.
var errNoCgo = errors.New("chdb: this binary was built with CGO_ENABLED=0; libchdb needs cgo (build with CGO_ENABLED=1 and a C compiler)")

// DB is a stand-in so packages using chdb compile without cgo.
type DB struct{}

// Open always fails without cgo.
func Open(libPath, dataDir string) (*DB, error) { return nil, errNoCgo }

// Dir is always empty without cgo.
func (db *DB) Dir() string { return "" }

// Query always fails without cgo.
func (db *DB) Query(sql, format string) ([]byte, error) { return nil, errNoCgo }

// Exec always fails without cgo.
func (db *DB) Exec(sql string) error { return errNoCgo }

// Close does nothing without cgo.
func (db *DB) Close() error { return nil }
