package record

import (
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"unsafe"
)

// terminal is the controlling terminal gotrace was started on, when the
// program's stdin is that terminal and gotrace is its foreground job.
//
// N.B. The program runs in its own process group, so that Ctrl-C reaches
// gotrace first and the trace is flushed before the program gets the
// signal. A background group that reads the terminal is stopped by it
// (SIGTTIN). When that happens gotrace does what a shell's fg does: the
// program's group gets the terminal and is continued. From then on Ctrl-C
// goes to the program directly, and the trace is complete if the program
// handles the signal or exits (as with os.Exit), but not if the signal
// kills it.
type terminal struct {
	fd  int
	own int // gotrace's process group

	mu     sync.Mutex
	handed bool // the program's group has the terminal
}

// foregroundTerminal returns in as a terminal that gotrace's process group
// holds in the foreground, or nil.
func foregroundTerminal(in io.Reader) *terminal {
	f, ok := in.(*os.File)
	if !ok {
		return nil
	}
	fd := int(f.Fd())
	var pgrp int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&pgrp))); e != 0 {
		return nil
	}
	if int(pgrp) != syscall.Getpgrp() {
		return nil
	}
	return &terminal{fd: fd, own: syscall.Getpgrp()}
}

func (t *terminal) setForeground(pgid int) error {
	p := int32(pgid)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(t.fd), syscall.TIOCSPGRP, uintptr(unsafe.Pointer(&p))); e != 0 {
		return e
	}
	return nil
}

// childStop is the part of a siginfo_t that waitid fills in for a child.
type childStop struct {
	Signo, Errno, Code, _ int32
	Pid                   int32
	UID                   uint32
	Status                int32
	_                     [100]byte
}

const (
	pPID       = 1 // waitid: wait for one process
	wStopped   = 2 // waitid: report stops
	cldStopped = 5 // si_code of a stopped child
)

// watch follows the program's stops until it is gone: a stop by the
// terminal hands it the terminal (handed is called the first time); a stop
// by Ctrl-Z while it has the terminal takes the terminal back and stops
// gotrace too, as a shell would see a job stop. N.B. Stops are reported
// apart from exits, so this does not take the exit from cmd.Wait.
func (t *terminal) watch(pid int, handed func()) {
	for {
		var info childStop
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), uintptr(unsafe.Pointer(&info)), wStopped, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return // the program is gone
		}
		if info.Code != cldStopped {
			continue
		}
		switch syscall.Signal(info.Status) {
		case syscall.SIGTTIN, syscall.SIGTTOU:
			t.mu.Lock()
			first := !t.handed
			err := t.setForeground(pid) // its group ID is its PID (Setpgid)
			t.handed = err == nil
			t.mu.Unlock()
			if err != nil {
				return
			}
			if first {
				handed()
			}
			syscall.Kill(-pid, syscall.SIGCONT)
		case syscall.SIGTSTP:
			if t.restore() {
				syscall.Kill(syscall.Getpid(), syscall.SIGSTOP)
				// Continued (fg): the program gets SIGCONT through the
				// signals gotrace relays, and the terminal back when it
				// touches it.
			}
		}
	}
}

// restore takes the terminal back for gotrace, if the program had it.
func (t *terminal) restore() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.handed {
		return false
	}
	// N.B. gotrace is a background job until this is done, and a
	// background job that changes the foreground is stopped by SIGTTOU
	// unless it ignores the signal.
	signal.Ignore(syscall.SIGTTOU)
	t.setForeground(t.own)
	signal.Reset(syscall.SIGTTOU)
	t.handed = false
	return true
}

// isHanded reports whether the program has the terminal.
func (t *terminal) isHanded() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.handed
}
