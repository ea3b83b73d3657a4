package export

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEstimateSize exports every committed trace in both formats: the
// estimate is never below the output, and for the busiest trace, the case
// it is made for, not far above it.
func TestEstimateSize(t *testing.T) {
	files, err := filepath.Glob("../../testdata/traces/*.trace")
	if err != nil || len(files) == 0 {
		t.Fatalf("no traces: %v", err)
	}
	for _, f := range []Format{Perfetto, Chrome} {
		var biggest int64
		var biggestOut, biggestEst int64
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := exportBytes(t, data, Options{Format: f})
			est := EstimateSize(f, int64(len(data)))
			if est < int64(len(out)) {
				t.Errorf("%s, %s: estimate %d bytes, output %d", filepath.Base(file), f, est, len(out))
			}
			if int64(len(data)) > biggest {
				biggest, biggestOut, biggestEst = int64(len(data)), int64(len(out)), est
			}
		}
		if biggestEst > 2*biggestOut {
			t.Errorf("%s: the biggest trace's estimate %d bytes, more than twice its output %d", f, biggestEst, biggestOut)
		}
	}
}
