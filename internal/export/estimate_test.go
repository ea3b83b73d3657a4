package export

import (
	"bytes"
	"compress/zlib"
	"io"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// expanded returns the size of a Perfetto export with its compressed
// bundles expanded: what a viewer reads.
func expanded(t *testing.T, b []byte) int64 {
	t.Helper()
	var n int64
	for len(b) > 0 {
		_, _, tl := protowire.ConsumeTag(b)
		v, l := protowire.ConsumeBytes(b[tl:])
		if tl < 0 || l < 0 {
			t.Fatal("not a stream of packets")
		}
		b = b[tl+l:]
		if num, _, ptl := protowire.ConsumeTag(v); num == fPacketCompressed {
			c, _ := protowire.ConsumeBytes(v[ptl:])
			zr, err := zlib.NewReader(bytes.NewReader(c))
			if err != nil {
				t.Fatal(err)
			}
			m, err := io.Copy(io.Discard, zr)
			if err != nil {
				t.Fatal(err)
			}
			n += m
			continue
		}
		n += int64(tl + l)
	}
	return n
}

// TestEstimate exports every committed trace in both formats: the
// estimates are never below the output and what a viewer reads of it, and
// for the busiest trace, the case they are made for, not far above them.
func TestEstimate(t *testing.T) {
	files, err := filepath.Glob("../../testdata/traces/*.trace")
	if err != nil || len(files) == 0 {
		t.Fatalf("no traces: %v", err)
	}
	for _, f := range []Format{Perfetto, Chrome} {
		var biggest, biggestFile, biggestLoaded, estFile, estLoaded int64
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := exportBytes(t, data, Options{Format: f})
			size, loaded := int64(len(out)), int64(len(out))
			if f == Perfetto {
				loaded = expanded(t, out)
			}
			ef, el := Estimate(f, int64(len(data)))
			if ef < size || el < loaded {
				t.Errorf("%s, %s: estimates %d bytes written, %d read; the export wrote %d, %d read", filepath.Base(file), f, ef, el, size, loaded)
			}
			if int64(len(data)) > biggest {
				biggest, biggestFile, biggestLoaded, estFile, estLoaded = int64(len(data)), size, loaded, ef, el
			}
		}
		// N.B. Per byte of trace, the densest trace (goroutine hand-offs)
		// exports to 3-4 times what the busiest does: an estimate from the
		// size alone errs high on the busy ones, but not much more.
		if estFile > 5*biggestFile || estLoaded > 5*biggestLoaded {
			t.Errorf("%s: the biggest trace's estimates %d and %d bytes, more than five times the %d written and %d read", f, estFile, estLoaded, biggestFile, biggestLoaded)
		}
	}
}
