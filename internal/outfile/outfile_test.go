//go:build unix

package outfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// eachWay runs f with unnamed temporary files where the system has them,
// and with named ones.
func eachWay(t *testing.T, f func(t *testing.T)) {
	t.Run("unnamed", func(t *testing.T) {
		u, ok := createUnnamed(t.TempDir())
		if !ok {
			t.Skip("no unnamed files here")
		}
		u.Close()
		f(t)
	})
	t.Run("named", func(t *testing.T) {
		defer func(u func(string) (*os.File, bool)) { unnamed = u }(unnamed)
		unnamed = func(string) (*os.File, bool) { return nil, false }
		f(t)
	})
}

func TestCommitAbort(t *testing.T) { eachWay(t, testCommitAbort) }

func testCommitAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.trace")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello, world")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("the destination exists before Commit")
	}
	if err := f.Truncate(5); err != nil || f.Len() != 5 {
		t.Fatalf("Truncate: %v, Len %d", err, f.Len())
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // after Commit: nothing
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "hello" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}

	g, err := Create(filepath.Join(dir, "aborted.trace"))
	if err != nil {
		t.Fatal(err)
	}
	g.Write([]byte("x"))
	g.Abort()
	if err := Check(filepath.Join(dir, "checked.trace")); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}

	// Commit replaces what was there, and ReadBack reads what was
	// written.
	h, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h.Write([]byte("second"))
	r, err := h.ReadBack()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r); err != nil || string(b) != "second" {
		t.Fatalf("ReadBack: %q, %v", b, err)
	}
	if err := h.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "second" {
		t.Fatalf("after a second Commit: %q, %v", got, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}

// TestErrors: errors name the destination, not the temporary file.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	for path, want := range map[string]string{
		filepath.Join(dir, "missing", "x.trace"): "no such file or directory",
		dir:                                      "is a directory",
	} {
		_, err := Create(path)
		if err == nil || !strings.HasPrefix(err.Error(), "create "+path+": ") || !strings.Contains(err.Error(), want) {
			t.Errorf("Create(%s): %v, want an error naming it: %s", path, err, want)
		}
		if err := Check(path); err == nil {
			t.Errorf("Check(%s) passed", path)
		}
	}
}

// TestInPlace: a named pipe is written in place, never replaced, and
// Check does not open it.
func TestInPlace(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	if err := Check(fifo); err != nil { // would block if it opened the pipe
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	f, err := Create(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if !f.InPlace() {
		t.Fatal("a pipe is not written in place")
	}
	if _, err := f.ReadBack(); err == nil {
		t.Error("ReadBack of a pipe succeeded")
	}
	f.Write([]byte("through the pipe"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("the reader got %q", s)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v %v", fi.Mode(), err)
	}
}

// TestCheckDir: a directory files can be created in passes and is left as
// it was; one that is missing, or a file, does not.
func TestCheckDir(t *testing.T) {
	eachWay(t, func(t *testing.T) {
		dir := t.TempDir()
		if err := CheckDir(dir); err != nil {
			t.Fatal(err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("left behind: %v", ents)
		}
		file := filepath.Join(dir, "f")
		os.WriteFile(file, nil, 0o644)
		for _, bad := range []string{filepath.Join(dir, "missing"), file} {
			if err := CheckDir(bad); err == nil || !strings.Contains(err.Error(), bad) {
				t.Errorf("CheckDir(%s): %v, want an error naming it", bad, err)
			}
		}
	})
}

// TestWriteErr: a write that fails (a full disk: /dev/full) is an error
// naming the destination, and WriteErr keeps the first one.
func TestWriteErr(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip(err)
	}
	f, err := Create("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if f.WriteErr() != nil {
		t.Fatalf("WriteErr before any write: %v", f.WriteErr())
	}
	_, err = f.Write([]byte("trace"))
	if !errors.Is(err, syscall.ENOSPC) || err.Error() != "write /dev/full: no space left on device" {
		t.Fatalf("Write: %v, want ENOSPC naming /dev/full", err)
	}
	f.Write([]byte("more"))
	if f.WriteErr() == nil || f.WriteErr().Error() != err.Error() {
		t.Errorf("WriteErr %v, want the first error %v", f.WriteErr(), err)
	}
}
