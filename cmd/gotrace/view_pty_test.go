//go:build linux || darwin

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
)

// onTTY is gotrace view running on a pseudo-terminal.
type onTTY struct {
	cmd    *exec.Cmd
	tty    *os.File
	out    *lockedBuffer // all that was written
	read   chan struct{}
	waited chan error

	mu   sync.Mutex
	term *vt.Emulator // the screen it drew
}

// shown is the text on the screen.
func (v *onTTY) shown() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.term.String()
}

// startView runs gotrace view with args on a pseudo-terminal of w x h
// that answers no question: Bubble Tea asks which modes the terminal
// has (synchronized output, keyboard enhancements) and must not wait for
// the answer.
func startView(tb testing.TB, env []string, w, h int, args ...string) *onTTY {
	tb.Helper()
	gotrace, err := exec.LookPath("gotrace") // testscript.Main put it on PATH
	if err != nil {
		tb.Skip(err)
	}
	cmd := exec.Command(gotrace, append([]string{"view"}, args...)...)
	// N.B. A terminal program under CI=… is told by termenv that it
	// has no terminal, and draws without colour: gotrace view runs as
	// it does for a person here.
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "CI=") }), env...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(w), Rows: uint16(h)})
	if err != nil {
		tb.Skip(err)
	}
	v := &onTTY{cmd: cmd, tty: tty, out: new(lockedBuffer), read: make(chan struct{}), waited: make(chan error, 1), term: vt.NewEmulator(w, h)}
	// N.B. The screen is drawn as a terminal draws it: Bubble Tea writes
	// only the cells that changed, so a word on the screen need not be
	// one run of what was written. The emulator's answers to questions
	// are dropped.
	go io.Copy(io.Discard, v.term)
	go func() {
		defer close(v.read)
		// N.B. Closing the answers' pipe ends the copy; Emulator.Close
		// would race with its Read.
		defer v.term.InputPipe().(io.Closer).Close()
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			v.out.Write(buf[:n])
			v.mu.Lock()
			v.term.Write(buf[:n])
			v.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { v.waited <- cmd.Wait() }()
	return v
}

// screen waits until the screen shows every one of want.
func (v *onTTY) screen(deadline <-chan time.Time, want ...string) error {
	for {
		text := v.shown()
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return nil
		}
		select {
		case err := <-v.waited:
			return fmt.Errorf("gotrace ended (%v) before showing %q:\n%s", err, missing, text)
		case <-deadline:
			v.cmd.Process.Kill()
			return fmt.Errorf("%q not shown:\n%s", missing, text)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// raw waits until gotrace has written want to the terminal.
func (v *onTTY) raw(deadline <-chan time.Time, want string) error {
	for !strings.Contains(v.out.String(), want) {
		select {
		case <-deadline:
			return fmt.Errorf("%q not written:\n%q", want, v.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// quit presses key and waits for gotrace to end.
func (v *onTTY) quit(deadline <-chan time.Time, key string) error {
	v.tty.Write([]byte(key))
	select {
	case err := <-v.waited:
		// N.B. The terminal's last bytes (those that restore it) may
		// still be in the pseudo-terminal: read until it reports the
		// other side closed, and close it only then, or when that
		// takes too long.
		select {
		case <-v.read:
		case <-time.After(10 * time.Second):
		}
		v.tty.Close()
		<-v.read
		return err
	case <-deadline:
		v.cmd.Process.Kill()
		return fmt.Errorf("%q did not end gotrace view", key)
	}
}

// TestViewOnPTY runs gotrace view on a pseudo-terminal of 100x30, as a
// person would: the first screen shows the P lanes and the goroutine
// groups, a search opens the detail pane of the goroutine found, and q
// leaves the terminal as it was (the alternate screen and the mouse off).
func TestViewOnPTY(t *testing.T) {
	trace, err := filepath.Abs(filepath.Join("..", "..", "testdata", "traces", "workers.trace"))
	if err != nil {
		t.Fatal(err)
	}
	for _, noColor := range []string{"", "1"} {
		t.Run("NO_COLOR="+noColor, func(t *testing.T) {
			v := startView(t, []string{"TERM=xterm-256color", "NO_COLOR=" + noColor}, 100, 30, trace)
			defer v.tty.Close()
			deadline := time.After(time.Minute)
			if err := v.screen(deadline, "workers.trace", "P0", "P1", "GC/STW", "main.fetchAll", "main.(*worker).run", "? help"); err != nil {
				t.Fatal(err)
			}
			if noColor != "" {
				// States by glyph: runnable and blocked lanes.
				if err := v.screen(deadline, "▒", "─"); err != nil {
					t.Fatal(err)
				}
			} else if err := v.raw(deadline, "\x1b[38;5;"); err != nil {
				t.Errorf("no 256-colour escapes with colour on: %v", err)
			}
			v.tty.Write([]byte("/fetchAll\r"))
			if err := v.screen(deadline, "match 1 of", "── detail", "G30 main.fetchAll", "created 9:"); err != nil {
				t.Fatal(err)
			}
			v.tty.Write([]byte("?"))
			if err := v.screen(deadline, "jump to the goroutine that ended the wait under the cursor"); err != nil {
				t.Fatal(err)
			}
			v.tty.Write([]byte("x")) // any key closes the help
			if err := v.quit(deadline, "q"); err != nil {
				t.Fatalf("gotrace view: %v\n%s", err, v.shown())
			}
			checkRestored(t, v.out.String())
		})
	}
}

// TestViewOnPTYCtrlC: Ctrl-C ends gotrace view as q does, with success,
// and leaves the terminal as it was.
func TestViewOnPTYCtrlC(t *testing.T) {
	trace, err := filepath.Abs(filepath.Join("..", "..", "testdata", "traces", "workers.trace"))
	if err != nil {
		t.Fatal(err)
	}
	v := startView(t, []string{"TERM=xterm-256color"}, 80, 24, trace)
	defer v.tty.Close()
	deadline := time.After(time.Minute)
	if err := v.screen(deadline, "workers.trace", "? help"); err != nil {
		t.Fatal(err)
	}
	if err := v.quit(deadline, "\x03"); err != nil {
		t.Fatalf("gotrace view: %v\n%s", err, v.shown())
	}
	checkRestored(t, v.out.String())
}

// checkRestored checks that what gotrace view wrote turns the
// alternate screen and the mouse off again.
func checkRestored(t *testing.T, got string) {
	t.Helper()
	for _, restore := range []string{"\x1b[?1049l", "\x1b[?1002l"} {
		if !strings.Contains(got, restore) {
			t.Errorf("the terminal was not restored: no %q", restore)
		}
	}
}

// BenchmarkViewStressTTY opens the stress trace of make bench on a
// pseudo-terminal of 120x40, as a person would, and reports the time
// until the first screen is drawn (the goroutine groups are followed
// over the wire after it), then until, zoomed in to a few milliseconds,
// the goroutines of that stretch are read and drawn, and the process's
// peak RSS and CPU time. It zooms in at several places: the trace's
// start, middle and end, the densest generation (the third: 21 MB in
// a second) and the boundary between the second and the third, where
// the window needs both read; then in, out and in elsewhere, and in with
// the stats pane open.
//
//	go test ./cmd/gotrace -run '^$' -bench ViewStressTTY -benchtime 3x
func BenchmarkViewStressTTY(b *testing.B) {
	trace, err := filepath.Abs(filepath.Join("..", "..", "testdata", "bench", "stress.trace"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(trace); err != nil {
		b.Skip("no stress trace: make bench generates it")
	}
	// Each case types keys after the first screen and waits for the
	// generations named, then, if there are more, again.
	const in = "++++++++++"
	for _, c := range []struct{ name, keys, gens, then, thenGens string }{
		{"start", in, "generations 1–1 of", "", ""},
		{"densest", "g2.5s\r" + in, "generations 3–3 of", "", ""},
		{"boundary", "g2.037s\r" + in, "generations 2–3 of", "", ""},
		{"middle", "g10s\r" + in, "generations 10–10 of", "", ""},
		{"end", "g20.7s\r" + in, "generations 19–19 of", "", ""},
		// Zoomed in, out, and in elsewhere: what was read first is not
		// held beside what is read next.
		{"elsewhere", "g2.037s\r" + in, "generations 2–3 of", "----------g2.5s\r" + in, "generations 3–3 of"},
		// With the stats pane open, each zoom step asks for the findings
		// of the generations in view.
		{"stats-pane", "sg2.037s\r" + in, "generations 2–3 of", "", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			var first, zoomed, cpu time.Duration
			var peak int64
			for b.Loop() {
				start := time.Now()
				v := startView(b, []string{"TERM=xterm-256color"}, 120, 40, trace)
				deadline := time.After(5 * time.Minute)
				// The first screen: the lanes from the summaries, the
				// groups still being followed.
				if err := v.screen(deadline, "GC/STW", "heap", "goroutines"); err != nil {
					b.Fatal(err)
				}
				first += time.Since(start)
				start = time.Now()
				v.tty.Write([]byte(c.keys))
				if err := v.screen(deadline, c.gens, "main.main"); err != nil {
					b.Fatal(err)
				}
				if c.then != "" {
					v.tty.Write([]byte(c.then))
					if err := v.screen(deadline, c.thenGens, "main.main"); err != nil {
						b.Fatal(err)
					}
				}
				zoomed += time.Since(start)
				if err := v.quit(deadline, "q"); err != nil {
					b.Fatal(err)
				}
				if ru, ok := v.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					peak = max(peak, ru.Maxrss*1024)
				}
				cpu += v.cmd.ProcessState.UserTime() + v.cmd.ProcessState.SystemTime()
			}
			n := float64(b.N)
			b.ReportMetric(float64(first.Milliseconds())/n, "ms-first-screen")
			b.ReportMetric(float64(zoomed.Milliseconds())/n, "ms-zoomed-read")
			b.ReportMetric(float64(cpu.Milliseconds())/n, "cpu-ms")
			b.ReportMetric(float64(peak)/1e6, "peak-RSS-MB")
		})
	}
}
