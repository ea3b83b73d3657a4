package decode

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// FuzzDecode feeds arbitrary bytes to the Reader, read with Full detail
// with Frames and EachEvent, and with Parallel. Seeds are every trace test of the Go tree,
// every fixture in testdata and every committed trace. Decoding must not
// panic, must end in io.EOF or a *Error inside the input, and must allocate
// in proportion to the input.
func FuzzDecode(f *testing.F) {
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	for _, file := range append(peerTests(f), fixtures...) {
		data, _ := assembleTest(f, file)
		f.Add(data)
	}
	traces, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "traces", "*.trace"))
	for _, file := range traces {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add(format.AppendHeader(nil, format.Go126))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		gens, err := readAll(t, data)
		each, eachErr := readEach(t, data)
		par, _, parErr := readParallel(t, bytes.NewReader(data), Frames, true, 2)
		runtime.ReadMemStats(&after)
		// Parallel reports what the loop over Next with EachEvent
		// reports, after the same generations at least.
		if fmt.Sprint(parErr) != fmt.Sprint(eachErr) {
			t.Fatalf("Parallel: error %v, EachEvent %v", parErr, eachErr)
		}
		for _, n := range each {
			if _, ok := par[n]; !ok {
				t.Fatalf("Parallel did not read generation %d", n)
			}
		}
		// Frames with EachEvent (what gotrace decode reads) delivers the
		// same generations, or fewer when it stops at damage in events
		// that framing does not see, and fails when Full fails.
		if len(each) > len(gens) || (err != nil) != (eachErr != nil) && len(each) == len(gens) {
			t.Fatalf("EachEvent read generations %v (error %v), Next in Full %v (error %v)", each, eachErr, gens, err)
		}
		// The read buffer starts at 256 KiB; past it, backing arrays
		// grow with the generation: at most a few dozen bytes of
		// events, arguments and frames per input byte.
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(4<<20+256*len(data)); got > limit {
			t.Fatalf("decoding %d bytes allocated %d bytes, want at most %d", len(data), got, limit)
		}
	})
}

// readEach reads data with Frames detail, every event through EachEvent,
// and returns the generations it read in full and the error that stopped it
// (nil at a clean end).
func readEach(t *testing.T, data []byte) ([]uint64, error) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	r.SetDetail(Frames)
	var gens []uint64
	for {
		g, err := r.Next()
		if err == io.EOF {
			return gens, nil
		}
		if err != nil {
			checkErr(t, err, len(data))
			return gens, err
		}
		for i := range g.Batches {
			if err := r.EachEvent(g, i, func(*Event) error { return nil }); err != nil {
				checkErr(t, err, len(data))
				return gens, err
			}
		}
		gens = append(gens, g.Num)
	}
}
