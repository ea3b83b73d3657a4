package stats

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"golang.org/x/exp/trace"
)

// heapEvents is what the test reads of a trace's heap events with
// golang.org/x/exp/trace alone.
type heapEvents struct {
	allocs, frees int64
	byType        map[string]int64 // objects by type name
	typeBytes     int64            // the types' sizes, summed over the objects of known type
	byStart       map[string]int64 // objects by the outermost frame of the allocating goroutine's creation stack
}

func readHeapEvents(t *testing.T, data []byte) heapEvents {
	t.Helper()
	r, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	h := heapEvents{byType: map[string]int64{}, byStart: map[string]int64{}}
	types := map[uint64]decode.Type{}
	start := map[trace.GoID]string{}
	allocBy := map[trace.GoID]int64{}
	for {
		ev, err := r.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind() {
		case trace.EventSync:
			types = map[uint64]decode.Type{}
			for _, b := range ev.Sync().ExperimentalBatches["AllocFree"] {
				ts, _, err := decode.ParseAllocFree(b.Data, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, ty := range ts {
					types[ty.ID] = ty
				}
			}
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			if from, _ := st.Goroutine(); from == trace.GoNotExist {
				var last string
				for f := range st.Stack.Frames() {
					last = f.Func
				}
				start[st.Resource.Goroutine()] = last
			}
		case trace.EventExperimental:
			x := ev.Experimental()
			switch x.Name {
			case "HeapObjectAlloc":
				h.allocs++
				id := x.ArgValue(1).Uint64()
				if ty, ok := types[id]; ok {
					h.byType[ty.Name]++
					h.typeBytes += int64(ty.Size)
				} else if id == 0 {
					h.byType[untyped]++
				}
				allocBy[ev.Goroutine()]++
			case "HeapObjectFree":
				h.frees++
			}
		}
	}
	for id, n := range allocBy {
		if fn, ok := start[id]; ok {
			h.byStart[fn] += n
		}
	}
	return h
}

func TestAllocsAgreeWithHeapEvents(t *testing.T) {
	for _, path := range []string{
		filepath.Join("..", "..", "testdata", "traces", "allocfree.trace"),
		filepath.Join("..", "..", "testdata", "heap", "workers-allocfree.trace"),
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Compute(context.Background(), path, bytes.NewReader(data), int64(len(data)), Options{Top: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			a := m.Heap.Allocs
			want := readHeapEvents(t, data)
			if !a.Traced || a.Objects != want.allocs || a.Freed != want.frees {
				t.Fatalf("traced %v, %d objects allocated and %d freed; the trace has %d HeapObjectAlloc and %d HeapObjectFree events", a.Traced, a.Objects, a.Freed, want.allocs, want.frees)
			}
			if a.Estimated != 0 {
				t.Errorf("%d objects sized by their type: the trace's span snapshot should cover every object", a.Estimated)
			}
			// Each object takes at least its type's size.
			var known int64
			var sum ByteCount
			for _, g := range a.ByType {
				if n, ok := want.byType[g.Name]; !ok || n != g.Objects {
					t.Errorf("type %s: %d objects, the events say %d", g.Name, g.Objects, n)
				}
				if g.Name != untyped {
					known += int64(g.Bytes)
				}
				sum += g.Bytes
			}
			if known < want.typeBytes {
				t.Errorf("%d bytes of typed objects, less than their types' sizes add up to (%d)", known, want.typeBytes)
			}
			if sum != a.Bytes {
				t.Errorf("the types' bytes add up to %d, the total is %d", sum, a.Bytes)
			}
			checked := 0
			for _, g := range a.ByGoroutine {
				if n, ok := want.byStart[g.Name]; ok {
					checked++
					if n != g.Objects {
						t.Errorf("goroutines started at %s: %d objects, the events say %d", g.Name, g.Objects, n)
					}
				}
			}
			if checked == 0 {
				t.Errorf("no goroutine created in the trace allocated: %+v", a.ByGoroutine)
			}
		})
	}
}

// TestAllocsKnownProgram checks the bytes against the program that wrote
// the trace: testdata/progs/allocfree allocates 600 main.node values of
// 40 bytes, each in the allocator's 48-byte size class.
func TestAllocsKnownProgram(t *testing.T) {
	data := readTrace(t, "allocfree.trace")
	m, err := computeBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range m.Heap.Allocs.ByType {
		if g.Name == "main.node" {
			if g.Objects != 600 || g.Bytes != 600*48 {
				t.Errorf("main.node: %d objects, %d bytes; want 600 and %d", g.Objects, g.Bytes, 600*48)
			}
			return
		}
	}
	t.Errorf("no main.node row in %+v", m.Heap.Allocs.ByType)
}

// TestAllocsAbsentWithoutHeapEvents: a trace without the experiment says
// so, not zero allocations.
func TestAllocsAbsentWithoutHeapEvents(t *testing.T) {
	_, m := computeFile(t, filepath.Join("..", "..", "testdata", "traces", "demo.trace"))
	if m.Heap.Allocs.Traced || m.Heap.Allocs.Objects != 0 {
		t.Errorf("demo.trace: allocs %+v, want none traced", m.Heap.Allocs)
	}
}
