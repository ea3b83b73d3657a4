package timeline

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"golang.org/x/exp/trace"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// late is reftest.LateBatches, failing the test on error.
func late(t *testing.T, data []byte) int {
	t.Helper()
	n, err := reftest.LateBatches(data)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// events is reftest.MovedEvents, failing the test on error.
func events(t *testing.T, r io.Reader) (n, moved int) {
	t.Helper()
	n, moved, err := reftest.MovedEvents(r)
	if err != nil {
		t.Fatal(err)
	}
	return n, moved
}

func TestSourceRestampsLateStatuses(t *testing.T) {
	// A program with thousands of sleeping goroutines recorded on loaded
	// CPUs: each generation's last statuses come after the next one began.
	data := readFile(t, "traces/overlap.trace")
	if n := late(t, data); n == 0 {
		t.Fatal("the test trace has no late batches")
	}
	src, err := NewSource(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(src)
	if err != nil || src.Err() != nil {
		t.Fatal(err, src.Err())
	}
	if n := late(t, out); n != 0 {
		t.Errorf("%d batches still late after restamping", n)
	}
	if src.Restamped == 0 || src.Shifted == 0 {
		t.Errorf("Restamped %d, Shifted %d: want both counted", src.Restamped, src.Shifted)
	}
	n0, moved0 := events(t, bytes.NewReader(data))
	n1, moved1 := events(t, bytes.NewReader(out))
	if n0 != n1 {
		t.Errorf("restamped trace has %d events, the original %d", n1, n0)
	}
	// Ordering within a generation still moves a few events.
	if moved0 < n0/50 || moved1 > n1/1000 {
		t.Errorf("moved: %d of %d before, %d after; want over 2%% before and under 0.1%% after", moved0, n0, moved1)
	}
}

func TestSourcePassesOnTimelyTraces(t *testing.T) {
	for _, name := range []string{"traces/demo.trace", "traces/annotated.trace"} {
		data := readFile(t, name)
		src, err := NewSource(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(src)
		if err != nil || src.Err() != nil {
			t.Fatal(name, err, src.Err())
		}
		if src.Restamped == 0 && !bytes.Equal(out, data) {
			t.Errorf("%s: nothing restamped, yet the bytes changed", name)
		}
		if len(src.Generations()) == 0 {
			t.Errorf("%s: no generations listed", name)
		}
	}
}

func TestSourceStopsAtDamage(t *testing.T) {
	data := readFile(t, "damaged/demo-cut.trace")
	src, err := NewSource(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := events(t, src)
	var de *decode.Error
	if !errors.As(src.Err(), &de) {
		t.Fatalf("Err() = %v, want a *decode.Error", src.Err())
	}
	if len(src.Generations()) == 0 || n == 0 {
		t.Errorf("%d generations and %d events before the damage, want the complete ones", len(src.Generations()), n)
	}
	if last := src.Generations()[len(src.Generations())-1]; last.Offset >= de.Offset {
		t.Errorf("last generation handed out starts at %#x, at or after the damage at %#x", last.Offset, de.Offset)
	}
}

func TestSourceRejectsSampleOfUnknownStack(t *testing.T) {
	// A CPU sample naming stack 5 in a generation whose stack table has
	// none: golang.org/x/exp/trace panics on it.
	data, _ := hex.DecodeString("676f20312e32362074726163650000000101ffffffffffffffffff01d589b1da34978080808080808080003208a8d6b907333bfe87c598ad1adbd99ed80698dbb2330101ffffffffffffffffff0100070607640100010534")
	src, err := NewSource(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(src); err != nil {
		t.Fatal(err)
	}
	if err := src.Err(); err == nil || !strings.Contains(err.Error(), "stack 5 is not in the stack table") {
		t.Errorf("Err() = %v, want the unknown stack named", err)
	}
}

func TestReadContainsPanics(t *testing.T) {
	// N.B. Asked for the Sync of an event that is not one,
	// golang.org/x/exp/trace panics: a panic that begins inside it, as
	// its panics on damaged traces do.
	_, err := Read(bytes.NewReader(readFile(t, "traces/demo.trace")), func(ev *trace.Event) bool {
		if ev.Kind() != trace.EventSync {
			ev.Sync()
		}
		return true
	})
	var de *decode.Error
	if !errors.As(err, &de) || de.Gen != 1 || de.Offset != 0x10 {
		t.Fatalf("Read: %v, want a *decode.Error at generation 1, byte 0x10", err)
	}
	if !errors.Is(err, decode.ErrCorrupt) || strings.Contains(err.Error(), "\n") {
		t.Errorf("Read: %q, want one line marked corrupt", err)
	}
}

func TestReadNamesTheGeneration(t *testing.T) {
	data := readFile(t, "damaged/demo-cut.trace")
	n := 0
	src, err := Read(bytes.NewReader(data), func(*trace.Event) bool { n++; return true })
	if err == nil || err != src.Err() || n == 0 {
		t.Fatalf("Read: %d events, error %v; want the events before the damage, then it", n, err)
	}
}

func TestBatchHeaderKeepsWidth(t *testing.T) {
	for _, width := range []int{5, 12, 27, 41} {
		h := BatchHeader(3, format.NoThread, 1<<40, 300, width)
		shortest := len(BatchHeader(3, format.NoThread, 1<<40, 300, 0))
		if want := max(width, shortest); len(h) != want {
			t.Errorf("width %d: header of %d bytes, want %d", width, len(h), want)
		}
		dr, err := decode.NewReader(bytes.NewReader(append([]byte("go 1.23 trace\x00\x00\x00"), append(h, make([]byte, 300)...)...)))
		if err != nil {
			t.Fatal(err)
		}
		dr.SetDetail(decode.Frames)
		g, err := dr.Next()
		if err != nil {
			t.Fatalf("width %d: %v", width, err)
		}
		if b := g.Batches[0]; g.Num != 3 || b.M != format.NoThread || b.Time != 1<<40 || b.Size != 300 {
			t.Errorf("width %d: read back gen %d m %d time %d size %d", width, g.Num, b.M, b.Time, b.Size)
		}
	}
}

// TestReadLetsOwnPanicsThrough: a panic in the caller's code (here the
// function handed each event) is a bug of gotrace's, not damage in the
// trace, and Read passes it on.
func TestReadLetsOwnPanicsThrough(t *testing.T) {
	ownBug := errors.New("a panic in the caller's code")
	defer func() {
		if p := recover(); p != ownBug {
			t.Errorf("recovered %v, want the caller's panic passed on", p)
		}
	}()
	_, err := Read(bytes.NewReader(readFile(t, "traces/demo.trace")), func(*trace.Event) bool { panic(ownBug) })
	t.Errorf("Read returned %v instead of passing the panic on", err)
}

// TestDamageCut: a long message from golang.org/x/exp/trace is cut at a
// word, on one line, and still says where.
func TestDamageCut(t *testing.T) {
	src, err := NewSource(bytes.NewReader(readFile(t, "traces/demo.trace")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(src); err != nil {
		t.Fatal(err)
	}
	long := errors.New("failed to advance GoSyscallBegin: can't make sequence:" + strings.Repeat(" g 12 in state Running\n", 60))
	err = src.Damage(1, long)
	msg := err.Error()
	if !strings.HasPrefix(msg, "byte 0x10 (gen 1): failed to advance GoSyscallBegin") || len(msg) > maxMessage+60 ||
		strings.Contains(msg, "\n") || !strings.Contains(msg, " …") {
		t.Fatalf("message %q (%d bytes), want it placed, on one line and cut", msg, len(msg))
	}
}

// TestReadSplitsExactly holds the events Read gives, large batches split,
// to those golang.org/x/exp/trace reads from the restamped trace whole,
// event for event, on every committed trace and every trace of the Go
// tree's tests that reads without error.
func TestReadSplitsExactly(t *testing.T) {
	ins := map[string][]byte{}
	names, _ := filepath.Glob("../../testdata/traces/*.trace")
	for _, name := range names {
		ins[filepath.Base(name)] = readFile(t, "traces/"+filepath.Base(name))
	}
	corpus, err := reftest.GorootCorpus()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus {
		if c.Valid() {
			ins[c.Name] = c.Data
		}
	}
	split := 0
	for name, data := range ins {
		var whole bytes.Buffer
		if _, err := Copy(&whole, bytes.NewReader(data)); err != nil {
			t.Fatal(name, err)
		}
		src, err := NewSource(bytes.NewReader(data))
		if err != nil {
			t.Fatal(name, err)
		}
		src.split = true
		out, err := io.ReadAll(src)
		if err != nil {
			t.Fatal(name, err)
		}
		if len(out) > whole.Len() {
			split++ // each split adds a header
		}
		want := xexpEvents(t, whole.Bytes())
		// Read holds the generation that waits, ReadAt reads it again.
		for _, at := range []io.ReaderAt{nil, bytes.NewReader(data)} {
			var got []string
			if _, err := ReadAt(bytes.NewReader(data), at, func(ev *trace.Event) bool {
				got = append(got, ev.String())
				return true
			}); err != nil {
				t.Fatal(name, err)
			}
			if len(got) != len(want) {
				t.Errorf("%s (at %v): %d events, x/exp/trace reads %d", name, at != nil, len(got), len(want))
				continue
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s (at %v): event %d:\n got %s\nwant %s", name, at != nil, i, got[i], want[i])
					break
				}
			}
		}
	}
	if split == 0 {
		t.Error("no trace had a batch split")
	}
}

// xexpEvents is every event of data as golang.org/x/exp/trace reads it.
func xexpEvents(t *testing.T, data []byte) []string {
	t.Helper()
	tr, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.String())
	}
}
