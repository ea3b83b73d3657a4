package record

import (
	"os"
	"syscall"
	"testing"
)

func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	growPipe(w)
	const fGetPipeSize = 1032 // F_GETPIPE_SZ
	var size uintptr
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) { size, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fGetPipeSize, 0) })
	if size < 1<<20 {
		t.Errorf("pipe buffer %d bytes after growPipe, want 1 MiB", size)
	}
}
