package timeline_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/order"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/timelinetest"
	"golang.org/x/exp/trace"
)

// TestPartsOverlapping: a trace whose second generation begins halfway
// through the first is no damage, but more overlap than Merge mends:
// ReadParts says to read it in order (ErrOverlap), and read in order it
// has no damage, and as many events as golang.org/x/exp/trace reads.
func TestPartsOverlapping(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/overlap.trace")
	if err != nil {
		t.Fatal(err)
	}
	over := timelinetest.Overlapped(t, data)
	_, err = timeline.ReadParts(context.Background(), bytes.NewReader(over), int64(len(over)), 2, func(int, *timeline.Tracker) func(*order.Event) { return nil })
	if !errors.Is(err, timeline.ErrInOrder) || !errors.Is(err, timeline.ErrOverlap) {
		t.Fatalf("ReadParts: %v, want ErrOverlap", err)
	}
	// The same events, in order, as x/exp/trace reads straight from
	// the bytes: none moved back in time.
	var want []trace.Time
	tr, err := trace.NewReader(bytes.NewReader(over))
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := tr.ReadEvent()
		if err != nil {
			break
		}
		want = append(want, ev.Time())
	}
	var got []trace.Time
	tk := timeline.NewTracker()
	src, err := timeline.Read(bytes.NewReader(over), func(ev *trace.Event) bool {
		if n := len(got); n > 0 && ev.Time() < got[n-1] {
			t.Fatalf("event %d at %d, before the one before at %d", n, ev.Time(), got[n-1])
		}
		got = append(got, ev.Time())
		tk.Event(ev)
		return true
	})
	if err != nil || src.Err() != nil {
		t.Fatalf("read in order: %v, %v", err, src.Err())
	}
	tk.Finish()
	if len(got) != len(want) {
		t.Errorf("read in order: %d events, x/exp/trace reads %d", len(got), len(want))
	}
	// Reading it whole, x/exp/trace moves the second generation's first
	// events: far more of them than a part's early events Merge mends.
	moved := 0
	for i := 1; i < len(want); i++ {
		if want[i] == want[i-1]+1 {
			moved++
		}
	}
	if moved < 1000 {
		t.Errorf("%d events a nanosecond after the one before: the generations hardly overlap", moved)
	}
}

// TestPartsMovedBack moves the second generation of traces back by more
// and more: the generations overlap by a few events (which Merge mends,
// timing them as a reading of the whole trace does), then by more than
// it mends (ErrOverlap). Read in parts, the timeline is the one read in
// order, interval for interval, until ReadParts says to read in order.
func TestPartsMovedBack(t *testing.T) {
	if testing.Short() {
		t.Skip("the parts' concurrency is tested on flight.trace (TestPartsEqualOrdered)")
	}
	for _, name := range []string{"flight.trace", "hotlock.trace"} {
		data, err := os.ReadFile("../../testdata/traces/" + name)
		if err != nil {
			t.Fatal(err)
		}
		mended, overlapped := 0, 0
		for _, ticks := range []int64{1000, 10000, 30000, 300000} {
			moved, err := timelinetest.MoveBack(data, ticks)
			if err != nil {
				t.Fatal(err)
			}
			wantIvs, wantGs := timeline.OrderedTimeline(t, moved)
			gotIvs, gotGs, err := timeline.PartsTimeline(moved, 2)
			if errors.Is(err, timeline.ErrOverlap) {
				overlapped++
				continue
			}
			if err != nil {
				t.Fatalf("%s moved back %d ticks: %v", name, ticks, err)
			}
			mended++
			if d := timeline.DiffLines(wantIvs, gotIvs); d != "" {
				t.Errorf("%s moved back %d ticks: intervals differ (-ordered +parts):\n%s", name, ticks, d)
			}
			if d := timeline.DiffLines(wantGs, gotGs); d != "" {
				t.Errorf("%s moved back %d ticks: goroutines differ (-ordered +parts):\n%s", name, ticks, d)
			}
		}
		if mended == 0 || overlapped == 0 {
			t.Errorf("%s: %d overlaps mended, %d too long to: want some of both", name, mended, overlapped)
		}
	}
}
