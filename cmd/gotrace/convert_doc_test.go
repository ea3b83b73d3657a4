package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// docDir returns a temporary directory where testdata/ leads to the
// repository's testdata, so documented commands run there as they would from
// the repository root, and write their files into the temporary directory.
func docDir(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "testdata"), filepath.Join(dir, "testdata")); err != nil {
		t.Skipf("no symlinks: %v", err)
	}
	return dir
}

// shell runs a documented command line with sh in dir; gotrace on PATH is
// this test binary (see TestMain). It returns stdout and stderr lines.
func shell(t *testing.T, dir, line string) []string {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// TestConvertReadmeExamples runs every command shown in the README's
// sections on gotrace pprof, export and split, and checks that the output
// lines shown there are printed, in order.
func TestConvertReadmeExamples(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the examples use go tool pprof and go tool trace")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pprof", "export", "split"} {
		t.Run(name, func(t *testing.T) {
			_, section, ok := strings.Cut(string(readme), "\n## gotrace "+name+"\n")
			if !ok {
				t.Fatalf("README has no gotrace %s section", name)
			}
			if i := strings.Index(section, "\n## "); i >= 0 {
				section = section[:i]
			}
			dir := docDir(t)
			ran := 0
			inBlock := false
			var cmd string
			var want []string
			flush := func() {
				if cmd != "" {
					checkShown(t, cmd, shell(t, dir, cmd), want)
					ran++
				}
				cmd, want = "", nil
			}
			for _, line := range strings.Split(section, "\n") {
				switch {
				case strings.HasPrefix(line, "```"):
					flush()
					inBlock = !inBlock
				case inBlock && strings.HasPrefix(line, "$ "):
					flush()
					cmd = strings.TrimPrefix(line, "$ ")
				case inBlock && cmd != "":
					want = append(want, line)
				}
			}
			if ran < 3 {
				t.Fatalf("ran %d README commands, want at least 3", ran)
			}
		})
	}
}

// TestConvertHelpExamples runs the Example lines of gotrace pprof, export
// and split --help.
func TestConvertHelpExamples(t *testing.T) {
	dir := docDir(t)
	for _, c := range []string{newPprofCmd(&Streams{}, nil).Example, newExportCmd(&Streams{}, nil).Example, newSplitCmd(&Streams{}, nil).Example} {
		for _, line := range strings.Split(c, "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "gotrace ") {
				t.Fatalf("example %q is not a gotrace command", line)
			}
			shell(t, dir, line)
		}
	}
}
