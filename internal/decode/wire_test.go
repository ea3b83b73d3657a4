package decode

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/rogpeppe/go-internal/txtar"
)

// appendWire renders g in the text form of go tool trace -d=wire: one line
// per event, batch headers included, frames and data on tab-indented lines.
func appendWire(b []byte, g *Generation) []byte {
	v := g.Version
	for i := range g.Batches {
		bt := &g.Batches[i]
		switch bt.Header {
		case format.EvEventBatch:
			b = append(b, "EventBatch gen="...)
			b = strconv.AppendUint(b, g.Num, 10)
			b = append(b, " m="...)
			b = strconv.AppendUint(b, bt.M, 10)
			b = append(b, " time="...)
			b = strconv.AppendUint(b, bt.Time, 10)
			b = append(b, " size="...)
			b = strconv.AppendInt(b, int64(bt.Size), 10)
			b = append(b, '\n')
		case format.EvExperimentalBatch:
			b = append(b, "ExperimentalBatch exp="...)
			b = strconv.AppendUint(b, uint64(bt.Exp), 10)
			b = append(b, " gen="...)
			b = strconv.AppendUint(b, g.Num, 10)
			b = append(b, " m="...)
			b = strconv.AppendUint(b, bt.M, 10)
			b = append(b, " time="...)
			b = strconv.AppendUint(b, bt.Time, 10)
			b = append(b, "\n\tdata="...)
			b = strconv.AppendQuote(b, string(bt.Data))
			b = append(b, '\n')
		}
		for k := range bt.Events {
			ev := &bt.Events[k]
			s := v.Spec(ev.Type)
			b = append(b, s.Name...)
			for a, name := range s.Args {
				b = append(b, ' ')
				b = append(b, name...)
				b = append(b, '=')
				b = strconv.AppendUint(b, ev.Args[a], 10)
			}
			if s.IsStack {
				fr := ev.Args[len(s.Args):]
				for f := range fr {
					if f%4 == 0 {
						b = append(b, "\n\t"...)
					} else {
						b = append(b, ' ')
					}
					b = append(b, format.FrameFields()[f%4]...)
					b = append(b, '=')
					b = strconv.AppendUint(b, fr[f], 10)
				}
			}
			if s.HasData {
				b = append(b, "\n\tdata="...)
				b = strconv.AppendQuote(b, string(ev.Data))
			}
			b = append(b, '\n')
		}
	}
	return b
}

// decodeAll reads every generation of data through r, rendering each in the
// wire form; it returns the text, the generations' numbers and the error
// that ended the read (nil for io.EOF).
func decodeAll(t testing.TB, r io.Reader) (string, []uint64, error) {
	t.Helper()
	rd, err := NewReader(r)
	if err != nil {
		return "", nil, err
	}
	var out []byte
	var gens []uint64
	for {
		g, err := rd.Next()
		if err == io.EOF {
			return string(out), gens, nil
		}
		if err != nil {
			return string(out), gens, err
		}
		gens = append(gens, g.Num)
		out = appendWire(out, g)
	}
}

var goToolTrace struct {
	once sync.Once
	bin  string
	err  error
}

var goRoot struct {
	once sync.Once
	dir  string
	err  error
}

// gorootDir is $(go env GOROOT) of the go command on PATH: the Go whose
// tools and test traces the tests compare with.
func gorootDir(t testing.TB) string {
	t.Helper()
	goRoot.once.Do(func() {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		goRoot.dir, goRoot.err = strings.TrimSpace(string(out)), err
	})
	if goRoot.err != nil || goRoot.dir == "" {
		t.Skipf("go env GOROOT: %v", goRoot.err)
	}
	return goRoot.dir
}

// wireDump runs go tool trace -d=wire on file, with the machine's own Go.
func wireDump(t *testing.T, file string) (string, error) {
	t.Helper()
	goToolTrace.once.Do(func() {
		out, err := exec.Command(filepath.Join(gorootDir(t), "bin", "go"), "tool", "-n", "trace").Output()
		if err != nil {
			goToolTrace.err = err
			return
		}
		goToolTrace.bin = strings.TrimSpace(string(out))
	})
	if goToolTrace.err != nil {
		t.Skipf("go tool trace unavailable: %v", goToolTrace.err)
	}
	cmd := exec.Command(goToolTrace.bin, "-d=wire", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), errors.New(strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// peerTests returns the trace test files of the Go tree.
func peerTests(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(gorootDir(t), "src", "internal", "trace", "testdata", "tests", "*.test"))
	if err != nil || len(files) == 0 {
		t.Skipf("no trace tests in GOROOT: %v", err)
	}
	return files
}

// assembleTest reads a Go tree trace test: its assembled trace and its
// expectation ("SUCCESS" or "FAILURE ...").
func assembleTest(t testing.TB, file string) ([]byte, string) {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	var expect string
	for _, f := range ar.Files {
		switch f.Name {
		case "trace":
			data, err = format.Assemble(f.Data)
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(file), err)
			}
		case "expect":
			expect = strings.TrimSpace(string(f.Data))
		}
	}
	if data == nil {
		t.Fatalf("%s: no trace section", file)
	}
	return data, expect
}

// compareWire checks that decoding data gives, line for line, what
// go tool trace -d=wire prints for it. It returns the decoding error: when
// there is one, the generations decoded before it must be a prefix of what
// go tool trace prints.
func compareWire(t *testing.T, name string, data []byte) error {
	t.Helper()
	file := filepath.Join(t.TempDir(), "x.trace")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, werr := wireDump(t, file)
	got, _, err := decodeAll(t, bytes.NewReader(data))
	if err == nil && werr != nil {
		t.Fatalf("%s: go tool trace -d=wire: %v", name, werr)
	}
	if err != nil {
		var de *Error
		if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(data)) {
			t.Fatalf("%s: error %v is not a *Error inside the input", name, err)
		}
		if !strings.HasPrefix(want, got) {
			t.Fatalf("%s: generations before the damage differ from go tool trace -d=wire:\n%s", name, got)
		}
		return err
	}
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s: line %d differs from go tool trace -d=wire:\n got: %q\nwant: %q", name, i+1, g, w)
			}
		}
	}
	return nil
}
