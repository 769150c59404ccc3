//go:build unix && !linux

package chserver

import "syscall"

// sysProcAttr puts the server in a process group of its own; detached
// servers get a session of their own. Only Linux can tie the server's life
// to ours, so elsewhere test servers rely on Stop.
func sysProcAttr(detached, dieWithParent bool) *syscall.SysProcAttr {
	if detached {
		return &syscall.SysProcAttr{Setsid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true}
}

// ProcessAlive reports whether pid is a live process.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// runsConfig cannot read another process's arguments without /proc; it
// trusts the pid and lets the /ping check decide.
func runsConfig(pid int, configPath string) bool { return ProcessAlive(pid) }
