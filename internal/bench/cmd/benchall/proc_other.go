//go:build !unix

package main

import (
	"os"
	"os/exec"
	"syscall"
)

func newProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}

// maxRSS is not known here: the report shows "?".
func maxRSS(*os.ProcessState) int64 { return 0 }

func selfRSS() int64 { return 0 }
