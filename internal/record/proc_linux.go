package record

import (
	"os"
	"syscall"
)

// childProcAttr puts the program in its own process group, so signals from
// the terminal reach gotrace first, and ends it if gotrace dies so it is
// never left running unwatched.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// growPipe asks for a 1 MiB pipe buffer instead of 64 KiB (the most an
// unprivileged process gets by default): the traced program then seldom
// waits on a full pipe, and gotrace wakes up to read less often, which
// keeps what recording costs the program down. Failure leaves the default.
func growPipe(f *os.File) {
	const fSetPipeSize = 1031 // F_SETPIPE_SZ
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSize, 1<<20)
		})
	}
}
