// Package chdb runs current ClickHouse in-process through libchdb, so tests
// can prove that every DDL statement and query the project ships also runs,
// with the same results, on the ClickHouse version production uses (the
// Debian server the pipeline tests run against is 18.16).
//
// The library is loaded at run time with dlopen rather than linked: libchdb
// is a 560 MB shared object that only a few tests need, so building the
// project, and running every other test, never needs it. Install it with
// `make chdb` (internal/localserver/chdb/install-chdb.sh) and find it with LibPath.
//
// libchdb hosts a single ClickHouse engine per process, bound to one data
// directory, and the engine is meant to boot once per process: Open allows
// one open DB at a time, and callers (tests) should open one DB and keep it
// for the whole process rather than close and reopen it repeatedly.
//
// Two things about chdb's default database differ from a server and bite
// quickly: it is an Overlay that also exposes the files of the current
// directory as tables, so an unqualified name that matches a file (for
// example `t` next to a binary called t) reads that file, and
// `CREATE TABLE IF NOT EXISTS` silently does nothing; create a database of
// your own and qualify table names with it.
package chdb
