package lock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrHeld says another process holds the lock.
var ErrHeld = errors.New("lock is held by another process")

// File is a held lock. The kernel releases it when the process exits, even
// after kill -9, so a crashed holder never leaves a stale lock behind.
type File struct {
	f    *os.File
	path string
}

// HeldError says who holds a lock, as far as its file tells.
type HeldError struct {
	// Path is the lock file.
	Path string
	// Holder is what the holder wrote: "pid N since TIME", or "" if unknown.
	Holder string
}

func (e *HeldError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("%s is locked by another process", e.Path)
	}
	return fmt.Sprintf("%s is locked by another process (%s)", e.Path, e.Holder)
}

// Unwrap makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Unwrap() error { return ErrHeld }

// Try takes the lock at path without waiting, creating the file and its
// directory when missing. It returns a *HeldError when another process
// holds it.
func Try(path string) (*File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the lock directory %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %s: %w", path, err)
	}
	if err := tryLock(f); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, ErrHeld) {
			return nil, &HeldError{Path: path, Holder: strings.TrimSpace(string(b))}
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	// Say who holds it, for the message the next process prints.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte("pid "+strconv.Itoa(os.Getpid())+" since "+time.Now().UTC().Format(time.RFC3339)+"\n"), 0)
	return &File{f: f, path: path}, nil
}

// Release frees the lock.
func (l *File) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = unlock(l.f)
	_ = l.f.Close()
	l.f = nil
}
