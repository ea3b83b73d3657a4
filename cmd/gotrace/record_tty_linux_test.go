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
	dir := writeProgram(t, "ask", `package main

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
`)
	g := startOnPTY(t, dir, "record", "-o", "ask.trace", ".")
	defer g.master.Close()

	deadline := time.After(2 * time.Minute)
	for !strings.Contains(g.out.String(), "name? ") {
		select {
		case err := <-g.waited:
			t.Fatalf("gotrace ended before the prompt: %v\n%s", err, g.out.String())
		case <-deadline:
			g.cmd.Process.Kill()
			t.Fatalf("no prompt:\n%s", g.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if _, err := g.master.Write([]byte("bob\n")); err != nil {
		t.Fatal(err)
	}
	got := g.finish(t, deadline)
	for _, want := range []string{"the program reads the terminal", `hello, "bob\n" <nil>`, "gotrace: wrote ask.trace: "} {
		if !strings.Contains(got, want) {
			t.Errorf("output does not contain %q:\n%s", want, got)
		}
	}
}

// TestRecordOutputUnderProgress: a program that writes to the terminal
// the live line is drawn on gets its lines to themselves: the line is
// cleared before each and drawn again after, and the program still sees a
// terminal.
func TestRecordOutputUnderProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program on a pseudo-terminal")
	}
	dir := writeProgram(t, "talk", `package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	time.Sleep(700 * time.Millisecond)
	fi, _ := os.Stdout.Stat()
	fmt.Printf("stdout line 1, a terminal: %v\n", fi.Mode()&os.ModeCharDevice != 0)
	fmt.Fprintln(os.Stderr, "stderr line 2")
	time.Sleep(700 * time.Millisecond)
	fmt.Println("stdout line 3")
}
`)
	g := startOnPTY(t, dir, "record", "-o", "talk.trace", ".")
	defer g.master.Close()
	got := g.finish(t, time.After(2*time.Minute))
	if !strings.Contains(got, "\r\x1b[Krecording talk: ") {
		t.Fatalf("no live line drawn:\n%q", got)
	}
	for _, line := range []string{"stdout line 1, a terminal: true", "stderr line 2", "stdout line 3", "gotrace: wrote talk.trace: "} {
		i := strings.Index(got, line)
		if i < 0 {
			t.Errorf("output does not contain %q:\n%q", line, got)
			continue
		}
		// N.B. What comes before a line on the screen is what follows the
		// last line break or line clearing.
		if before := got[:i]; !strings.HasSuffix(before, "\n") && !strings.HasSuffix(before, "\r\x1b[K") {
			t.Errorf("%q is written after %q on the same line:\n%q", line, before[max(0, len(before)-40):], got)
		}
	}
	if _, after, _ := strings.Cut(got, "stderr line 2"); !strings.Contains(after, "\r\x1b[Krecording talk: ") {
		t.Errorf("the live line is not drawn again after the program's output:\n%q", got)
	}
}

// writeProgram writes a module with one main package of source, named
// name, and returns its directory.
func writeProgram(t *testing.T, name, source string) string {
	t.Helper()
	dir := t.TempDir()
	for file, text := range map[string]string{
		"go.mod":  "module example.com/" + name + "\n\ngo 1.23\n",
		"main.go": source,
	} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// onPTY is gotrace running on a pseudo-terminal of its own, as its
// session's controlling terminal; out collects what it shows.
type onPTY struct {
	cmd    *exec.Cmd
	master *os.File
	out    *lockedBuffer
	read   chan struct{}
	waited chan error
}

func startOnPTY(t *testing.T, dir string, args ...string) *onPTY {
	t.Helper()
	gotrace, err := exec.LookPath("gotrace") // testscript.Main put it on PATH
	if err != nil {
		t.Skip(err)
	}
	master, slave := openPTY(t)
	cmd := exec.Command(gotrace, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	g := &onPTY{cmd: cmd, master: master, out: new(lockedBuffer), read: make(chan struct{}), waited: make(chan error, 1)}
	go func() {
		defer close(g.read)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			g.out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	go func() { g.waited <- cmd.Wait() }()
	return g
}

// finish waits for gotrace to succeed and returns all it showed.
func (g *onPTY) finish(t *testing.T, deadline <-chan time.Time) string {
	t.Helper()
	select {
	case err := <-g.waited:
		if err != nil {
			t.Errorf("gotrace: %v", err)
		}
	case <-deadline:
		g.cmd.Process.Kill()
		t.Fatalf("gotrace did not end:\n%s", g.out.String())
	}
	g.master.Close()
	<-g.read
	return g.out.String()
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
