//go:build linux || darwin

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
)

// TestViewOnPTY runs gotrace view on a pseudo-terminal of 100x30, as a
// person would: the first screen shows the P lanes and the goroutine
// groups, a search opens the detail pane of the goroutine found, and q
// leaves the terminal as it was (the alternate screen and the mouse off).
func TestViewOnPTY(t *testing.T) {
	gotrace, err := exec.LookPath("gotrace") // testscript.Main put it on PATH
	if err != nil {
		t.Skip(err)
	}
	for _, noColor := range []string{"", "1"} {
		t.Run("NO_COLOR="+noColor, func(t *testing.T) {
			trace, err := filepath.Abs(filepath.Join("..", "..", "testdata", "traces", "workers.trace"))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(gotrace, "view", trace)
			cmd.Env = append(os.Environ(), "TERM=xterm-256color", "NO_COLOR="+noColor)
			tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 100, Rows: 30})
			if err != nil {
				t.Skip(err)
			}
			defer tty.Close()
			out := new(lockedBuffer)
			read := make(chan struct{})
			go func() {
				defer close(read)
				buf := make([]byte, 4096)
				for {
					n, err := tty.Read(buf)
					out.Write(buf[:n])
					// Answer as a terminal does when asked its
					// background colour and, after it, where the
					// cursor is (Bubble Tea asks both as it starts).
					if strings.Contains(string(buf[:n]), "\x1b]11;?") {
						tty.Write([]byte("\x1b]11;rgb:0000/0000/0000\x1b\\"))
					}
					if strings.Contains(string(buf[:n]), "\x1b[6n") {
						tty.Write([]byte("\x1b[1;1R"))
					}
					if err != nil {
						return
					}
				}
			}()
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			deadline := time.After(time.Minute)
			// screen waits until what was drawn, escapes left out, has
			// every one of want.
			screen := func(want ...string) {
				t.Helper()
				for {
					text := ansi.Strip(out.String())
					missing := ""
					for _, w := range want {
						if !strings.Contains(text, w) {
							missing = w
							break
						}
					}
					if missing == "" {
						return
					}
					select {
					case err := <-waited:
						t.Fatalf("gotrace ended (%v) before showing %q:\n%s", err, missing, text)
					case <-deadline:
						cmd.Process.Kill()
						t.Fatalf("%q not shown:\n%s", missing, text)
					case <-time.After(20 * time.Millisecond):
					}
				}
			}
			screen("workers.trace", "P0", "P1", "GC/STW", "main.fetchAll", "main.(*worker).run", "? help")
			if noColor != "" {
				// States by glyph: runnable and blocked lanes.
				screen("▒", "─")
			} else if !strings.Contains(out.String(), "\x1b[38;5;") {
				t.Errorf("no 256-colour escapes with colour on:\n%q", out.String())
			}
			tty.Write([]byte("/fetchAll\r"))
			screen("match 1 of", "── detail", "G30 main.fetchAll", "created 9:")
			tty.Write([]byte("?"))
			screen("jump to the goroutine that ended the wait under the cursor")
			tty.Write([]byte("x")) // any key closes the help
			tty.Write([]byte("q"))
			select {
			case err := <-waited:
				if err != nil {
					t.Fatalf("gotrace view: %v\n%s", err, ansi.Strip(out.String()))
				}
			case <-deadline:
				cmd.Process.Kill()
				t.Fatal("q did not end gotrace view")
			}
			tty.Close()
			<-read
			got := out.String()
			for _, restore := range []string{"\x1b[?1049l", "\x1b[?1002l"} {
				if !strings.Contains(got, restore) {
					t.Errorf("the terminal was not restored: no %q", restore)
				}
			}
		})
	}
}
