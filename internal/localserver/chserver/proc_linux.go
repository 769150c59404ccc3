package chserver

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
)

// sysProcAttr puts the server in a process group of its own, so signals
// reach it and nothing else; detached servers get a session of their own
// too, so the terminal's Ctrl-C and hangup never reach them.
func sysProcAttr(detached, dieWithParent bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if detached {
		a.Setsid = true
	} else {
		a.Setpgid = true
	}
	if dieWithParent {
		a.Pdeathsig = syscall.SIGTERM
	}
	return a
}

// ProcessAlive reports whether pid is a live process (a zombie is not).
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !os.IsNotExist(err)
	}
	// Format: pid (comm) state ...; comm may contain spaces and parens.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// runsConfig reports whether pid is a clickhouse-server started with
// configPath, so a recycled pid in a stale server.json is never taken for
// (or killed as) our server.
func runsConfig(pid int, configPath string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	for _, arg := range bytes.Split(cmdline, []byte{0}) {
		if string(arg) == "--config-file="+configPath {
			return true
		}
	}
	return false
}
