package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDecodeReadmeExamples runs every command in the README's gotrace
// decode section from the repository root and checks that each output line
// shown there (other than elisions) is printed, in order.
func TestDecodeReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## gotrace decode\n")
	if !ok {
		t.Fatal("README has no gotrace decode section")
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	t.Chdir(filepath.Join("..", ".."))
	tmp := t.TempDir()
	ran := 0
	inBlock := false
	var cmd string
	var want []string
	flush := func() {
		if cmd == "" {
			return
		}
		got := runReadmeCommand(t, tmp, cmd)
		checkShown(t, cmd, got, want)
		ran++
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
	if ran < 5 {
		t.Fatalf("ran %d README commands, want at least 5", ran)
	}
}

// runReadmeCommand runs one README command line: gotrace decode, optionally
// piped into head -N or sed -n Np, or head -c N FILE > OUT to make a damaged
// trace. Files written land in tmp.
func runReadmeCommand(t *testing.T, tmp, line string) []string {
	t.Helper()
	stages := strings.Split(line, " | ")
	f := strings.Fields(stages[0])
	if f[0] == "head" && len(f) == 6 && f[1] == "-c" && f[4] == ">" {
		n, err := strconv.Atoi(f[2])
		data, rerr := os.ReadFile(f[3])
		if err != nil || rerr != nil || n > len(data) {
			t.Fatalf("%s: %v %v", line, err, rerr)
		}
		if err := os.WriteFile(filepath.Join(tmp, f[5]), data[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		return nil
	}
	if f[0] != "gotrace" || f[1] != "decode" {
		t.Fatalf("README command %q: not a gotrace decode command", line)
	}
	args := f[2:]
	if file := args[len(args)-1]; !strings.HasPrefix(file, "testdata/") {
		args[len(args)-1] = filepath.Join(tmp, file) // made by an earlier command
	}
	out, errOut, _ := decodeRun(t, false, false, nil, args...)
	out = strings.ReplaceAll(out, tmp+string(filepath.Separator), "")
	errOut = strings.ReplaceAll(errOut, tmp+string(filepath.Separator), "")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, st := range stages[1:] {
		sf := strings.Fields(st)
		switch {
		case sf[0] == "head" && len(sf) == 2:
			n, _ := strconv.Atoi(strings.TrimPrefix(sf[1], "-"))
			lines = lines[:min(n, len(lines))]
		case sf[0] == "sed" && len(sf) == 3 && sf[1] == "-n":
			n, _ := strconv.Atoi(strings.TrimSuffix(sf[2], "p"))
			lines = lines[n-1 : n]
		default:
			t.Fatalf("README command %q: unknown pipe stage %q", line, st)
		}
	}
	if errOut != "" {
		lines = append(lines, strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")...)
	}
	return lines
}

// checkShown reports README output lines that the command did not print.
func checkShown(t *testing.T, cmd string, got, want []string) {
	t.Helper()
	i := 0
	for _, w := range want {
		if strings.Contains(w, "...") || strings.TrimSpace(w) == "" {
			continue
		}
		for i < len(got) && got[i] != w {
			i++
		}
		if i == len(got) {
			var b bytes.Buffer
			for _, g := range got[:min(len(got), 20)] {
				b.WriteString(g + "\n")
			}
			t.Fatalf("README: %s: line not printed (in order):\n%s\nfirst lines printed:\n%s", cmd, w, b.String())
		}
		i++
	}
}

// TestDecodeHelpExamples runs the Example lines of gotrace decode --help on
// a small trace.
func TestDecodeHelpExamples(t *testing.T) {
	_, file := writeTrace(t, smallTrace(t))
	data, _ := os.ReadFile(file)
	cmd := newDecodeCmd(&Streams{}, nil)
	n := 0
	for _, line := range strings.Split(cmd.Example, "\n") {
		line = strings.TrimSpace(line)
		var stdin *bytes.Reader
		if rest, ok := strings.CutPrefix(line, "cat app.trace | "); ok {
			line, stdin = rest, bytes.NewReader(data)
		}
		line, _, _ = strings.Cut(line, " | ") // what follows reads our output
		f := strings.Fields(strings.ReplaceAll(line, "app.trace", file))
		if len(f) < 2 || f[0] != "gotrace" || f[1] != "decode" {
			t.Fatalf("example %q is not a gotrace decode command", line)
		}
		var out, errOut string
		var code int
		if stdin != nil {
			out, errOut, code = decodeRun(t, false, false, stdin, f[2:]...)
		} else {
			out, errOut, code = decodeRun(t, false, false, nil, f[2:]...)
		}
		if code != 0 || errOut != "" || out == "" {
			t.Fatalf("example %q: exit %d, stderr %q, %d bytes of output", line, code, errOut, len(out))
		}
		n++
	}
	if n == 0 {
		t.Fatal("no examples")
	}
}
