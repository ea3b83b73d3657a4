package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestRecordTerminalInput records a program that reads its terminal: gotrace
// runs it in its own process group, so the terminal stops it, and gotrace
// hands it the terminal as a shell would. gotrace runs on a pseudo-terminal
// of its own, as its session's controlling terminal.
func TestRecordTerminalInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program on a pseudo-terminal")
	}
	gotrace, err := exec.LookPath("gotrace") // testscript.Main put it on PATH
	if err != nil {
		t.Skip(err)
	}
	master, slave := openPTY(t)
	defer master.Close()

	dir := t.TempDir()
	for name, text := range map[string]string{
		"go.mod": "module example.com/ask\n\ngo 1.23\n",
		"main.go": `package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	fmt.Print("name? ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Printf("hello, %q %v\n", line, err)
}
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(gotrace, "record", "-o", "ask.trace", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var out lockedBuffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "name? ") {
		select {
		case err := <-waited:
			t.Fatalf("gotrace ended before the prompt: %v\n%s", err, out.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("no prompt:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := master.Write([]byte("bob\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("gotrace: %v", err)
		}
	case <-deadline:
		cmd.Process.Kill()
		t.Fatalf("the program never got its input:\n%s", out.String())
	}
	master.Close()
	<-read
	got := out.String()
	for _, want := range []string{"the program reads the terminal", `hello, "bob\n" <nil>`, "gotrace: wrote ask.trace: "} {
		if !strings.Contains(got, want) {
			t.Errorf("output does not contain %q:\n%s", want, got)
		}
	}
}

// openPTY opens a pseudo-terminal pair without a library: /dev/ptmx, then
// unlock it and open the slave it names.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skip(err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skip(e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skip(e)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skip(err)
	}
	return m, s
}

// TestRecordIgnoresResize: a terminal resized while the program builds
// (SIGWINCH, which gotrace relays to the program later) does not cancel
// the recording.
func TestRecordIgnoresResize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	var out, errOut lockedBuffer
	opts := &recordOptions{
		IO:       &Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Packages: []string{"../../testdata/progs/exits"},
		Args:     []string{"return"},
		Output:   filepath.Join(t.TempDir(), "exits.trace"),
	}
	done := make(chan error, 1)
	go func() { done <- runRecord(opts) }()
	for range 5 {
		time.Sleep(20 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	}
	if err := <-done; err != nil {
		t.Fatalf("runRecord: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "returning from main") || !strings.Contains(errOut.String(), "gotrace: wrote ") {
		t.Errorf("the recording did not go through:\nstdout %q\nstderr %q", out.String(), errOut.String())
	}
}
