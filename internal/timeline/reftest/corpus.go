package reftest

import (
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/tools/txtar"
)

// CorpusTrace is one trace test of the Go tree: its name, what it
// expects ("SUCCESS" or the error), and the trace assembled.
type CorpusTrace struct {
	Name   string
	Expect []byte
	Data   []byte
}

// Valid reports whether the test expects the trace to read without error.
func (c CorpusTrace) Valid() bool { return strings.HasPrefix(string(c.Expect), "SUCCESS") }

// GorootCorpus assembles the trace tests in
// $(go env GOROOT)/src/internal/trace/testdata/tests, none when the go
// command is not there.
func GorootCorpus() ([]CorpusTrace, error) {
	root := Goroot()
	if root == "" {
		return nil, nil
	}
	files, _ := filepath.Glob(filepath.Join(root, "src", "internal", "trace", "testdata", "tests", "*.test"))
	var cs []CorpusTrace
	for _, f := range files {
		ar, err := txtar.ParseFile(f)
		if err != nil {
			return nil, err
		}
		c := CorpusTrace{Name: filepath.Base(f)}
		var text []byte
		for _, af := range ar.Files {
			switch af.Name {
			case "expect":
				c.Expect = af.Data
			case "trace":
				text = af.Data
			}
		}
		if c.Data, err = format.Assemble(text); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// Goroot is $(go env GOROOT), "" when the go command is not there.
func Goroot() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// OldTraces are the paths of the Go 1.11 to 1.21 traces in the Go tree
// whose names match pattern, none when the go command is not there.
func OldTraces(pattern string) []string {
	root := Goroot()
	if root == "" {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(root, "src", "internal", "trace", "internal", "tracev1", "testdata", pattern))
	return files
}
