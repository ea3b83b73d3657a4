//go:build unix

package main

import (
	"os"
	"os/exec"
	"runtime"
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

// maxRSS is the peak resident set of an exited process and the descendants
// it waited for, in bytes.
func maxRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	return rssBytes(ru.Maxrss)
}

// selfRSS is the harness's own peak resident set in bytes, 0 when not
// known.
func selfRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return rssBytes(ru.Maxrss)
}

// rssBytes converts rusage's ru_maxrss to bytes: it is in bytes on Darwin,
// in kilobytes elsewhere.
func rssBytes(maxrss int64) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return maxrss
	}
	return maxrss << 10
}
