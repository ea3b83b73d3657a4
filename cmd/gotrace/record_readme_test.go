package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRecordReadmeExamples runs the commands of the README's gotrace record
// section (all but --url, which needs a live server) and checks each line
// shown there is printed, in order, with numbers masked: sizes, counts and
// durations differ from run to run. The commands run in a scratch module
// whose testdata is the repository's, so the traces land in a temporary
// directory.
func TestRecordReadmeExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the README's programs")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## gotrace record\n")
	if !ok {
		t.Fatal("README has no gotrace record section")
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	testdata, err := filepath.Abs(filepath.Join("..", "..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/readme\n\ngo 1.23\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(testdata, filepath.Join(dir, "testdata")); err != nil {
		t.Fatal(err)
	}

	ran := 0
	for _, ex := range shellExamples(section) {
		if strings.Contains(ex.cmd, "--url") {
			continue
		}
		cmd := exec.Command("sh", "-c", ex.cmd+" 2>&1")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		out, _ := cmd.CombinedOutput()
		checkInOrder(t, ex.cmd, string(out), ex.want)
		ran++
	}
	if ran < 5 {
		t.Fatalf("ran %d README commands, want at least 5", ran)
	}
}

type shellExample struct {
	cmd  string
	want []string
}

// shellExamples returns the "$ command" lines of a Markdown text's code
// blocks with the output lines that follow each.
func shellExamples(md string) []shellExample {
	var out []shellExample
	inBlock := false
	cur := -1 // the example the block's lines belong to; -1 before its first
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inBlock, cur = !inBlock, -1
		case inBlock && strings.HasPrefix(line, "$ "):
			out = append(out, shellExample{cmd: strings.TrimPrefix(line, "$ ")})
			cur = len(out) - 1
		case inBlock && cur >= 0:
			out[cur].want = append(out[cur].want, line)
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

// checkInOrder checks that every wanted line but "..." elisions appears in
// got, in order.
func checkInOrder(t *testing.T, cmd, got string, want []string) {
	t.Helper()
	lines := strings.Split(got, "\n")
	i := 0
	for _, w := range want {
		if w == "..." || w == "" {
			continue
		}
		mw := masked(w)
		for i < len(lines) && masked(lines[i]) != mw {
			i++
		}
		if i == len(lines) {
			t.Errorf("$ %s\nREADME line %q not printed (in order); got:\n%s", cmd, w, got)
			return
		}
		i++
	}
}
