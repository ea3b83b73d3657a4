package stats

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline/timelinetest"
)

// partTrace names more traces for TestPartsMatchOrdered, comma-separated:
// go test ./internal/stats -run PartsMatch -args -parttrace=FILE
var partTrace = flag.String("parttrace", "", "more traces to analyse in parts and in order")

// TestPartsMatchOrdered analyses traces in parts, one per generation, on
// one and on several workers, and in one ordered pass: the models must be
// the same.
func TestPartsMatchOrdered(t *testing.T) {
	traces := map[string][]byte{}
	for _, path := range committedTraces(t) {
		traces[filepath.Base(path)] = readFile(t, path)
	}
	for _, c := range gorootCorpus(t) {
		if c.Valid() {
			traces[c.Name] = c.Data
		}
	}
	if !testing.Short() {
		// Its second generation begins halfway through the first: the
		// parts' prefixes are tens of thousands of events.
		traces["overlap.trace, overlapped"] = timelinetest.Overlapped(t, traces["overlap.trace"])
		traces["stress"] = stressTrace(t)
	}
	if *partTrace != "" {
		for _, path := range strings.Split(*partTrace, ",") {
			traces[filepath.Base(path)] = readFile(t, path)
		}
	}
	for name, data := range traces {
		t.Run(name, func(t *testing.T) {
			want := modelJSON(t, bytes.NewReader(data), int64(len(data)), Options{ordered: true})
			// N.B. A file is read a way of its own: the decoder maps it.
			path := filepath.Join(t.TempDir(), "trace")
			if err := os.WriteFile(path, data, 0o666); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, in := range []struct {
				name    string
				r       io.ReaderAt
				workers int
			}{{"in memory, 1 worker", bytes.NewReader(data), 1}, {"in memory, 3 workers", bytes.NewReader(data), 3}, {"a file, 2 workers", f, 2}} {
				got := modelJSON(t, in.r, int64(len(data)), Options{Workers: in.workers, partsOnly: true})
				if !bytes.Equal(got, want) {
					t.Errorf("%s: the model differs from the ordered pass's:\n%s", in.name, firstDiff(got, want))
				}
			}
		})
	}
}

// TestPartsMatchOrderedMovedBack moves the second generation of traces
// back by more and more (timelinetest.MoveBack), from an overlap of a few
// events to one of most of a generation: whatever the part's prefix, the
// model analysed in parts is the ordered pass's.
func TestPartsMatchOrderedMovedBack(t *testing.T) {
	if testing.Short() {
		t.Skip("the parts' concurrency is tested by TestPartsMatchOrdered")
	}
	for _, name := range []string{"flight.trace", "hotlock.trace"} {
		data := readTrace(t, name)
		for _, ticks := range []int64{1000, 30000, 300000, -1} {
			moved, err := timelinetest.MoveBack(data, ticks)
			if err != nil {
				t.Fatal(err)
			}
			want := modelJSON(t, bytes.NewReader(moved), int64(len(moved)), Options{ordered: true})
			got := modelJSON(t, bytes.NewReader(moved), int64(len(moved)), Options{Workers: 2, partsOnly: true})
			if !bytes.Equal(got, want) {
				t.Errorf("%s moved back %d ticks: the model differs from the ordered pass's:\n%s", name, ticks, firstDiff(got, want))
			}
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func modelJSON(t *testing.T, r io.ReaderAt, size int64, opts Options) []byte {
	t.Helper()
	m, err := Compute(context.Background(), "t.trace", r, size, opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// firstDiff shows the lines around the first difference of got and want.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(g), len(w)) && shown < 12; i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  got:  %s\n  want: %s\n", i+1, gl, wl)
			shown++
		}
	}
	return b.String()
}

// stressTrace records the project's stress program for over a second, so
// goroutines, ranges and GC work cross generation boundaries.
func stressTrace(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stress.trace")
	cmd := exec.Command("go", "run", filepath.Join("..", "..", "testdata", "progs", "stress"),
		"-o", path, "-duration", "1300ms", "-size", "30000000",
		"-rings", "8", "-ring-len", "20", "-mutexers", "40", "-sleepers", "100", "-conns", "4", "-allocators", "2")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stress program: %v\n%s", err, out)
	}
	return readFile(t, path)
}

// TestProgressInParts: read in parts, progress still only grows, never
// passes the file's size, and ends at it.
func TestProgressInParts(t *testing.T) {
	data := readTrace(t, "annotated.trace")
	var mu sync.Mutex
	var done []int64
	opts := Options{Workers: 2, partsOnly: true, Progress: func(d, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if total != int64(len(data)) {
			t.Errorf("total %d, want %d", total, len(data))
		}
		done = append(done, d)
	}}
	if _, err := Compute(context.Background(), "t.trace", bytes.NewReader(data), int64(len(data)), opts); err != nil {
		t.Fatal(err)
	}
	if len(done) == 0 {
		t.Fatal("no progress")
	}
	for i, d := range done {
		if d > int64(len(data)) || i > 0 && d < done[i-1] {
			t.Fatalf("progress %v: past the size (%d) or going back", done, len(data))
		}
	}
	if last := done[len(done)-1]; last != int64(len(data)) {
		t.Errorf("progress ends at %d, want %d", last, len(data))
	}
}
