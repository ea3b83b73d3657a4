package record

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// TestCompletePrefix cuts traces at every byte: salvage keeps the
// generations that were complete at the cut, as the decoder frames them.
// A Go 1.26 generation is complete at its EndOfGeneration; an older one
// once the header of the next generation's first batch is there, never
// when the input ends in it.
func TestCompletePrefix(t *testing.T) {
	gens := []uint64{1, 1, 2, 2, 2, 3}
	for _, v := range []format.Version{format.Go123, format.Go126} {
		data := genTrace(t, v, 300, gens...)
		// starts[i] is where batch i begins, heads[i] where its header
		// ends; ends[g-1] is the end of generation g.
		var starts, heads, ends []int
		for i := range gens {
			start := len(genTrace(t, v, 300, gens[:i]...))
			if v >= format.Go126 && i > 0 && gens[i] == gens[i-1] {
				start-- // no EndOfGeneration between them
			}
			h := start + 1
			for range 4 { // gen, m, time, size
				_, n := format.Uvarint(data[h:])
				h += n
			}
			starts, heads = append(starts, start), append(heads, h)
			if i == len(gens)-1 || gens[i+1] != gens[i] {
				ends = append(ends, len(genTrace(t, v, 300, gens[:i+1]...)))
			}
		}
		for cut := 0; cut <= len(data); cut++ {
			want, keep := 0, 0 // complete generations, bytes kept
			for i := range gens {
				g := int(gens[i])
				switch {
				case v >= format.Go126:
					if ends[g-1] <= cut {
						want, keep = g, ends[g-1]
					}
				case i > 0 && gens[i-1] != gens[i] && heads[i] <= cut:
					want, keep = g-1, ends[g-2]
				case i > 0 && cut == starts[i]+1:
					// Before Go 1.26, a cut one byte into a batch
					// header, its generation missing, ends the
					// generation before it, as golang.org/x/exp/trace
					// reads it: rule 5 of decode.Framer.
					want, keep = int(gens[i-1]), starts[i]
				}
			}
			got, n, err := completePrefix(bytes.NewReader(data[:cut]))
			if want == 0 {
				if !errors.Is(err, errNothingComplete) {
					t.Errorf("%v, cut at %d: kept %d bytes, %d generations, %v; want nothing complete", v, cut, got, n, err)
				}
				continue
			}
			if err != nil || n != want || got != int64(keep) {
				t.Errorf("%v, cut at %d: kept %d bytes, %d generations, %v; want %d, %d", v, cut, got, n, err, keep, want)
			}
		}
	}

	// Damage ends the salvage: what comes after it is not kept.
	for _, tc := range []struct {
		v       format.Version
		gens    []uint64
		batches int // the batches kept
		want    int // in as many generations
	}{
		{format.Go126, []uint64{1, 2, 5, 6}, 2, 2},
		{format.Go126, []uint64{4, 5, 4, 5}, 2, 2},
		// Before Go 1.26, the batch of another generation is damage in
		// the one being read, which is not complete.
		{format.Go123, []uint64{1, 2, 5, 6}, 1, 1},
		{format.Go123, []uint64{1, 2, 2, 3, 2}, 3, 2},
	} {
		data := genTrace(t, tc.v, 10, tc.gens...)
		keep, n, err := completePrefix(bytes.NewReader(data))
		want := len(genTrace(t, tc.v, 10, tc.gens[:tc.batches]...))
		if err != nil || n != tc.want || keep != int64(want) {
			t.Errorf("%v %v: kept %d bytes, %d generations, %v; want %d bytes, %d generations", tc.v, tc.gens, keep, n, err, want, tc.want)
		}
	}
	for _, data := range [][]byte{nil, []byte("garbage"), format.AppendHeader(nil, format.Go126), format.AppendHeader(nil, format.Go121)} {
		if _, _, err := completePrefix(bytes.NewReader(data)); !errors.Is(err, errNothingComplete) {
			t.Errorf("%q: %v, want nothing complete", data, err)
		}
	}
}

// TestNotATrace: record writes over a trace, an empty file, a device or
// nothing, and refuses, before writing, a file that holds something else
// (-o main.go), which it leaves as it was.
func TestNotATrace(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	empty := filepath.Join(dir, "empty.trace")
	short := filepath.Join(dir, "short")
	for p, data := range map[string]string{src: "package main\n\nfunc main() {}\n", empty: "", short: "go"} {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"../../testdata/traces/leaky.trace", empty, filepath.Join(dir, "new.trace"), os.DevNull} {
		if err := notATrace(p); err != nil {
			t.Errorf("%s: %v, want it written", p, err)
		}
	}
	for _, p := range []string{src, short} {
		err := notATrace(p)
		if err == nil || !strings.Contains(err.Error(), "is not a Go execution trace") {
			t.Errorf("%s: %v, want it refused", p, err)
		}
		if _, cerr := createOutput(p); cerr == nil {
			t.Errorf("%s: createOutput took it", p)
		}
	}
	if got, err := os.ReadFile(src); err != nil || !strings.HasPrefix(string(got), "package main") {
		t.Errorf("%s changed: %q, %v", src, got, err)
	}
}
