package timeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/order"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
)

// TestPartsEqualOrdered holds the timeline built a generation at a time
// and merged to the one a Tracker builds reading the trace in order,
// interval for interval and goroutine for goroutine, on every committed
// trace and every trace of the Go tree's tests that reads without error.
func TestPartsEqualOrdered(t *testing.T) {
	type input struct {
		name string
		data []byte
	}
	var ins []input
	names, _ := filepath.Glob("../../testdata/traces/*.trace")
	if testing.Short() {
		// Under the race detector: a trace whose generations overlap
		// (see Merge).
		names = []string{"../../testdata/traces/flight.trace"}
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, input{filepath.Base(name), data})
	}
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		corpus = nil
	}
	for _, c := range corpus {
		if c.Valid() {
			ins = append(ins, input{c.Name, c.Data})
		}
	}
	parallel := 0
	for _, in := range ins {
		wantIvs, wantGs := orderedTimeline(t, in.data)
		// N.B. One worker merges the parts as two do: in trace order.
		for _, workers := range []int{2} {
			gotIvs, gotGs, err := partsTimeline(in.data, workers)
			if errors.Is(err, ErrInOrder) {
				t.Logf("%s: read in order: %v", in.name, err)
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", in.name, err)
			}
			parallel++
			if d := diff(wantIvs, gotIvs); d != "" {
				t.Errorf("%s, %d workers: intervals differ (-ordered +parts):\n%s", in.name, workers, d)
			}
			if d := diff(wantGs, gotGs); d != "" {
				t.Errorf("%s, %d workers: goroutines differ (-ordered +parts):\n%s", in.name, workers, d)
			}
		}
	}
	if parallel < len(names) {
		t.Errorf("%d of %d traces read in parts, want every committed one", parallel, len(ins))
	}
}

// orderedTimeline is what a Tracker emits and ends reading data in order,
// each interval and goroutine written out once the trace is read.
func orderedTimeline(t *testing.T, data []byte) (ivs, gs []string) {
	t.Helper()
	return describe(track(t, data))
}

func partsTimeline(data []byte, workers int) (ivs, gs []string, err error) {
	var mu sync.Mutex
	parts := make(map[int][]Interval)
	var got []Interval
	var ended []*Goroutine
	tk, err := ReadParts(context.Background(), bytes.NewReader(data), int64(len(data)), workers, func(i int, tk *Tracker) func(*order.Event) {
		if i == 0 {
			// Merge ends goroutines on the Tracker merged into.
			tk.End = func(g *Goroutine) { ended = append(ended, g) }
		}
		tk.Emit = func(iv *Interval) {
			mu.Lock()
			parts[i] = append(parts[i], *iv)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	tk.Emit = func(iv *Interval) { got = append(got, *iv) }
	tk.Finish()
	for _, p := range parts {
		got = append(got, p...)
	}
	ivs, gs = describe(got, ended)
	return ivs, gs, nil
}

func describe(ivs []Interval, gs []*Goroutine) (is, ds []string) {
	for _, iv := range ivs {
		g := iv.G
		is = append(is, fmt.Sprintf("g%d#%d %s: %v %q %v [%d %d %d] %s by g%d %s open=%v profiled=%v",
			g.ID, g.Seq, g.Name, iv.State, iv.Reason, iv.Category, iv.Start, iv.Seen, iv.End,
			pcs(iv.Stack), iv.Unblocker, pcs(iv.UnblockStack), iv.Open, iv.Profiled))
	}
	for _, g := range gs {
		st, since := g.State()
		ds = append(ds, fmt.Sprintf("g%d#%d %s: existed=%v created=%d by g%d %s ran=%d ended=%d totals=%v blocked=%v in %b at end %v since %d %q",
			g.ID, g.Seq, g.Name, g.Existed, g.Created, g.Creator, pcs(g.CreatorStack), g.FirstRun, g.Ended, g.Totals, g.Blocked, g.BlockedIn, st, since, g.Reason()))
	}
	slices.Sort(is)
	slices.Sort(ds)
	return is, ds
}

func pcs(st StackRef) string {
	var b strings.Builder
	for f := range st.Frames() {
		fmt.Fprintf(&b, "%x,", f.PC)
	}
	return b.String()
}

// diff lists the lines only one side has, at most ten of them.
func diff(want, got []string) string {
	var out []string
	i, j := 0, 0
	for (i < len(want) || j < len(got)) && len(out) < 10 {
		switch {
		case j == len(got) || i < len(want) && want[i] < got[j]:
			out = append(out, "- "+want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			out = append(out, "+ "+got[j])
			j++
		default:
			i, j = i+1, j+1
		}
	}
	return strings.Join(out, "\n")
}

// TestPartsDamaged: a trace cut short is one to read in order, which says
// where the damage is; ReadParts says so and nothing else.
func TestPartsDamaged(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/overlap.trace")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{len(data) / 2, len(data) - 1, 10} {
		_, err := ReadParts(context.Background(), bytes.NewReader(data[:n]), int64(n), 2, func(int, *Tracker) func(*order.Event) { return nil })
		if !errors.Is(err, ErrInOrder) || errors.Is(err, ErrOverlap) {
			t.Errorf("cut at %d bytes: %v, want ErrInOrder for damage, not ErrOverlap", n, err)
		}
	}
}
