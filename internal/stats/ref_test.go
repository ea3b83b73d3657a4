package stats

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"github.com/gotrace-cli/gotrace/internal/timeline/timelinetest"
	"golang.org/x/exp/trace"
)

func readTrace(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "traces", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func committedTraces(t *testing.T) []string {
	names, err := filepath.Glob(filepath.Join("..", "..", "testdata", "traces", "*.trace"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no committed traces: %v", err)
	}
	return names
}

// computeFile analyses the trace at path, which must be undamaged.
func computeFile(t *testing.T, path string) ([]byte, *Model) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := computeBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	return data, m
}

// TestAgreesWithXExpTrace counts with a bare golang.org/x/exp/trace loop
// and compares.
func TestAgreesWithXExpTrace(t *testing.T) {
	for _, path := range committedTraces(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, m := computeFile(t, path)
			checkXExpCounts(t, data, m)
		})
	}
}

// checkXExpCounts counts events, GC cycles and goroutines created and
// ended with a bare golang.org/x/exp/trace loop over data and compares
// them with m.
func checkXExpCounts(t *testing.T, data []byte, m *Model) {
	t.Helper()
	r, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var events, cycles, created, ended int64
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		events++
		switch ev.Kind() {
		case trace.EventRangeBegin:
			if ev.Range().Name == "GC concurrent mark phase" {
				cycles++
			}
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			from, to := st.Goroutine()
			if from == trace.GoNotExist && to != trace.GoNotExist {
				created++
			}
			if to == trace.GoNotExist && from != trace.GoNotExist {
				ended++
			}
		}
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"events", m.Overview.Events, events},
		{"gc.cycles", m.GC.Cycles, cycles},
		{"goroutines.created", m.Goroutines.Created, created},
		{"goroutines.ended", m.Goroutines.Ended, ended},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, x/exp/trace says %d", c.name, c.got, c.want)
		}
	}
}

// TestAgreesWithGoToolTrace compares blocking, syscall and scheduling
// totals with the profiles go tool trace -pprof writes for the same file.
func TestAgreesWithGoToolTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go tool trace")
	}
	for _, path := range committedTraces(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			in, ok := timelinetest.GoToolTraceInput(t, path)
			if !ok {
				t.Skip("goroutine IDs are reused, which go tool trace merges and gotrace does not")
			}
			_, m := computeFile(t, path)
			checkGoToolTrace(t, in, m)
		})
	}
}

// goToolTrace is the go tool trace binary, found once: running it
// directly skips the go command's start-up at every call.
var goToolTrace = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "tool", "-n", "trace").Output()
	return strings.TrimSpace(string(out)), err
})

// checkGoToolTrace compares m's totals with the sums of the profiles go
// tool trace -pprof=sync|net|syscall|sched writes for the trace at path:
// they must agree within 0.1%.
func checkGoToolTrace(t *testing.T, path string, m *Model) {
	t.Helper()
	bin, err := goToolTrace()
	if err != nil {
		t.Skipf("go tool -n trace: %v", err)
	}
	for _, c := range []struct {
		kind string
		got  Duration
	}{
		{"sync", m.Blocking.Sync},
		{"net", m.Blocking.Net},
		{"syscall", m.Syscalls.Dist.Total},
		{"sched", m.Sched.Latency.Total},
	} {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "-pprof="+c.kind, path)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil && strings.Contains(stderr.String(), "failed to find matching goroutines") {
			// N.B. go tool trace fails on a trace with no goroutines
			// rather than write an empty profile.
			out, err = nil, nil
		}
		if err != nil {
			t.Fatalf("go tool trace -pprof=%s: %v: %s", c.kind, err, bytes.TrimSpace(stderr.Bytes()))
		}
		want := int64(0)
		if len(out) > 0 {
			p, err := profile.Parse(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("parsing -pprof=%s: %v", c.kind, err)
			}
			for _, s := range p.Sample {
				want += s.Value[1]
			}
		}
		if diff := math.Abs(float64(int64(c.got) - want)); diff > 0.001*float64(want) {
			t.Errorf("%s total = %d ns, go tool trace -pprof=%s says %d ns", c.kind, int64(c.got), c.kind, want)
		}
	}
}

// goroot returns the GOROOT of the go command on the PATH.
func goroot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// gorootCorpus is the Go tree's trace tests (see reftest.GorootCorpus).
func gorootCorpus(t *testing.T) []reftest.CorpusTrace {
	t.Helper()
	cs, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestGorootCorpus runs the Go tree's trace tests: the valid ones analyse
// without error, the invalid ones give an error, and none panics.
func TestGorootCorpus(t *testing.T) {
	corpus := gorootCorpus(t)
	if len(corpus) == 0 {
		t.Skip("no trace tests in GOROOT")
	}
	for _, c := range corpus {
		t.Run(c.Name, func(t *testing.T) {
			expect, data := c.Expect, c.Data
			m, err := computeBytes(t, data)
			if strings.HasPrefix(string(expect), "SUCCESS") {
				if err != nil {
					t.Fatalf("valid trace: %v", err)
				}
				if m.Overview.Events == 0 {
					t.Error("no events")
				}
				checkXExpCounts(t, data, m)
				if !testing.Short() {
					path := filepath.Join(t.TempDir(), "trace")
					if err := os.WriteFile(path, data, 0o666); err != nil {
						t.Fatal(err)
					}
					checkGoToolTrace(t, path, m)
				}
				return
			}
			if err == nil {
				t.Fatalf("invalid trace (%s) analysed without error", bytes.TrimSpace(expect))
			}
		})
	}
}

// TestOldFormat reads the Go 1.11–1.21 traces in the Go tree: every
// section that does not need the v2 wire tables is there.
func TestOldFormat(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(goroot(t), "src", "internal", "trace", "internal", "tracev1", "testdata", "*_good"))
	if len(files) == 0 {
		t.Skip("no v1 traces in GOROOT")
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Size() > 64<<10 {
			continue // keep the test fast
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := computeBytes(t, data)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Overview.Version, "go1.") || m.Overview.Events == 0 || m.Overview.Duration <= 0 {
				t.Errorf("overview = %+v", m.Overview)
			}
			if m.Goroutines.PeakAlive == 0 || m.Goroutines.Running == 0 {
				t.Errorf("goroutines = %+v", m.Goroutines)
			}
			if len(m.Overview.Footprint) != 0 || len(m.Overview.PerGeneration) != 0 {
				t.Errorf("a v1 trace has wire tables: %d footprint rows, %d generations", len(m.Overview.Footprint), len(m.Overview.PerGeneration))
			}
		})
	}
}

func BenchmarkStats(b *testing.B) {
	data := readTrace(b, "leaky.trace")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Compute(context.Background(), "leaky.trace", bytes.NewReader(data), int64(len(data)), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatsBenchTrace analyses the half-generations prefix of the
// bench's stress trace (make bench writes it) a generation at a time on
// one worker, and reads the same bytes with the bare
// golang.org/x/exp/trace loop, so that the two and a CPU profile of each
// (-cpuprofile) show what the analysis costs over reading. It skips when
// the trace is missing.
func BenchmarkStatsBenchTrace(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bench", "stress-half.trace"))
	if err != nil {
		b.Skip(err)
	}
	b.Run("stats", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := Compute(context.Background(), "stress-half.trace", bytes.NewReader(data), int64(len(data)), Options{Workers: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("xexp", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := eachXExpEvent(bytes.NewReader(data), func(*trace.Event) bool { return true }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestOneNamePerGoroutine lists every scheduling wait and requires each
// goroutine to go by one start function in the list, whether or not its
// stacks had shown it yet when it waited, in one ordered pass and in parts.
func TestOneNamePerGoroutine(t *testing.T) {
	inputs := map[string][]byte{}
	for _, path := range committedTraces(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(path)] = data
	}
	for _, c := range gorootCorpus(t) {
		if c.Valid() {
			inputs[c.Name] = c.Data
		}
	}
	late := 0
	for name, data := range inputs {
		for _, ordered := range []bool{true, false} {
			opts := Options{Top: 1 << 20, Workers: 2, ordered: ordered}
			m, err := Compute(context.Background(), name, bytes.NewReader(data), int64(len(data)), opts)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			names := map[int64]string{}
			for _, w := range m.Findings.SchedWaits {
				if prev, ok := names[w.Goroutine]; ok && prev != w.Func {
					t.Errorf("%s (ordered %v): goroutine %d is listed as %s and as %s", name, ordered, w.Goroutine, prev, w.Func)
				}
				names[w.Goroutine] = w.Func
				if w.Func != unknownFunc && len(w.Stack) == 0 {
					late++
				}
			}
		}
	}
	// N.B. The committed traces have goroutines running when tracing
	// starts, named only later: the case this is about.
	if late == 0 {
		t.Error("no wait was named after it was listed: the test tests nothing")
	}
}

// TestWireCountsMatchGoToolTrace: overview.batches and wire_events count
// what go tool trace -d=wire lists, by their definitions: batches without
// the EndOfGeneration markers, and events without batch headers, table
// entries and end markers.
func TestWireCountsMatchGoToolTrace(t *testing.T) {
	bin, err := goToolTrace()
	if err != nil {
		t.Skipf("go tool -n trace: %v", err)
	}
	notEvents := map[string]bool{"EventBatch": true, "ExperimentalBatch": true, "EndOfGeneration": true,
		"Strings": true, "String": true, "Stacks": true, "Stack": true, "CPUSamples": true, "CPUSample": true}
	for _, path := range committedTraces(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, m := computeFile(t, path)
			out, err := exec.Command(bin, "-d=wire", path).Output()
			if err != nil {
				t.Fatal(err)
			}
			var batches, events int64
			for line := range strings.Lines(string(out)) {
				if line == "" || line[0] == ' ' || line[0] == '\t' {
					continue // a stack frame or a string's data
				}
				name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
				switch {
				case name == "EventBatch" || name == "ExperimentalBatch":
					batches++
				case !notEvents[name] && !strings.Contains(name, "="):
					events++
				}
			}
			if int64(m.Overview.Batches) != batches || m.Overview.WireEvents != events {
				t.Errorf("batches %d, wire events %d; go tool trace -d=wire lists %d and %d", m.Overview.Batches, m.Overview.WireEvents, batches, events)
			}
		})
	}
}
