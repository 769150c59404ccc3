//go:build linux

package chcluster

import "syscall"

// sysProcAttr gives a process its own group and kills it with the test
// binary, so a failed test leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
