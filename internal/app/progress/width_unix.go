//go:build unix

package progress

import (
	"os"

	"golang.org/x/sys/unix"
)

// fileWidth asks the terminal behind f for its width; 0 if f is no terminal.
func fileWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
