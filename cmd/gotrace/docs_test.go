package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README and every command's --help show real invocations. These tests
// run them, so the documentation cannot drift from what gotrace does.

// docSections are the README sections with examples, and whether their
// output changes from run to run (recording a program does).
var docSections = []struct {
	name   string
	varies bool
}{
	{"record", true},
	{"decode", false},
	{"stats", false},
	{"check", false},
	{"diff", false},
	{"goroutine", false},
	{"at", false},
	{"pprof", false},
	{"export", false},
	{"split", false},
	{"tasks", false},
	{"why", false},
	{"view", false},
}

// TestReadmeExamples runs every "$ command" line of the README's command
// sections with sh, from a scratch module whose testdata is the
// repository's, and checks that each output line shown under it is printed,
// in order. Lines containing "..." are elisions. Where output varies, numbers
// are masked before comparing.
func TestReadmeExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the README's programs")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range docSections {
		t.Run(sec.name, func(t *testing.T) {
			_, text, ok := strings.Cut(string(readme), "\n## gotrace "+sec.name+"\n")
			if !ok {
				t.Fatalf("README has no gotrace %s section", sec.name)
			}
			if i := strings.Index(text, "\n## "); i >= 0 {
				text = text[:i]
			}
			dir := docDir(t)
			ran := 0
			for _, ex := range shellExamples(text) {
				if strings.Contains(ex.cmd, "--url") {
					continue // needs a live server; internal/record tests it
				}
				got := shell(t, dir, ex.cmd)
				mask := func(s string) string { return s }
				if sec.varies {
					mask = masked
				}
				checkInOrder(t, ex.cmd, got, ex.want, mask)
				ran++
			}
			if ran == 0 {
				t.Fatalf("no examples ran in the gotrace %s section", sec.name)
			}
		})
	}
}

// TestHelpExamples runs the Example lines of every command's --help, with
// app.trace standing for a real trace. gotrace record's examples name
// programs that are not here, so they are only parsed.
func TestHelpExamples(t *testing.T) {
	dir := docDir(t)
	demo, err := os.ReadFile(filepath.Join(dir, "testdata", "traces", "demo.trace"))
	if err != nil {
		t.Fatal(err)
	}
	// gotrace diff and check --baseline compare traces: old.trace and
	// new.trace, and five of each in old/ and new/.
	for _, name := range []string{"app.trace", "old.trace", "new.trace",
		"old/1.trace", "old/2.trace", "old/3.trace", "old/4.trace", "old/5.trace",
		"new/1.trace", "new/2.trace", "new/3.trace", "new/4.trace", "new/5.trace"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), demo, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range newRootCmd(&Streams{}).Commands() {
		for _, line := range strings.Split(c.Example, "\n") {
			line, _, _ = strings.Cut(line, "#")
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if !strings.Contains(line, "gotrace "+c.Name()) {
				t.Errorf("%s example %q does not run gotrace %s", c.Name(), line, c.Name())
				continue
			}
			if c.Name() == "record" {
				parseRecordExample(t, line)
				continue
			}
			if strings.Contains(line, "| jq") {
				if _, err := exec.LookPath("jq"); err != nil {
					continue
				}
			}
			cmd := exec.Command("sh", "-c", line)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if errors.As(err, &ee) && c.Name() == "check" && ee.ExitCode() == exitAssertion {
				err = nil // an assertion that does not hold on this trace
			}
			if err != nil {
				t.Errorf("%s example %q: %v\n%s", c.Name(), line, err, out)
			}
		}
	}
}

func parseRecordExample(t *testing.T, line string) {
	t.Helper()
	f := strings.Fields(line)
	var got *recordOptions
	cmd := newRecordCmd(&Streams{Out: new(bytes.Buffer), ErrOut: new(bytes.Buffer)}, func(o *recordOptions) error { got = o; return nil })
	cmd.SetArgs(f[2:])
	if err := cmd.Execute(); err != nil || got == nil {
		t.Errorf("record example %q: %v", line, err)
	}
}

// docDir returns a scratch module directory whose testdata leads to the
// repository's, so documented commands run there as from the repository
// root and write their files into the scratch directory.
func docDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	testdata, err := filepath.Abs(filepath.Join("..", "..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(testdata, filepath.Join(dir, "testdata")); err != nil {
		t.Skipf("no symlinks: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/readme\n\ngo 1.23\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shell runs a documented command line with sh in dir, with gotrace on PATH
// being this test binary (see TestMain), and returns its output lines,
// stdout and stderr together. The exit status is the example's business:
// the README shows failing commands too.
func shell(t *testing.T, dir, line string) []string {
	t.Helper()
	cmd := exec.Command("sh", "-c", "{ "+line+"\n} 2>&1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	out, _ := cmd.Output()
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

type shellExample struct {
	cmd  string
	want []string
}

// shellExamples returns the "$ command" lines of a Markdown text's code
// blocks with the output lines that follow each.
func shellExamples(md string) []shellExample {
	var out []shellExample
	inBlock, inExample := false, false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inBlock, inExample = !inBlock, false
		case inBlock && strings.HasPrefix(line, "$ "):
			out = append(out, shellExample{cmd: strings.TrimPrefix(line, "$ ")})
			inExample = true
		case inExample:
			out[len(out)-1].want = append(out[len(out)-1].want, line)
		}
	}
	return out
}

// quantity is a number with its unit, if any: 11.5 MB, 455ms, 2101223,
// 0x21c6.
var quantity = regexp.MustCompile(`0x[0-9a-f]+|[0-9][0-9.]*( ?(B|kB|MB|GB)\b|ns|µs|ms|s\b)?`)

// masked makes lines from different runs comparable.
func masked(line string) string {
	line = quantity.ReplaceAllString(line, "N")
	return strings.ReplaceAll(line, "generations", "generation")
}

// checkInOrder checks that every wanted line but blanks and "..." elisions
// appears in got, in order, after mask.
func checkInOrder(t *testing.T, cmd string, got, want []string, mask func(string) string) {
	t.Helper()
	i := 0
	for _, w := range want {
		if strings.Contains(w, "...") || strings.TrimSpace(w) == "" {
			continue
		}
		mw := mask(w)
		for i < len(got) && mask(got[i]) != mw {
			i++
		}
		if i == len(got) {
			t.Errorf("$ %s\nREADME line %q not printed (in order); got:\n%s", cmd, w, strings.Join(got, "\n"))
			return
		}
		i++
	}
}

// TestRootExamples checks that gotrace --help shows an example of every
// command; TestHelpExamples runs them as each command's own.
func TestRootExamples(t *testing.T) {
	root := newRootCmd(&Streams{})
	root.InitDefaultCompletionCmd()
	shown := map[string]bool{}
	for _, line := range strings.Split(root.Example, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "gotrace" {
			shown[f[1]] = true
		}
	}
	for _, c := range root.Commands() {
		if c.Name() != "help" && !shown[c.Name()] {
			t.Errorf("gotrace --help has no example of gotrace %s:\n%s", c.Name(), root.Example)
		}
	}
}
