package stats

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// TestSemanticDamagePlaced: a generation that frames and decodes but that
// golang.org/x/exp/trace rejects (here, without a frequency) is damage
// said at the generation's first byte, after the generations before it.
func TestSemanticDamagePlaced(t *testing.T) {
	data := readFile(t, "../../testdata/traces/annotated.trace")
	dr, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dr.SetDetail(decode.Frames)
	g, err := dr.Next()
	if err != nil {
		t.Fatal(err)
	}
	e := format.NewEncoder(format.Go126)
	e.Raw(data[g.Offset:g.End]...)
	e.Batch(g.Num+1, format.NoThread, g.MaxTime+1, func(b *format.Encoder) {
		b.Event(format.EvSync, nil, nil)
	})
	e.Event(format.EvEndOfGeneration, nil, nil)
	bad, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compute(context.Background(), "bad.trace", bytes.NewReader(bad), int64(len(bad)), Options{})
	want := fmt.Sprintf("bad.trace: byte %#x (gen %d): ", g.End, g.Num+1)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want it damaged and saying %q", err, want)
	}
	if m == nil || m.Overview.Generations != 1 {
		t.Fatalf("model %+v, want the first generation", m)
	}
}
