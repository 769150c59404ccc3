package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvLibPath names the environment variable that overrides where LibPath
// looks for libchdb.so, for machines that keep the library elsewhere (a
// shared cache, a build for another platform).
const EnvLibPath = "PHONESIGNALS_LIBCHDB"

// RepoLibPath is where internal/localserver/chdb/install-chdb.sh installs libchdb.so,
// relative to the repository root. It lives under the git-ignored
// .phonesignals directory so the 560 MB library never gets committed.
const RepoLibPath = ".phonesignals/tools/chdb/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so"

// InstallHint is the fix LibPath's errors name, so a developer or CI log
// says how to get the library instead of only that it is missing.
const InstallHint = "run `make chdb` (or internal/localserver/chdb/install-chdb.sh) to install it, or set " + EnvLibPath + " to the path of a libchdb.so"

// ErrLibraryNotFound is wrapped by LibPath's error when no libchdb.so is
// installed, so callers can tell "not installed" from other failures.
var ErrLibraryNotFound = errors.New("libchdb.so not found")

// LibPath returns the path of libchdb.so: the file named by
// PHONESIGNALS_LIBCHDB if that is set, otherwise the copy that
// internal/localserver/chdb/install-chdb.sh installs under the repository root (found by
// walking up from the working directory to go.mod), so tests find it from
// any package directory.
func LibPath() (string, error) {
	if p := os.Getenv(EnvLibPath); p != "" {
		if err := checkFile(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w: %w; %s", EnvLibPath, p, ErrLibraryNotFound, err, InstallHint)
		}
		return p, nil
	}
	cwd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding libchdb.so: working directory: %w", err)
	}
	root, err := repoRoot(cwd)
	if err != nil {
		return "", fmt.Errorf("finding libchdb.so: %w: %w; %s", ErrLibraryNotFound, err, InstallHint)
	}
	p := filepath.Join(root, filepath.FromSlash(RepoLibPath))
	if err := checkFile(p); err != nil {
		return "", fmt.Errorf("%w at %s: %s", ErrLibraryNotFound, p, InstallHint)
	}
	return p, nil
}

// checkFile reports whether p is a regular, non-empty file: an interrupted
// npm install can leave an empty or partial file behind.
func checkFile(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return fmt.Errorf("%s is not a non-empty regular file", p)
	}
	return nil
}

// repoRoot walks up from dir to the first directory holding go.mod.
func repoRoot(dir string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod in %s or any parent directory", dir)
		}
		d = parent
	}
}
