//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// newProcAttr puts the child in its own process group, so a timeout kills
// whatever it started too.
func newProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
