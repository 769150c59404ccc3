//go:build !unix

package progress

import "os"

// fileWidth is unknown off unix; callers fall back to $COLUMNS or 80.
func fileWidth(*os.File) int { return 0 }
