package stats

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// TestFrameAgreesWithDecoder flips each bit of the generation number of
// every batch header of a real trace, and cuts it short at every batch:
// the parts framer must find the generations the decoder delivers and
// report the damage it reports, at the same byte.
func TestFrameAgreesWithDecoder(t *testing.T) {
	data := readFile(t, "../../testdata/traces/annotated.trace")
	var cases [][]byte
	for _, off := range headerOffsets(t, data) {
		cases = append(cases, data[:off+1], data[:off+3])
		for bit := range 8 {
			c := bytes.Clone(data)
			c[off+1] ^= 1 << bit
			cases = append(cases, c)
		}
	}
	for i, c := range cases {
		var want []timeline.GenSpan
		var werr error
		dr, err := decode.NewReader(bytes.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		dr.SetDetail(decode.Frames)
		for {
			g, err := dr.Next()
			if err != nil {
				if err != io.EOF {
					werr = err
				}
				break
			}
			want = append(want, timeline.GenSpan{Off: g.Offset, End: g.End, Min: g.MinTime})
		}
		spans := make(chan timeline.GenSpan, 16)
		var got []timeline.GenSpan
		done := make(chan struct{})
		go func() {
			for s := range spans {
				got = append(got, s)
			}
			close(done)
		}()
		body := bytes.NewReader(c[format.HeaderSize:])
		err = timeline.FrameGenerations(context.Background(), body, format.HeaderSize, format.Go126, spans)
		close(spans)
		<-done
		if fmt.Sprint(err) != fmt.Sprint(werr) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("case %d: frame gives %v and %v, the decoder %v and %v", i, got, err, want, werr)
		}
	}
}

// headerOffsets lists where the batch headers of an undamaged trace are,
// ends of generation excluded.
func headerOffsets(t *testing.T, data []byte) []int64 {
	dr, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dr.SetDetail(decode.Frames)
	var offs []int64
	for {
		g, err := dr.Next()
		if err == io.EOF {
			return offs
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range g.Batches {
			if b.Header != format.EvEndOfGeneration {
				offs = append(offs, b.Offset)
			}
		}
	}
}
