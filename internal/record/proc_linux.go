package record

import "syscall"

// childProcAttr puts the program in its own process group, so signals from
// the terminal reach gotrace first, and ends it if gotrace dies so it is
// never left running unwatched.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
