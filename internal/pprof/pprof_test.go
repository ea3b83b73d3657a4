package pprof

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/gotool"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/timelinetest"
	"golang.org/x/exp/trace"
)

// traces returns the committed traces the tests read.
func traces(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../testdata/traces/*.trace")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no traces in testdata/traces")
	}
	return append(files, overlapped(t))
}

// overlapped writes the committed overlap.trace with its second generation
// moved back to halfway through the first (timelinetest.Overlapped): read
// in parts, it overlaps by far more than the timeline's Merge mends, so
// the profile is counted in order.
func overlapped(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../testdata/traces/overlap.trace")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "overlapped.trace")
	if err := os.WriteFile(path, timelinetest.Overlapped(t, data), 0o666); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOverlappedInOrder: the generations of a trace that overlap more
// than Merge mends are no damage: the profile is counted in one ordered
// pass at once, and is the one a reader that cannot read at offsets gets.
func TestOverlappedInOrder(t *testing.T) {
	path := overlapped(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	got, err := BuildWith(context.Background(), bytes.NewReader(data), Sched, Filter{}, func() { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("read in order %d times, want once", calls)
	}
	want, err := Build(context.Background(), struct{ io.ReadSeeker }{bytes.NewReader(data)}, Sched, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if g, w := byStack(got), byStack(want); !maps.Equal(g, w) {
		t.Errorf("in parts %v, in order %v", g, w)
	}
}

func build(t *testing.T, file string, typ Type, f Filter) *profile.Profile {
	t.Helper()
	r, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := Build(context.Background(), r, typ, f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	// Every profile goes through pprof's own encoder and parser, as go tool
	// pprof would read it.
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := profile.Parse(&buf)
	if err != nil {
		t.Fatalf("profile.Parse: %v", err)
	}
	if err := back.CheckValid(); err != nil {
		t.Fatal(err)
	}
	return back
}

// byStack sums a profile's samples by their stacks of function names.
func byStack(p *profile.Profile) map[string][2]int64 {
	m := make(map[string][2]int64)
	for _, s := range p.Sample {
		var names []string
		for _, l := range s.Location {
			for _, ln := range l.Line {
				names = append(names, ln.Function.Name)
			}
		}
		k := strings.Join(names, ";")
		v := m[k]
		v[0] += s.Value[0]
		v[1] += s.Value[1]
		m[k] = v
	}
	return m
}

func total(p *profile.Profile, i int) int64 {
	var n int64
	for _, s := range p.Sample {
		n += s.Value[i]
	}
	return n
}

// TestAgreesWithGoToolTrace compares each state profile with the one go tool
// trace -pprof writes for the same file: the same stacks, the same totals.
func TestAgreesWithGoToolTrace(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	names := map[Type]string{Sched: "sched", Block: "sync", Net: "net", Syscall: "syscall"}
	// N.B. Not the overlapped trace: it is read in one ordered pass, as a
	// stream is, whose profiles these traces check already.
	files := slices.DeleteFunc(traces(t), func(f string) bool { return filepath.Base(f) == "overlapped.trace" })
	if !testing.Short() {
		files = append(files, stressTrace(t, goTool))
	}
	for _, file := range files {
		// N.B. Read once for the four profiles.
		in, ok := timelinetest.GoToolTraceInput(t, file)
		for typ, name := range names {
			if (typ == Net || typ == Syscall) && !everyKind[filepath.Base(file)] {
				// N.B. go tool trace takes a run for each type: the
				// traces of every kind of wait are enough for these two,
				// which stats' totals hold on every trace
				// (TestAgreesWithStats).
				continue
			}
			t.Run(filepath.Base(file)+"/"+string(typ), func(t *testing.T) {
				if !ok {
					t.Skip("goroutine IDs are reused, which go tool trace merges and gotrace does not")
				}
				out, err := gotool.Trace("-pprof="+name, in).Output()
				if err != nil {
					t.Skipf("go tool trace -pprof=%s: %v", name, err)
				}
				want, err := profile.Parse(bytes.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				got := build(t, file, typ, Filter{})
				if file == annotated && len(want.Sample) == 0 {
					t.Errorf("go tool trace finds no %s time in %s, which exercises every kind", name, file)
				}
				wantTotal, gotTotal := total(want, 1), total(got, 1)
				if diff := max(wantTotal-gotTotal, gotTotal-wantTotal); float64(diff) > 0.001*float64(wantTotal) {
					t.Errorf("total delay = %v, go tool trace says %v", time.Duration(gotTotal), time.Duration(wantTotal))
				}
				if total(got, 0) != total(want, 0) {
					t.Errorf("total count = %d, go tool trace says %d", total(got, 0), total(want, 0))
				}
				ws, gs := byStack(want), byStack(got)
				for k, v := range ws {
					if gs[k] != v {
						t.Errorf("stack %s: got %v, go tool trace says %v", k, gs[k], v)
					}
				}
				for k, v := range gs {
					if _, ok := ws[k]; !ok {
						t.Errorf("stack %s: got %v, go tool trace has no such stack", k, v)
					}
				}
			})
		}
	}
}

const annotated = "../../testdata/traces/annotated.trace"

// everyKind are the traces with waits of every kind, the network's too.
var everyKind = map[string]bool{"annotated.trace": true, "hotlock.trace": true, "stress.trace": true}

// stressTrace records a trace of a few megabytes with the stress program:
// hundreds of goroutines contending on channels, mutexes, timers, the
// network and system calls, so many more stacks than the committed traces.
func stressTrace(t *testing.T, goTool string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "stress.trace")
	cmd := exec.Command(goTool, "run", "../../testdata/progs/stress", "-o", file, "-size", "2000000", "-duration", "20s")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("recording a stress trace: %v\n%s", err, out)
	}
	return file
}

// events reads a trace with x/exp/trace, the reference reader.
func events(t *testing.T, file string) []trace.Event {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := trace.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var evs []trace.Event
	for {
		ev, err := r.ReadEvent()
		if err != nil {
			if err.Error() == "EOF" {
				return evs
			}
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
}

func TestCPU(t *testing.T) {
	var samples int64
	for _, ev := range events(t, annotated) {
		if ev.Kind() == trace.EventStackSample {
			samples++
		}
	}
	p := build(t, annotated, CPU, Filter{})
	if got := total(p, 0); got != samples || samples == 0 {
		t.Errorf("samples = %d, want %d (and more than none)", got, samples)
	}
	if got := total(p, 1); got != samples*int64(CPUSamplePeriod) {
		t.Errorf("cpu = %v, want %v", time.Duration(got), time.Duration(samples)*CPUSamplePeriod)
	}
	if !strings.Contains(fmt.Sprint(byStack(p)), "main.spin") {
		t.Errorf("no sample in main.spin: %v", byStack(p))
	}
}

// regionTimes sums region wall time by name.
func regionTimes(t *testing.T, file string) map[string]int64 {
	sums := make(map[string]int64)
	for _, r := range regionSpans(t, file) {
		sums[r.name] += int64(r.end - r.start)
	}
	return sums
}

func TestRegionAndTask(t *testing.T) {
	want := regionTimes(t, annotated)
	p := build(t, annotated, Region, Filter{})
	got := make(map[string]int64)
	for _, s := range p.Sample {
		got[s.Label["region"][0]] += s.Value[1]
		if leaf := s.Location[0].Line[0].Function.Name; leaf != "region "+s.Label["region"][0] {
			t.Errorf("leaf frame %q, want the region's name", leaf)
		}
	}
	for _, name := range []string{"compute", "channels", "locks", "network", "files", "alloc", "item", "idle"} {
		if want[name] == 0 || got[name] != want[name] {
			t.Errorf("region %q: %v, want %v", name, time.Duration(got[name]), time.Duration(want[name]))
		}
	}

	tp := build(t, annotated, Task, Filter{})
	tasks := make(map[string]int64)
	for _, s := range tp.Sample {
		tasks[s.Label["task"][0]] += s.Value[0]
	}
	if tasks["job"] != 1 || tasks["worker"] != 4 {
		t.Errorf("tasks = %v, want job 1 and worker 4", tasks)
	}
	// The job task holds every region of the main goroutine but the idle ones.
	job := total(tp, 1) - sumWhere(tp, "task", "worker")
	if inner := want["compute"] + want["channels"] + want["locks"] + want["network"] + want["files"] + want["alloc"]; job < inner {
		t.Errorf("job task %v is shorter than its regions %v", time.Duration(job), time.Duration(inner))
	}
}

func sumWhere(p *profile.Profile, key, val string) int64 {
	var n int64
	for _, s := range p.Sample {
		if slices.Contains(s.Label[key], val) {
			n += s.Value[1]
		}
	}
	return n
}

func TestNoMatch(t *testing.T) {
	f, err := os.Open(annotated)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, flt := range []Filter{{Goroutine: "no.such"}, {Region: "nope"}, {Task: "nope"}, {From: time.Hour}} {
		if _, err := f.Seek(0, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := Build(context.Background(), f, Block, flt); !errors.Is(err, ErrNoMatch) {
			t.Errorf("%+v: err = %v, want ErrNoMatch", flt, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(ctx, f, Sched, Filter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err %v, want context.Canceled", err)
	}
	if _, err := ParseType("heap"); err == nil || !strings.Contains(err.Error(), "cpu, sched") {
		t.Errorf("ParseType(heap) = %v", err)
	}
	if _, err := Build(context.Background(), bytes.NewReader([]byte("not a trace at all")), CPU, Filter{}); err == nil {
		t.Error("Build of garbage succeeded")
	}
}

// TestTruncatedIsItsPrefix: the profile of a trace cut inside its last
// generation is the profile of its complete generations, stack for stack,
// and comes with the damage.
func TestTruncatedIsItsPrefix(t *testing.T) {
	for _, name := range []string{"annotated.trace", "demo.trace", "flight.trace", "hotlock.trace", "overlap.trace"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "traces", name))
		if err != nil {
			t.Fatal(err)
		}
		v, err := format.ParseHeader(data[:format.HeaderSize])
		if err != nil {
			t.Fatal(err)
		}
		spans, err := timeline.Framed(context.Background(), bytes.NewReader(data), int64(len(data)), v)
		if err != nil || len(spans) < 2 {
			t.Fatalf("%s: %d generations (%v), want several", name, len(spans), err)
		}
		last := spans[len(spans)-1]
		for _, typ := range []Type{Sched, Block, Syscall, CPU} {
			t.Run(name+"/"+string(typ), func(t *testing.T) {
				cut, err := Build(context.Background(), bytes.NewReader(data[:last.Off+(last.End-last.Off)/2]), typ, Filter{})
				if !errors.Is(err, timeline.ErrDamaged) {
					t.Fatalf("cut: error %v, want damage", err)
				}
				prefix, err := Build(context.Background(), bytes.NewReader(data[:last.Off]), typ, Filter{})
				if err != nil {
					t.Fatal(err)
				}
				got, want := byStack(cut), byStack(prefix)
				if len(got) != len(want) {
					t.Errorf("%d stacks, the complete generations' profile %d", len(got), len(want))
				}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("stack %s: %v, the complete generations' profile %v", k, got[k], v)
					}
				}
			})
		}
	}
}
