package order

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"testing"

	"golang.org/x/exp/trace"
)

// TestAccessorKinds calls every kind-specific accessor on one event of
// each kind the committed traces hold, through both readers: an accessor
// answers for the kinds golang.org/x/exp/trace's answers for, and panics
// for the kinds its panics for. The panics are the accessors' contract,
// the reference's, not code left to write.
func TestAccessorKinds(t *testing.T) {
	panics := func(f func()) (p bool) {
		defer func() { p = recover() != nil }()
		f()
		return false
	}
	seen := map[trace.EventKind]bool{}
	for _, tr := range committedTraces(t, 400<<10) {
		or, err := NewReader(bytes.NewReader(tr.data))
		if err != nil {
			t.Fatal(err)
		}
		xr, err := trace.NewReader(bufio.NewReader(bytes.NewReader(tr.data)))
		if err != nil {
			t.Fatal(err)
		}
		var ev Event
		for {
			errO := or.Next(&ev)
			xev, errX := xr.ReadEvent()
			if errO == io.EOF || errX == io.EOF || errO != nil || errX != nil {
				if (errO == io.EOF) != (errX == io.EOF) {
					t.Fatalf("%s: order ended with %v, x/exp/trace with %v", tr.name, errO, errX)
				}
				break
			}
			k := xev.Kind()
			if ev.Kind() != k {
				t.Fatalf("%s: kind %v, x/exp/trace %v", tr.name, ev.Kind(), k)
			}
			if seen[k] {
				continue
			}
			seen[k] = true
			for _, a := range []struct {
				name string
				o, x func()
			}{
				{"StateTransition", func() { ev.StateTransition() }, func() { xev.StateTransition() }},
				{"Range", func() { ev.Range() }, func() { xev.Range() }},
				{"RangeAttributes", func() { ev.RangeAttributes() }, func() { xev.RangeAttributes() }},
				{"Task", func() { ev.Task() }, func() { xev.Task() }},
				{"Region", func() { ev.Region() }, func() { xev.Region() }},
				{"Log", func() { ev.Log() }, func() { xev.Log() }},
				{"Metric", func() { ev.Metric() }, func() { xev.Metric() }},
				{"Label", func() { ev.Label() }, func() { xev.Label() }},
				{"Sync", func() { ev.Sync() }, func() { xev.Sync() }},
				{"Experimental", func() { ev.Experimental() }, func() { xev.Experimental() }},
			} {
				po, px := panics(a.o), panics(a.x)
				if po != px {
					t.Errorf("%s on a %v event: order panics %v, x/exp/trace panics %v", a.name, k, po, px)
				}
			}
		}
		or.Close()
	}
	if len(seen) < 10 {
		t.Errorf("only %d kinds of event in the committed traces: %v", len(seen), fmt.Sprint(seen))
	}
}
