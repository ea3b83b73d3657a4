package order

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"golang.org/x/exp/trace"
)

// TestConverter reads traces with golang.org/x/exp/trace and checks that
// every event converted says, through this package's accessors, all that
// golang.org/x/exp/trace's said: the committed traces, the Go tree's valid
// trace tests, and its traces of Go 1.11 to 1.21, which only
// golang.org/x/exp/trace reads.
func TestConverter(t *testing.T) {
	// N.B. The committed traces over damagedMax bytes are left out: their
	// events go through the converter in stats' TestPartsMatchOrdered,
	// whose models must be equal.
	ins := committedTraces(t, damagedMax)
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus {
		if c.Valid() {
			ins = append(ins, committedTrace{c.Name, c.Data})
		}
	}
	for _, f := range reftest.OldTraces("*") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, committedTrace{"old/" + filepath.Base(f), data})
	}
	total := 0
	for _, in := range ins {
		t.Run(in.name, func(t *testing.T) {
			xr, err := trace.NewReader(bytes.NewReader(in.data))
			if err != nil {
				t.Skipf("x/exp/trace does not read it: %v", err)
			}
			c := NewConverter()
			var x, o strings.Builder
			var ev Event
			n := 0
			for {
				xe, err := xr.ReadEvent()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Skipf("x/exp/trace stops: %v", err) // an old trace it cannot read either
				}
				if !c.Convert(&xe, &ev) {
					t.Fatalf("event %d not converted: %s", n, xe.String())
				}
				descX(&x, &xe)
				descO(&o, &ev)
				if x.String() != o.String() {
					t.Fatalf("event %d:\nx/exp/trace: %s\nconverted:   %s", n, x.String(), o.String())
				}
				n++
			}
			total += n
		})
	}
	t.Logf("%d traces, %d events converted alike", len(ins), total)
}
