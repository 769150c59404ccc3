//go:build cgo

package chdb

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

// The libchdb C API (chdb.h of chdb 26.x), declared here instead of
// included so building needs no header: handles are opaque pointers.
//   chdb_connection * chdb_connect(int argc, char ** argv);
//   chdb_result *     chdb_query(chdb_connection conn, const char * query, const char * format);
//   char *            chdb_result_buffer(chdb_result *);
//   size_t            chdb_result_length(chdb_result *);
//   const char *      chdb_result_error(chdb_result *);   // NULL when the query succeeded
//   void              chdb_destroy_query_result(chdb_result *);
//   void              chdb_close_conn(chdb_connection * conn);
//   void              chdb_set_signal_handlers_enabled(int enabled);  // since 26.3
typedef void *ps_conn;
typedef void ps_result;

static ps_conn *(*ps_connect_p)(int, char **);
static ps_result *(*ps_query_p)(ps_conn, const char *, const char *);
static char *(*ps_buffer_p)(ps_result *);
static size_t (*ps_length_p)(ps_result *);
static const char *(*ps_error_p)(ps_result *);
static void (*ps_destroy_p)(ps_result *);
static void (*ps_close_p)(ps_conn *);
static void (*ps_sigenable_p)(int);

// The signals whose handlers the Go runtime relies on (SIGSEGV for nil
// checks, SIGURG for preemption, ...) and that libchdb overwrites or resets
// to SIG_DFL (its chdb_reset_signal_handlers list, plus SIGURG).
static const int ps_sigs[] = {SIGABRT, SIGSEGV, SIGILL, SIGBUS, SIGSYS, SIGFPE, SIGTSTP, SIGTRAP, SIGURG};
#define PS_NSIGS (sizeof ps_sigs / sizeof ps_sigs[0])
typedef struct { struct sigaction sa[PS_NSIGS]; } ps_sigsave;

static void ps_sig_save(ps_sigsave *s) {
	for (size_t i = 0; i < PS_NSIGS; i++) sigaction(ps_sigs[i], NULL, &s->sa[i]);
}
static void ps_sig_restore(const ps_sigsave *s) {
	for (size_t i = 0; i < PS_NSIGS; i++) sigaction(ps_sigs[i], &s->sa[i], NULL);
}

static void *ps_sym(void *h, const char *name, char **err) {
	void *p = dlsym(h, name);
	if (p == NULL && *err == NULL) {
		const char *e = dlerror();
		*err = strdup(e ? e : name);
	}
	return p;
}

// ps_load dlopens the library and resolves the API. It returns NULL on
// success or a malloc'd message (dlerror's text is only valid until the
// next dl call on this thread, so it is copied here, not in Go).
static char *ps_load(const char *path) {
	ps_sigsave saved;
	ps_sig_save(&saved);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		ps_sig_restore(&saved);
		return strdup(e ? e : "dlopen failed");
	}
	char *err = NULL;
	ps_connect_p = ps_sym(h, "chdb_connect", &err);
	ps_query_p = ps_sym(h, "chdb_query", &err);
	ps_buffer_p = ps_sym(h, "chdb_result_buffer", &err);
	ps_length_p = ps_sym(h, "chdb_result_length", &err);
	ps_error_p = ps_sym(h, "chdb_result_error", &err);
	ps_destroy_p = ps_sym(h, "chdb_destroy_query_result", &err);
	ps_close_p = ps_sym(h, "chdb_close_conn", &err);
	ps_sigenable_p = dlsym(h, "chdb_set_signal_handlers_enabled"); // optional: older libraries lack it
	if (err != NULL) {
		ps_sig_restore(&saved);
		return err;
	}
	// Keep libchdb from installing its crash handlers over the Go runtime's
	// (they would turn a Go nil dereference into a five minute sleep). The
	// call also resets the handlers to SIG_DFL, hence the restore.
	if (ps_sigenable_p != NULL) ps_sigenable_p(0);
	ps_sig_restore(&saved);
	return NULL;
}

static ps_conn *ps_connect(int argc, char **argv) {
	ps_sigsave saved;
	ps_sig_save(&saved);
	ps_conn *c = ps_connect_p(argc, argv);
	ps_sig_restore(&saved);
	return c;
}

// ps_query runs one statement; chdb_query takes the connection handle
// itself, not the pointer chdb_connect returned.
static ps_result *ps_query(ps_conn *c, const char *q, const char *f) {
	ps_sigsave saved;
	ps_sig_save(&saved);
	ps_result *r = ps_query_p(*c, q, f);
	ps_sig_restore(&saved);
	return r;
}

static char *ps_buffer(ps_result *r) { return ps_buffer_p(r); }
static size_t ps_length(ps_result *r) { return ps_length_p(r); }
static const char *ps_error(ps_result *r) { return ps_error_p(r); }
static void ps_destroy(ps_result *r) { ps_destroy_p(r); }

static void ps_close(ps_conn *c) {
	ps_sigsave saved;
	ps_sig_save(&saved);
	ps_close_p(c);
	ps_sig_restore(&saved);
}

static char **ps_argv(int n) { return calloc((size_t)n, sizeof(char *)); }
static void ps_argv_set(char **argv, int i, char *s) { argv[i] = s; }
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"
)

// DefaultFormat is the output format Query uses when given none: plain
// tab-separated values, easy to compare in tests.
const DefaultFormat = "TabSeparated"

var (
	// mu serializes Open and Close and guards the library state below:
	// libchdb has one engine per process, so only one DB may be open.
	mu sync.Mutex
	// loaded is the path dlopen succeeded on; a loaded library is never
	// unloaded (libchdb's threads and static state would dangle).
	loaded string
	// current is the open DB, nil when none is.
	current *DB
)

// DB is the process's one connection to the in-process ClickHouse engine.
// It is safe for concurrent use; statements run one at a time, because a
// chdb connection runs one statement at a time anyway.
type DB struct {
	mu   sync.Mutex
	conn *C.ps_conn // nil once closed
	dir  string
}

// Open loads libchdb from libPath (empty: LibPath()) and connects to an
// engine whose databases live in dataDir (created if missing; empty: in
// memory, gone on Close). Data in dataDir persists across Close and a
// later Open of the same directory, like a server's data path.
//
// Only one DB may be open per process (ErrAlreadyOpen), and libchdb is
// meant to boot its engine once per process: open one DB and share it
// rather than opening and closing one per test.
func Open(libPath, dataDir string) (*DB, error) {
	if libPath == "" {
		p, err := LibPath()
		if err != nil {
			return nil, fmt.Errorf("opening chdb: %w", err)
		}
		libPath = p
	}
	mu.Lock()
	defer mu.Unlock()
	if current != nil {
		return nil, fmt.Errorf("opening chdb in %q: %w (open in %q)", dataDir, ErrAlreadyOpen, current.dir)
	}
	if err := load(libPath); err != nil {
		return nil, err
	}
	args := []string{"clickhouse"}
	if dataDir != "" {
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			return nil, fmt.Errorf("opening chdb in %s: %w", dataDir, err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, fmt.Errorf("opening chdb in %s: %w", abs, err)
		}
		dataDir = abs
		args = append(args, "--path="+abs)
	}
	argv := C.ps_argv(C.int(len(args)))
	defer C.free(unsafe.Pointer(argv))
	for i, a := range args {
		cs := C.CString(a)
		defer C.free(unsafe.Pointer(cs))
		C.ps_argv_set(argv, C.int(i), cs)
	}
	conn := C.ps_connect(C.int(len(args)), argv)
	if conn == nil || *conn == nil {
		return nil, fmt.Errorf("opening chdb in %q: chdb_connect failed (libchdb logs the reason to stderr; is the directory used by another process?)", dataDir)
	}
	db := &DB{conn: conn, dir: dataDir}
	current = db
	return db, nil
}

// load dlopens libPath once per process; mu must be held.
func load(libPath string) error {
	if loaded != "" {
		if loaded != libPath {
			return fmt.Errorf("loading %s: libchdb is already loaded from %s, and a process can hold only one", libPath, loaded)
		}
		return nil
	}
	cpath := C.CString(libPath)
	defer C.free(unsafe.Pointer(cpath))
	if msg := C.ps_load(cpath); msg != nil {
		defer C.free(unsafe.Pointer(msg))
		return fmt.Errorf("loading libchdb from %s: %s; %s", libPath, C.GoString(msg), InstallHint)
	}
	loaded = libPath
	return nil
}

// Dir is the data directory the DB was opened on ("" for in memory).
func (db *DB) Dir() string { return db.dir }

// Query runs one statement and returns its output in format (a ClickHouse
// output format name such as "TSV", "CSV" or "JSONEachRow"; empty means
// DefaultFormat). A FORMAT clause in the statement takes precedence. A
// statement ClickHouse rejects returns a *QueryError.
func (db *DB) Query(sql, format string) ([]byte, error) {
	if format == "" {
		format = DefaultFormat
	}
	if strings.IndexByte(sql, 0) >= 0 || strings.IndexByte(format, 0) >= 0 {
		return nil, fmt.Errorf("chdb query %q: contains a NUL byte", abbreviate(sql, 200))
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return nil, fmt.Errorf("chdb query %q: %w", abbreviate(sql, 200), ErrClosed)
	}
	csql := C.CString(sql)
	defer C.free(unsafe.Pointer(csql))
	cformat := C.CString(format)
	defer C.free(unsafe.Pointer(cformat))

	res := C.ps_query(db.conn, csql, cformat)
	if res == nil {
		return nil, fmt.Errorf("chdb query %q: chdb_query returned no result", abbreviate(sql, 200))
	}
	defer C.ps_destroy(res)
	if e := C.ps_error(res); e != nil {
		if msg := C.GoString(e); msg != "" {
			return nil, &QueryError{Query: sql, Message: msg}
		}
	}
	buf, n := C.ps_buffer(res), C.ps_length(res)
	if buf == nil || n == 0 {
		return []byte{}, nil
	}
	return C.GoBytes(unsafe.Pointer(buf), C.int(n)), nil
}

// Exec runs a statement whose output is not needed (DDL, INSERT). On chdb
// `INSERT INTO t VALUES (...)` is fine, unlike through clickhouse-go on
// 18.16.
func (db *DB) Exec(sql string) error {
	_, err := db.Query(sql, DefaultFormat)
	return err
}

// Close disconnects and shuts the engine down, flushing data to the data
// directory; afterwards another DB may be opened. Closing twice is a no-op.
func (db *DB) Close() error {
	mu.Lock()
	defer mu.Unlock()
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.conn == nil {
		return nil
	}
	C.ps_close(db.conn)
	db.conn = nil
	if current == db {
		current = nil
	}
	return nil
}
