//go:build !unix

package lock

import "os"

// Without flock the lock is advisory only: it never reports a holder.
func tryLock(*os.File) error { return nil }

func unlock(*os.File) error { return nil }
