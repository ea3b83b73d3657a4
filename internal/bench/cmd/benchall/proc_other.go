//go:build !unix

package main

import (
	"os/exec"
	"syscall"
)

func newProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}
