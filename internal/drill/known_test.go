package drill

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"golang.org/x/exp/trace"
)

// TestAtLifeTrace: the world at instants of reftest.LifeTrace, whose
// events are written by hand with their times (one tick a nanosecond; the
// trace begins at t=1, so t=60 is 59ns from its start).
func TestAtLifeTrace(t *testing.T) {
	data, err := reftest.LifeTrace()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		id           int64
		state        string
		since        time.Duration
		sinceAtLeast bool
		reason       string
		p            int64
	}
	for _, tc := range []struct {
		at   time.Duration
		want []want
	}{
		// t=5: g1 running since before the trace, on P 0.
		{4, []want{{1, "running", 0, true, "", 0}}},
		// t=60: g1 blocked on a receive since t=20; g2 running since t=50.
		{59, []want{{1, "blocked", 19, false, "chan receive", -1}, {2, "running", 49, false, "", 0}}},
		// t=250: g2 ended; g1 runnable since g2 unblocked it at t=100.
		{249, []want{{1, "runnable", 99, false, "", -1}}},
		// t=420: g1 preempted at t=400.
		{419, []want{{1, "runnable", 399, false, "", -1}}},
		// t=600: g1 blocked for good since t=500.
		{599, []want{{1, "blocked", 499, false, "chan receive", -1}}},
	} {
		w, err := At(context.Background(), bytes.NewReader(data), ix, tc.at, 1)
		if err != nil {
			t.Fatalf("at %v: %v", tc.at, err)
		}
		var got []want
		for _, l := range [][]GoAt{w.Running, w.Runnable, w.Blocked, w.Syscall} {
			for _, g := range l {
				got = append(got, want{g.ID, g.State, g.Since, g.SinceAtLeast, g.Reason, g.P})
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("at %v: %+v, want %+v", tc.at, got, tc.want)
			continue
		}
		for _, wg := range tc.want {
			found := false
			for _, g := range got {
				found = found || g == wg
			}
			if !found {
				t.Errorf("at %v: %+v, want %+v among them", tc.at, got, wg)
			}
		}
	}
}

// TestLivesLifeTrace: the lives of the two goroutines of
// reftest.LifeTrace, interval by interval.
func TestLivesLifeTrace(t *testing.T) {
	data, err := reftest.LifeTrace()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := BuildIndex(bytes.NewReader(data), int64(len(data)), IndexOptions{Actors: true})
	if err != nil {
		t.Fatal(err)
	}
	type span struct {
		start, dur time.Duration
		state      string
		unblocker  int64
		open       bool
	}
	for _, tc := range []struct {
		id      int64
		creator int64
		spans   []span
	}{
		{1, -1, []span{
			{0, 19, "running", -1, false},
			{19, 80, "blocked", 2, false},
			{99, 200, "runnable", -1, false},
			{299, 100, "running", -1, false},
			{399, 50, "runnable", -1, false},
			{449, 50, "running", -1, false},
			{499, 501, "blocked", -1, true},
		}},
		{2, 1, []span{
			{9, 40, "runnable", -1, false},
			{49, 150, "running", -1, false},
		}},
	} {
		lives, err := Lives(context.Background(), bytes.NewReader(data), ix, trace.GoID(tc.id), -1)
		if err != nil || len(lives) != 1 {
			t.Fatalf("goroutine %d: %d lives, %v", tc.id, len(lives), err)
		}
		l := lives[0]
		if l.Creator != tc.creator {
			t.Errorf("goroutine %d: created by %d, want %d", tc.id, l.Creator, tc.creator)
		}
		var got []span
		for _, sp := range l.Intervals {
			got = append(got, span{sp.Start, sp.Duration, sp.State, sp.Unblocker, sp.Open})
		}
		if len(got) != len(tc.spans) {
			t.Fatalf("goroutine %d: %+v, want %+v", tc.id, got, tc.spans)
		}
		for i := range got {
			if got[i] != tc.spans[i] {
				t.Errorf("goroutine %d, interval %d: %+v, want %+v", tc.id, i, got[i], tc.spans[i])
			}
		}
	}
}

// TestDrillCorpusNoPanic: on every trace of the Go tree's tests, valid or
// not, the index, at and goroutine either answer or return an error: a
// *decode.Error for damage, or one saying the instant or goroutine is not
// in the trace.
func TestDrillCorpusNoPanic(t *testing.T) {
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus {
		t.Run(c.Name, func(t *testing.T) {
			r := bytes.NewReader(c.Data)
			check := func(what string, err error) {
				var de *decode.Error
				if err != nil && !errors.As(err, &de) && !errors.Is(err, ErrOutside) && !errors.Is(err, ErrNoGoroutine) && !errors.Is(err, ErrNotIndexable) {
					t.Errorf("%s: %v (%T)", what, err, err)
				}
			}
			for _, opts := range []IndexOptions{{}, {Actors: true}} {
				ix, err := BuildIndex(r, int64(len(c.Data)), opts)
				check("index", err)
				if err != nil {
					continue
				}
				if !opts.Actors {
					for _, at := range []time.Duration{0, ix.Duration() / 2, ix.Duration()} {
						_, err := At(context.Background(), r, ix, at, 1)
						check("at", err)
					}
					continue
				}
				for _, id := range []trace.GoID{1, 2, 3} {
					_, err := Lives(context.Background(), r, ix, id, -1)
					check("goroutine", err)
				}
			}
		})
	}
}
