package tables

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"testing"
)

var (
	benchTrace = flag.String("trace", "../../testdata/bench/stress.trace", "the trace BenchmarkExport exports")
	pageDir    = flag.String("pagedir", "", "BenchmarkExport keeps pages in temporary files in `DIR`")
)

// BenchmarkExport exports -trace, the stress trace of make bench by
// default, to files thrown away.
func BenchmarkExport(b *testing.B) {
	f, err := os.Open(*benchTrace)
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	b.SetBytes(fi.Size())
	for b.Loop() {
		f.Seek(0, io.SeekStart)
		_, err := Export(context.Background(), bufio.NewReaderSize(f, 1<<20), Options{ID: "0123456789abcdef", PageDir: *pageDir,
			Create: func(string) (io.Writer, error) { return io.Discard, nil }})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExportSmall exports a small bundled trace with labels, as each
// of a fleet's many snapshots is.
func BenchmarkExportSmall(b *testing.B) {
	data, err := os.ReadFile("../../testdata/traces/annotated.trace")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, err := Export(context.Background(), bytes.NewReader(data), Options{ID: "0123456789abcdef",
			Labels: []Label{{"service", "api"}, {"release", "v1.2.3"}},
			Create: func(string) (io.Writer, error) { return io.Discard, nil }})
		if err != nil {
			b.Fatal(err)
		}
	}
}
