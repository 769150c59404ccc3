//go:build unix

package lock

import (
	"errors"
	"os"
	"syscall"
)

// flock locks belong to the open file description, so two opens of one
// file conflict even inside one process; the kernel drops them on exit.
func tryLock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrHeld
	}
	return err
}

func unlock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
