package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// fr is one frame of the shim's stream.
type fr struct {
	kind    byte
	payload string
}

// frames encodes frames as the shim writes them.
func frames(fs ...fr) []byte {
	var b []byte
	for _, f := range fs {
		b = append(b, f.kind)
		b = binary.AppendUvarint(b, uint64(len(f.payload)))
		b = append(b, f.payload...)
	}
	return b
}

func receive(t *testing.T, stream []byte, dest string, flight bool) (*receiver, []string) {
	t.Helper()
	var logs []string
	rc := newReceiver(bytes.NewReader(stream), dest, flight, func(s string) { logs = append(logs, s) }, true)
	rc.run()
	select {
	case <-rc.stopped:
	default:
		t.Error("stopped not closed at the end of the stream")
	}
	return rc, logs
}

func TestReceiverStreaming(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "p.trace")
	rc, logs := receive(t, frames(
		fr{frameData, "go 1.26 trace\x00\x00\x00"},
		fr{frameData, "abc"},
		fr{frameEnd, ""},
		fr{frameError, "cpu profiling already in use"},
		fr{frameDone, ""},
	), dest, false)
	if rc.err != nil || len(rc.traces) != 1 || rc.traces[0].Size != 19 || rc.traces[0].CutShort {
		t.Fatalf("err %v, traces %+v", rc.err, rc.traces)
	}
	if got, _ := os.ReadFile(dest); string(got) != "go 1.26 trace\x00\x00\x00abc" {
		t.Errorf("file holds %q", got)
	}
	if len(logs) != 1 || !strings.Contains(logs[0], "cpu profiling already in use") {
		t.Errorf("logs %q", logs)
	}
	if rc.bytes.Load() != 19 {
		t.Errorf("counted %d bytes", rc.bytes.Load())
	}
	assertNoTemp(t, filepath.Dir(dest))
}

func TestReceiverFlight(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "p.trace")
	rc, _ := receive(t, frames(
		fr{frameData, "one"}, fr{frameEnd, ""},
		fr{frameData, "two"}, fr{frameEnd, ""},
	), dest, true)
	if len(rc.traces) != 2 {
		t.Fatalf("traces %+v", rc.traces)
	}
	for i, want := range []string{"one", "two"} {
		got, err := os.ReadFile(numbered(dest, i+1))
		if err != nil || string(got) != want {
			t.Errorf("snapshot %d: %q, %v", i+1, got, err)
		}
	}
	if _, err := os.Stat(dest); err == nil {
		t.Errorf("%s written in flight mode", dest)
	}
}

// TestReceiverDamage: a stream that breaks off, or that is not frames at
// all, leaves no file when nothing in it is a complete generation, and
// says why.
func TestReceiverDamage(t *testing.T) {
	for name, stream := range map[string][]byte{
		"cut":          frames(fr{frameData, "go 1.26 trace\x00\x00\x00\x01\x02"})[:10],
		"unknown kind": append(frames(fr{frameData, "go 1.26 trace\x00\x00\x00"}), 'Z', 0),
		"huge frame":   append(frames(fr{frameData, "go"}), binary.AppendUvarint([]byte{frameData}, maxFrame+1)...),
		"no header":    frames(fr{frameData, "garbage"}),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			rc, logs := receive(t, stream, filepath.Join(dir, "p.trace"), false)
			if len(rc.traces) != 0 || rc.err == nil || !strings.Contains(rc.err.Error(), "not written") {
				t.Errorf("traces %+v, err %v, logs %q", rc.traces, rc.err, logs)
			}
			assertNoTemp(t, dir)
			if _, err := os.Stat(filepath.Join(dir, "p.trace")); err == nil {
				t.Error("a damaged stream left a file")
			}
		})
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestReceiverWriteFailed: the shim says the file it writes failed (a full
// disk): the recording is a WriteError naming the destination, and no
// file is kept even though the tracer ended the file afterwards.
func TestReceiverWriteFailed(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "p.trace")
	rc, _ := receive(t, frames(
		fr{frameData, "go 1.26 trace\x00\x00\x00"},
		fr{frameWrite, "no space left on device"},
		fr{frameData, "abc"},
		fr{frameEnd, ""},
		fr{frameDone, ""},
	), dest, false)
	var we *WriteError
	if !errors.As(rc.err, &we) || rc.err.Error() != "writing the trace: write "+dest+": no space left on device" {
		t.Errorf("err %v, want a WriteError naming %s", rc.err, dest)
	}
	if len(rc.traces) != 0 {
		t.Errorf("traces %+v", rc.traces)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

// genTrace encodes a trace of version v whose batches are of the
// generations gens, in order, each with a body of body bytes; a Go 1.26
// generation ends with its EndOfGeneration when the next batch is of
// another generation, or the trace ends.
func genTrace(t *testing.T, v format.Version, body int, gens ...uint64) []byte {
	t.Helper()
	e := format.NewEncoder(v)
	for i, g := range gens {
		e.Batch(g, uint64(i), uint64(10*i), func(b *format.Encoder) {
			b.Event(format.EvStrings, nil, nil)
			b.Event(format.EvString, []uint64{uint64(i + 1)}, bytes.Repeat([]byte{'x'}, body))
		})
		if v >= format.Go126 && (i == len(gens)-1 || gens[i+1] != g) {
			e.Event(format.EvEndOfGeneration, nil, nil)
		}
	}
	data, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestGenCounterFraming: the progress line counts generations as the
// decoder frames them, whatever pieces the bytes come in: up to the first
// damage (a generation number that jumps or goes back), and a flight
// recorder's snapshots one after another.
func TestGenCounterFraming(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v      format.Version
		gens   []uint64
		want   int
		broken bool
	}{
		{"go1.26", format.Go126, []uint64{1, 1, 2, 3, 3, 3}, 3, false},
		{"go1.23", format.Go123, []uint64{4, 5, 5, 6}, 3, false},
		{"jump", format.Go126, []uint64{1, 2, 2, 9, 10}, 2, true},
		{"jump go1.23", format.Go123, []uint64{1, 2, 2, 9, 10}, 2, true},
		{"back", format.Go126, []uint64{5, 6, 5, 6}, 2, true},
		{"go1.23 batch of another generation", format.Go123, []uint64{1, 2, 1}, 2, true},
	} {
		data := genTrace(t, tc.v, 300, tc.gens...)
		for _, piece := range []int{1, 7, 1000, len(data)} {
			var c genCounter
			for p := data; len(p) > 0; {
				n := min(len(p), piece)
				c.Write(p[:n])
				p = p[n:]
			}
			c.endFile(true)
			if c.count() != tc.want || c.broken() != tc.broken {
				t.Errorf("%s, in pieces of %d: counted %d generations (broken %v), want %d (broken %v)", tc.name, piece, c.count(), c.broken(), tc.want, tc.broken)
			}
		}
	}

	// Two snapshots: the count goes on over the second trace's header.
	var c genCounter
	c.Write(genTrace(t, format.Go126, 10, 1, 2))
	c.endFile(false)
	c.Write(genTrace(t, format.Go126, 10, 7, 8, 9))
	c.endFile(false)
	if c.count() != 5 || c.broken() {
		t.Errorf("two snapshots: counted %d generations (broken %v), want 5", c.count(), c.broken())
	}
	c.endFile(true)
	c.Write(genTrace(t, format.Go126, 10, 1))
	if c.count() != 5 {
		t.Errorf("after close: counted %d generations, want 5", c.count())
	}
}

// TestReceiverCountsSnapshots: the progress line counts the generations of
// every flight recorder snapshot.
func TestReceiverCountsSnapshots(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "p.trace")
	rc, _ := receive(t, frames(
		fr{frameData, string(genTrace(t, format.Go126, 100, 3, 4))}, fr{frameEnd, ""},
		fr{frameData, string(genTrace(t, format.Go126, 100, 5, 6, 7))}, fr{frameEnd, ""},
	), dest, true)
	if len(rc.traces) != 2 {
		t.Fatalf("traces %+v", rc.traces)
	}
	if _, gens := rc.progress(); gens != 5 {
		t.Errorf("progress counts %d generations, want 5", gens)
	}
}
