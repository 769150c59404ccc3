package cherr

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// PermanentError marks a ClickHouse failure that retrying cannot fix: the
// table's schema no longer matches the rows (a column dropped, renamed or
// retyped), the user lacks a grant, the statement is rejected. The
// pipeline stops on it, naming the cause, instead of retrying forever as it
// would through an outage.
type PermanentError struct {
	// Err is the failure as the driver or server reported it.
	Err error
}

func (e *PermanentError) Error() string {
	return "permanent clickhouse error (retrying will not help; fix the cause and restart): " + e.Err.Error()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a ClickHouse failure that retrying
// cannot fix. Connection failures, timeouts and server overload are
// transient: the caller waits them out.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return true
	}
	var ex *proto.Exception
	if errors.As(err, &ex) {
		return !transientCodes[ex.Code] && !diskFull(ex)
	}
	return false
}

// Classify wraps err in a PermanentError when retrying cannot fix it, and
// returns it unchanged otherwise.
func Classify(err error) error {
	if err == nil || !IsPermanent(err) {
		return err
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return err
	}
	return &PermanentError{Err: err}
}

// IsTransient reports whether err looks like an outage: the connection
// failed, timed out or was refused, or the server was overloaded.
func IsTransient(err error) bool {
	if err == nil || IsPermanent(err) {
		return false
	}
	var ne net.Error
	var ex *proto.Exception
	switch {
	case errors.As(err, &ex):
		return transientCodes[ex.Code] || diskFull(ex)
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, clickhouse.ErrAcquireConnTimeout), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}

// transientCodes are the server exception codes of an overloaded,
// restarting or briefly unreachable server; every other exception is a
// property of the statement or schema and is permanent.
var transientCodes = map[int32]bool{
	3:   true, // UNEXPECTED_END_OF_FILE
	159: true, // TIMEOUT_EXCEEDED
	164: true, // READONLY (a replica catching up)
	202: true, // TOO_MANY_SIMULTANEOUS_QUERIES
	203: true, // NO_FREE_CONNECTION
	209: true, // SOCKET_TIMEOUT
	210: true, // NETWORK_ERROR
	236: true, // ABORTED
	241: true, // MEMORY_LIMIT_EXCEEDED
	242: true, // TABLE_IS_READ_ONLY
	252: true, // TOO_MANY_PARTS
	285: true, // TOO_FEW_LIVE_REPLICAS
	286: true, // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE (another quorum insert in flight, before insert_quorum_parallel)
	319: true, // UNKNOWN_STATUS_OF_INSERT
	394: true, // QUERY_WAS_CANCELLED
	425: true, // SYSTEM_ERROR
	999: true, // KEEPER_EXCEPTION
}

// notEnoughSpace is ClickHouse's NOT_ENOUGH_SPACE: a part, merge or
// insert could not reserve disk space.
const notEnoughSpace = 243

// DiskFull reports whether err is ClickHouse out of disk space: the
// exception NOT_ENOUGH_SPACE (243: "Cannot reserve 1.00 MiB, not enough
// space", "Not enough free disk space to reserve", "Could not perform
// insert: less than N free bytes left") or any exception the kernel's
// ENOSPC caused ("Cannot write to file PATH, errno: 28, strerror: No space
// left on device"). It is an outage, not a bug: the server takes inserts
// again once space is freed, so the caller waits, as for an unreachable
// server. where is the disk, file or path the message names, empty when
// it names none.
func DiskFull(err error) (where string, ok bool) {
	var ex *proto.Exception
	if err == nil || !errors.As(err, &ex) || !diskFull(ex) {
		return "", false
	}
	for _, e := range append([]proto.Exception{*ex}, ex.Nested...) {
		if m := diskPlace.FindStringSubmatch(e.Message); m != nil {
			return strings.TrimRight(cmp.Or(m[1:]...), ".,:;)'\""), true
		}
	}
	return "", true
}

// diskFull reports whether ex, or an exception nested in it (the cause
// the server wrapped), is a full disk.
func diskFull(ex *proto.Exception) bool {
	for _, e := range append([]proto.Exception{*ex}, ex.Nested...) {
		if e.Code == notEnoughSpace {
			return true
		}
		m := strings.ToLower(e.Message)
		if strings.Contains(m, "no space left on device") || strings.Contains(m, "errno: 28,") ||
			(strings.Contains(m, "not enough") && strings.Contains(m, "space") && strings.Contains(m, "reserve")) {
			return true
		}
	}
	return false
}

// diskPlace finds the disk or path in a full disk's message: "disk
// 'NAME'", "in the disk space (PATH)", "file PATH", or else the first
// absolute path.
var diskPlace = regexp.MustCompile(`disk '([^']+)'|disk space \(([^)]+)\)|file (/\S+)|(/[\w.\-]+(?:/[\w.\-]+)+/?)`)

// Permanentf is a PermanentError with a message of ours.
func Permanentf(format string, args ...any) error {
	return &PermanentError{Err: fmt.Errorf(format, args...)}
}
