package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNoTerminalQuery runs commands other than view on a pseudo-terminal
// that never answers: none of them may ask the terminal anything (its
// background colour, OSC 11, or where the cursor is, DSR 6), for a
// terminal that does not answer would hold each command up until the
// question timed out, and an answer that does come may be read by the
// program that gotrace record runs as its input.
func TestNoTerminalQuery(t *testing.T) {
	t.Setenv("TERM", "xterm-256color") // a terminal worth asking
	t.Setenv("NO_COLOR", "")
	trace, err := filepath.Abs(filepath.Join("..", "..", "testdata", "traces", "workers.trace"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"version"},
		{"decode", "--summary", trace},
		{"stats", trace},
	} {
		t.Run(strings.Join(args[:1], " "), func(t *testing.T) {
			g := startOnPTY(t, t.TempDir(), args...)
			defer g.master.Close()
			deadline := time.After(time.Minute)
			select {
			case err := <-g.waited:
				if err != nil {
					t.Errorf("gotrace %s: %v", args[0], err)
				}
			case <-deadline:
				g.cmd.Process.Kill()
				t.Fatalf("gotrace %s did not end:\n%q", args[0], g.out.String())
			}
			// All that was written is read once the terminal reports its
			// other end closed.
			select {
			case <-g.read:
			case <-deadline:
				t.Fatal("the terminal was not closed")
			}
			got := g.out.String()
			if !strings.Contains(got, "gotrace") && !strings.Contains(got, "workers.trace") {
				t.Fatalf("gotrace %s showed nothing of its own:\n%q", args[0], got)
			}
			for _, query := range []string{"\x1b]11;?", "\x1b[6n"} {
				if strings.Contains(got, query) {
					t.Errorf("gotrace %s asked the terminal %q:\n%q", args[0], query, got)
				}
			}
		})
	}
}
