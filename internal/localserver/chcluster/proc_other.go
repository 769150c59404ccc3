//go:build !linux

package chcluster

import "syscall"

// sysProcAttr gives a process its own group (no parent-death signal
// outside Linux).
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
