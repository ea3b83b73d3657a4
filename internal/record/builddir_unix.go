//go:build unix

package record

import (
	"io"
	"os"
	"syscall"
)

// processRuns reports whether a process with this PID exists; one that
// belongs to another user counts.
func processRuns(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// lockDir locks a directory for this process without waiting: false when
// another process holds it. The lock goes when the returned file is closed,
// or when the process ends however it ends.
func lockDir(dir string) (io.Closer, bool) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return f, true
}
