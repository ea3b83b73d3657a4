package export

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
)

// BenchmarkExport times both formats on the annotated trace; SetBytes is
// the input's size, so MB/s is trace bytes read per second.
func BenchmarkExport(b *testing.B) {
	data, err := os.ReadFile("../../testdata/traces/annotated.trace")
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []Format{Perfetto, Chrome} {
		b.Run(string(f), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Export(context.Background(), bytes.NewReader(data), io.Discard, Options{Format: f}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
