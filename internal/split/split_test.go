package split

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/exp/trace"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/gotool"
)

// memSink keeps parts in memory; committed ones only.
type memSink struct {
	parts   map[int][]byte
	aborted int
}

func (s *memSink) Create(index int) (io.Writer, func() error, func(), error) {
	buf := new(bytes.Buffer)
	if s.parts == nil {
		s.parts = make(map[int][]byte)
	}
	return buf, func() error { s.parts[index] = buf.Bytes(); return nil }, func() { s.aborted++ }, nil
}

// traceFiles lists the committed traces in the format split reads (Go 1.22
// and later).
func traceFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../testdata/traces/*.trace")
	if err != nil || len(files) == 0 {
		t.Fatalf("no traces in testdata/traces: %v", err)
	}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decode.NewReader(bytes.NewReader(data)); errors.Is(err, decode.ErrOldFormat) {
			continue
		}
		out = append(out, f)
	}
	return out
}

func run(t *testing.T, data []byte, opts Options) ([]Part, *memSink, error) {
	t.Helper()
	sink := new(memSink)
	parts, err := Split(bytes.NewReader(data), bytes.NewReader(data), opts, sink)
	return parts, sink, err
}

// census reads a whole trace with x/exp/trace and counts what it holds.
type census struct {
	samples, logs, tasks int
}

func read(t *testing.T, data []byte) (census, error) {
	t.Helper()
	r, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		return census{}, err
	}
	var c census
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return c, err
		}
		switch ev.Kind() {
		case trace.EventStackSample:
			c.samples++
		case trace.EventLog:
			c.logs++
		case trace.EventTaskBegin:
			c.tasks++
		}
	}
}

// TestPerGeneration splits every committed trace into one part per
// generation and reads each part fully with x/exp/trace: parts are valid on
// their own, even when they start at generation 2 or later, and between them
// hold every byte and every sample, log and task of the input.
func TestPerGeneration(t *testing.T) {
	for _, file := range traceFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			parts, _ := checkPerGeneration(t, file)
			if len(parts) < 2 && filepath.Base(file) == "annotated.trace" {
				t.Errorf("annotated.trace split into %d parts, want one per generation", len(parts))
			}
		})
	}
}

// TestStress splits a recorded trace of hundreds of goroutines blocked,
// runnable, running and in system calls at every generation boundary: each
// part is read whole by x/exp/trace and by go tool trace -d=parsed.
func TestStress(t *testing.T) {
	if testing.Short() {
		t.Skip("records a trace")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	file := filepath.Join(t.TempDir(), "stress.trace")
	// N.B. pauses between units of work make a trace of a few megabytes;
	// past a second, the runtime begins a second generation.
	cmd := exec.Command(goTool, "run", "../../testdata/progs/stress", "-o", file, "-duration", "1300ms", "-idle", "50ms", "-size", "20000000",
		"-mutexers", "40", "-sleepers", "100", "-rings", "8", "-conns", "4", "-allocators", "4")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("recording a stress trace: %v\n%s", err, out)
	}
	parts, sink := checkPerGeneration(t, file)
	if len(parts) < 2 {
		t.Fatalf("%d parts, want one per generation and more than one", len(parts))
	}
	goToolParsed(t, goTool, parts, sink)
}

// checkPerGeneration splits file into one part per generation, reads each
// part with x/exp/trace, and checks the parts hold every byte and every
// sample, log and task of the input. It returns the parts and their bytes.
func checkPerGeneration(t *testing.T, file string) ([]Part, *memSink) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	parts, sink, err := run(t, data, Options{PerGeneration: true})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := read(t, data)
	if err != nil {
		t.Fatal(err)
	}
	var sum census
	body := data[:format.HeaderSize:format.HeaderSize]
	for i, p := range parts {
		b := sink.parts[p.Index]
		if p.Index != i+1 || p.Generations != 1 || p.FirstGen != p.LastGen || int64(len(b)) != p.Size {
			t.Errorf("part %d: %+v, %d bytes", i+1, p, len(b))
		}
		if !bytes.Equal(b[:format.HeaderSize], data[:format.HeaderSize]) {
			t.Errorf("part %d: header %q, want the input's", p.Index, b[:format.HeaderSize])
		}
		c, err := read(t, b)
		if err != nil {
			t.Fatalf("part %d (generation %d): x/exp/trace: %v", p.Index, p.FirstGen, err)
		}
		sum.samples += c.samples
		sum.logs += c.logs
		sum.tasks += c.tasks
		body = append(body, b[format.HeaderSize:]...)
	}
	if !bytes.Equal(body, data) {
		t.Errorf("the parts' generations are not the input's bytes (%d bytes, want %d)", len(body), len(data))
	}
	if sum.samples != whole.samples || sum.logs != whole.logs || sum.tasks != whole.tasks {
		t.Errorf("parts hold %+v, the whole trace %+v", sum, whole)
	}
	return parts, sink
}

// goToolParsed has go tool trace parse every part, as a viewer would.
func goToolParsed(t *testing.T, goTool string, parts []Part, sink *memSink) {
	t.Helper()
	dir := t.TempDir()
	for _, p := range parts {
		name := filepath.Join(dir, fmt.Sprintf("part.%03d.trace", p.Index))
		if err := os.WriteFile(name, sink.parts[p.Index], 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := gotool.Trace("-d=parsed", name)
		cmd.Stdout = io.Discard
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("go tool trace -d=parsed part %d (generation %d): %v: %s", p.Index, p.FirstGen, err, stderr.Bytes())
		}
	}
}

const annotated = "../../testdata/traces/annotated.trace"

func TestSelect(t *testing.T) {
	data, err := os.ReadFile(annotated)
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := run(t, data, Options{PerGeneration: true})
	if err != nil || len(all) < 3 {
		t.Fatalf("%d generations, %v; want 3 or more", len(all), err)
	}
	last := all[len(all)-1].LastGen

	t.Run("gen", func(t *testing.T) {
		parts, sink, err := run(t, data, Options{FirstGen: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 1 || parts[0].FirstGen != 2 || parts[0].LastGen != last {
			t.Fatalf("parts %+v, want one holding generations 2-%d", parts, last)
		}
		if _, err := read(t, sink.parts[1]); err != nil {
			t.Fatalf("x/exp/trace: %v", err)
		}
	})
	t.Run("time", func(t *testing.T) {
		// The second generation starts about a second in.
		from := all[1].Start + time.Millisecond
		parts, _, err := run(t, data, Options{From: from, To: from + time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 1 || parts[0].FirstGen != all[1].FirstGen || parts[0].LastGen != all[1].FirstGen {
			t.Errorf("window %v+1ms: parts %+v, want generation %d alone", from, parts, all[1].FirstGen)
		}
	})
	t.Run("max-size", func(t *testing.T) {
		limit := all[0].Size + all[1].Size - format.HeaderSize
		parts, sink, err := run(t, data, Options{MaxSize: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) < 2 || parts[0].Generations != 2 || parts[0].Size != limit {
			t.Fatalf("max %d: parts %+v, want the first two generations together", limit, parts)
		}
		for _, p := range parts {
			if p.Size > limit && !(p.Oversized && p.Generations == 1) {
				t.Errorf("part %+v exceeds %d", p, limit)
			}
			if _, err := read(t, sink.parts[p.Index]); err != nil {
				t.Errorf("part %d: x/exp/trace: %v", p.Index, err)
			}
		}
		tiny, _, err := run(t, data, Options{MaxSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range tiny {
			if !p.Oversized || p.Generations != 1 {
				t.Errorf("max 100 bytes: part %+v, want one oversized generation", p)
			}
		}
	})
	t.Run("nothing", func(t *testing.T) {
		for _, o := range []Options{{FirstGen: last + 1}, {From: time.Hour}} {
			if _, _, err := run(t, data, o); !errors.Is(err, ErrNothingKept) || errors.Is(err, ErrNoGenerations) {
				t.Errorf("%+v: err %v, want ErrNothingKept alone", o, err)
			}
		}
	})
	t.Run("header only", func(t *testing.T) {
		for _, o := range []Options{{PerGeneration: true}, {MaxSize: 100}, {FirstGen: 2}} {
			parts, _, err := run(t, data[:format.HeaderSize], o)
			if len(parts) != 0 || !errors.Is(err, ErrNoGenerations) || !errors.Is(err, ErrNothingKept) {
				t.Errorf("%+v: %d parts, err %v; want none, and ErrNoGenerations", o, len(parts), err)
			}
		}
	})
}

// TestDamaged cuts the input inside its last generation: the parts before the
// damage are written whole, and the error says where.
func TestDamaged(t *testing.T) {
	data, err := os.ReadFile(annotated)
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := run(t, data, Options{PerGeneration: true})
	if err != nil {
		t.Fatal(err)
	}
	cut := data[:len(data)-100]
	parts, sink, err := run(t, cut, Options{PerGeneration: true})
	if err == nil {
		t.Fatal("no error for a truncated trace")
	}
	if len(parts) != len(all)-1 || len(sink.parts) != len(parts) {
		t.Fatalf("%d parts committed (%d), want %d", len(parts), len(sink.parts), len(all)-1)
	}
	for _, p := range parts {
		if _, err := read(t, sink.parts[p.Index]); err != nil {
			t.Errorf("part %d: x/exp/trace: %v", p.Index, err)
		}
	}
	if _, _, err := run(t, []byte("not a trace"), Options{}); err == nil {
		t.Error("no error for garbage")
	}
}

// TestGoToolTrace has go tool trace parse every part of the annotated trace.
func TestGoToolTrace(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	data, err := os.ReadFile(annotated)
	if err != nil {
		t.Fatal(err)
	}
	parts, sink, err := run(t, data, Options{PerGeneration: true})
	if err != nil {
		t.Fatal(err)
	}
	goToolParsed(t, goTool, parts, sink)
}
