//go:build unix && !linux

package record

import (
	"os"
	"syscall"
)

// childProcAttr puts the program in its own process group, so signals from
// the terminal reach gotrace first.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// growPipe keeps the system's pipe buffer: only Linux can change it.
func growPipe(*os.File) {}
