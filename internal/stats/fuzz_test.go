package stats

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
)

// fuzzVersions are the headers FuzzStats puts before its bytes: every v2
// version, and v1 ones, which golang.org/x/exp/trace reads in one pass.
var fuzzVersions = append(format.Versions(), format.Go111, format.Go119, format.Go121)

// FuzzStats analyses arbitrary bytes behind a valid header, the version
// picked by the first argument. Seeds are the committed traces, damaged
// ones included, and the Go tree's trace tests, split into version and
// body, so the fuzzer mutates real traces. The analysis must not panic; it
// gives a model, a model of the complete generations with an error
// wrapping ErrDamaged, or no model and an error, and an error is one line
// that names the file. One worker keeps each run to the reading goroutines.
func FuzzStats(f *testing.F) {
	for _, data := range fuzzSeeds(f) {
		v, err := format.ParseHeader(data)
		if i := slices.Index(fuzzVersions, v); err == nil && i >= 0 {
			f.Add(uint8(i), data[format.HeaderSize:])
		}
	}
	f.Add(uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, v uint8, body []byte) {
		data := append(format.AppendHeader(nil, fuzzVersions[int(v)%len(fuzzVersions)]), body...)
		m, err := Compute(context.Background(), "fuzz.trace", bytes.NewReader(data), int64(len(data)), Options{Workers: 1})
		switch {
		case err == nil && m == nil:
			t.Fatal("no model and no error")
		case errors.Is(err, ErrDamaged) && (m == nil || !m.Damage.Damaged):
			t.Fatalf("%v, but the model is not marked damaged", err)
		case err != nil && !errors.Is(err, ErrDamaged) && m != nil:
			t.Fatalf("a model with error %v", err)
		}
		if m != nil && m.Overview.FileBytes != ByteCount(len(data)) {
			t.Errorf("file bytes %d, want %d", m.Overview.FileBytes, len(data))
		}
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "fuzz.trace: ") {
				t.Fatalf("error %q: want one line naming the file", msg)
			}
		}
	})
}

// fuzzSeeds returns the committed traces up to maxSeed bytes and every
// trace test of the Go tree, assembled.
func fuzzSeeds(f *testing.F) [][]byte {
	// N.B. Each run over a mutation of a larger trace takes tens of
	// milliseconds, and the smaller ones hold the same kinds of events.
	const maxSeed = 256 << 10
	var seeds [][]byte
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*", "*.trace"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) <= maxSeed {
			seeds = append(seeds, data)
		}
	}
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range corpus {
		seeds = append(seeds, c.Data)
	}
	return seeds
}
