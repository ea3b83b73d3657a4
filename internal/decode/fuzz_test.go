package decode

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// FuzzDecode feeds arbitrary bytes to the Reader. Seeds are every trace
// test of the Go tree, every fixture in testdata and every committed trace. Decoding must not panic,
// must end in io.EOF or a *Error inside the input, and must allocate in
// proportion to the input.
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
		readAll(t, data)
		runtime.ReadMemStats(&after)
		// The read buffer starts at 256 KiB; past it, backing arrays
		// grow with the generation: at most a few dozen bytes of
		// events, arguments and frames per input byte.
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(4<<20+256*len(data)); got > limit {
			t.Fatalf("decoding %d bytes allocated %d bytes, want at most %d", len(data), got, limit)
		}
	})
}
