package outfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Lock is a claim on a destination: while one process holds it, another
// that asks for the same destination is told so and by whom, instead of
// both writing it and one of them silently losing.
//
// The claim is a lock on a hidden file beside the destination,
// .NAME.lock, which holds the owner's process ID and is removed on
// Unlock. The lock goes with the process, so a process killed outright
// leaves at most an unlocked file that the next claim takes over.
type Lock struct {
	f    *os.File
	name string
}

// BusyError says another process holds the destination.
type BusyError struct {
	Path string
	PID  int // 0 when it cannot be told
}

func (e *BusyError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who += " (pid " + strconv.Itoa(e.PID) + ")"
	}
	return e.Path + " is being written by " + who
}

// lockName is the lock file of the destination path.
func lockName(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".lock")
}

// Claim takes the lock on path, or returns a *BusyError when another
// process holds it. A device or a pipe is not claimed: writing one from
// two processes at once is the user's to decide, and its directory
// (/dev) is not ours to write.
func Claim(path string) (*Lock, error) {
	if Special(path) {
		return &Lock{}, nil
	}
	name := lockName(path)
	for {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, &os.PathError{Op: "lock", Path: path, Err: unwrapPath(err)}
		}
		got, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, &os.PathError{Op: "lock", Path: path, Err: err}
		}
		if !got {
			pid := readPID(f)
			f.Close()
			return nil, &BusyError{Path: path, PID: pid}
		}
		// N.B. The holder before removed the file it had locked: a lock
		// on that file, no longer under the name, claims nothing. Lock
		// the one the name holds now.
		if !sameFile(f, name) {
			f.Close()
			continue
		}
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		return &Lock{f: f, name: name}, nil
	}
}

// Unlock gives the destination up. N.B. The file is removed while still
// locked, so no other process can have locked it under its name between
// the two steps.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.name)
	l.f.Close()
	l.f = nil
}

func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil {
		return 0
	}
	return pid
}

func sameFile(f *os.File, name string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(name)
	return err == nil && os.SameFile(a, b)
}
