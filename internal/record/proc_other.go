//go:build unix && !linux

package record

import "syscall"

// childProcAttr puts the program in its own process group, so signals from
// the terminal reach gotrace first.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
