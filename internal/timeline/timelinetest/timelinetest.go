// Package timelinetest helps tests compare gotrace with other tools on the
// same times.
package timelinetest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
)

// Restamped is the path of the trace at path as gotrace reads it (late
// status batches moved back; see timeline.Source), for another tool to
// read the same times: path itself when nothing is moved.
func Restamped(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, moved := RestampedData(t, data)
	if !moved {
		return path
	}
	p := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// GoToolTraceInput is Restamped, and whether go tool trace's numbers are
// comparable with gotrace's on it: not when a goroutine ID is used by two
// goroutines, which go tool trace merges into one.
func GoToolTraceInput(t testing.TB, path string) (string, bool) {
	t.Helper()
	p := Restamped(t, path)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, ok, err := reftest.GoroutinePages(f)
	if err != nil {
		t.Fatal(err)
	}
	return p, ok
}

// RestampedData is the trace data as gotrace reads it (see Restamped), and
// whether any batch was moved.
func RestampedData(t testing.TB, data []byte) ([]byte, bool) {
	t.Helper()
	var out bytes.Buffer
	src, err := timeline.Copy(&out, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if src.Err() != nil {
		t.Fatal(src.Err())
	}
	return out.Bytes(), src.Restamped > 0
}

// Overlapped is data with its second generation moved back in time by
// half the first generation's span (see MoveBack), so that it begins
// about halfway through the first. Reading the trace whole,
// golang.org/x/exp/trace moves the second generation's events that come
// before the first one's last event to a nanosecond after the event
// before; a generation at a time, the parts overlap by far more events
// than the timeline's Merge mends. data must hold two generations or
// more.
func Overlapped(t testing.TB, data []byte) []byte {
	t.Helper()
	out, err := MoveBack(data, -1)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// MoveBack is data with its second generation moved back in time by ticks,
// or by half the first generation's span for a negative ticks: each of its
// batches' base times, and so every event of it, earlier by the same
// number of ticks (its headers written anew at their width). data must
// hold two generations or more.
func MoveBack(data []byte, ticks int64) ([]byte, error) {
	dr, err := decode.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	dr.SetDetail(decode.Counts)
	var first, last uint64 // the first generation's span, in ticks
	var batches []decode.Batch
	for i := 0; i < 2; i++ {
		g, err := dr.Next()
		if err != nil {
			return nil, fmt.Errorf("generation %d: %w", i+1, err)
		}
		for _, b := range g.Batches {
			if b.Header != format.EvEventBatch {
				continue
			}
			if i == 0 {
				if first == 0 || b.Time < first {
					first = b.Time
				}
				last = max(last, b.Last)
				continue
			}
			batches = append(batches, b)
		}
	}
	if len(batches) == 0 {
		return nil, errors.New("no batches in the second generation")
	}
	begin := batches[0].Time
	for _, b := range batches {
		begin = min(begin, b.Time)
	}
	shift := uint64(ticks)
	if ticks < 0 {
		shift = (last - first) / 2
	}
	if shift >= begin {
		return nil, fmt.Errorf("the second generation begins at %d ticks, less than %d", begin, shift)
	}
	out := bytes.Clone(data)
	for _, b := range batches {
		// The header: the type byte, then generation, thread, base time
		// and size as varints.
		var vals [4]uint64
		pos := int(b.Offset) + 1
		for i := range vals {
			v, n := binary.Uvarint(out[pos:])
			if n <= 0 {
				return nil, fmt.Errorf("batch at byte %#x: bad header", b.Offset)
			}
			vals[i], pos = v, pos+n
		}
		width := pos - int(b.Offset)
		hdr := timeline.BatchHeader(vals[0], vals[1], vals[2]-shift, vals[3], width)
		if len(hdr) != width {
			return nil, fmt.Errorf("batch at byte %#x: a header of %d bytes for %d", b.Offset, len(hdr), width)
		}
		copy(out[b.Offset:], hdr)
	}
	return out, nil
}
