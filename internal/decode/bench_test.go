package decode

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// benchTrace names the trace the benchmarks read; by default the committed
// demo trace. go test -bench . ./internal/decode -args -benchtrace=FILE
var benchTrace = flag.String("benchtrace", filepath.Join("..", "..", "testdata", "traces", "demo.trace"), "trace file for the benchmarks")

func benchData(b *testing.B) []byte {
	data, err := os.ReadFile(*benchTrace)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkDecode decodes every event and table of the trace.
func BenchmarkDecode(b *testing.B) { benchDecode(b, Full) }

// BenchmarkDecodeCounts decodes the tables and walks the other events only
// to count them (what gotrace decode counts before printing).
func BenchmarkDecodeCounts(b *testing.B) { benchDecode(b, Counts) }

// BenchmarkDecodeFrames frames the batches and decodes the tables only
// (what gotrace decode --summary reads).
func BenchmarkDecodeFrames(b *testing.B) { benchDecode(b, Frames) }

func benchDecode(b *testing.B, d Detail) { benchDecodeWith(b, d, nil) }

// benchDecodeWith reads the benchmark trace with detail d, calling gen (when
// not nil) on each generation.
func benchDecodeWith(b *testing.B, d Detail, gen func(*Reader, *Generation)) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		r.SetDetail(d)
		gens := 0
		for {
			g, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if gen != nil {
				gen(r, g)
			}
			gens++
		}
		if gens == 0 {
			b.Fatal("no generations")
		}
	}
}

// BenchmarkWalk is the floor: frame the batches and read every event's
// uvarints, storing nothing.
func BenchmarkWalk(b *testing.B) {
	data := benchData(b)
	v, err := format.ParseHeader(data)
	if err != nil {
		b.Fatal(err)
	}
	specs := v.Specs()
	b.SetBytes(int64(len(data)))
	defer reportCPU(b)()
	for b.Loop() {
		if n := walkOnly(data[format.HeaderSize:], specs); n == 0 {
			b.Fatal("no events")
		}
	}
}

// reportCPU reports the process's CPU time per operation (user and
// system, garbage collection included) as cpu-ns/op: on a shared machine it
// moves less than wall time. Call the returned function when done.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// walkOnly counts the events of a well-formed trace.
func walkOnly(data []byte, specs *[256]format.EventSpec) int {
	events := 0
	uv := func(i int) (uint64, int) {
		v, n := format.Uvarint(data[i:])
		return v, i + n
	}
	for i := 0; i < len(data); {
		typ := format.EventType(data[i])
		i++
		if typ == format.EvEndOfGeneration {
			continue
		}
		if typ == format.EvExperimentalBatch {
			i++
		}
		var size uint64
		for k := 0; k < 4; k++ {
			size, i = uv(i)
		}
		end := i + int(size)
		if typ == format.EvExperimentalBatch {
			i = end
			continue
		}
		for i < end {
			s := &specs[data[i]]
			i++
			var nframes uint64
			for k := range s.Args {
				var a uint64
				a, i = uv(i)
				if k == 1 {
					nframes = a
				}
			}
			if s.IsStack {
				for range 4 * nframes {
					_, i = uv(i)
				}
			}
			if s.HasData {
				var l uint64
				l, i = uv(i)
				i += int(l)
			}
			events++
		}
	}
	return events
}

// BenchmarkDecodeStream decodes every event and table the way a streaming
// consumer does: tables per generation, then each event of each batch, with
// its arguments, handed to a function one at a time (EachEvent), so memory
// stays at the size of the largest generation's bytes.
func BenchmarkDecodeStream(b *testing.B) {
	n := 0
	each := func(ev *Event) error { n += len(ev.Args); return nil }
	benchDecodeWith(b, Frames, func(r *Reader, g *Generation) {
		for i := range g.Batches {
			if err := r.EachEvent(g, i, each); err != nil {
				b.Fatal(err)
			}
		}
	})
	if n == 0 {
		b.Fatal("no events")
	}
}

// BenchmarkDecodeParallel is BenchmarkDecodeStream with the generations
// decoded on every core by Reader.Parallel.
func BenchmarkDecodeParallel(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	defer reportCPU(b)()
	var n atomic.Int64
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		r.SetDetail(Frames)
		err = r.Parallel(0, func(gr *GenReader, g *Generation) error {
			args := 0
			each := func(ev *Event) error { args += len(ev.Args); return nil }
			for i := range g.Batches {
				if err := gr.EachEvent(g, i, each); err != nil {
					return err
				}
			}
			n.Add(int64(args))
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if n.Load() == 0 {
		b.Fatal("no events")
	}
}
