package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
	"github.com/gotrace-cli/gotrace/internal/timeline/timelinetest"
)

// TestGoroutinesMatchGoToolTracePages: each goroutine's times equal those
// of its go tool trace goroutine page (by the pages' rules, computed in
// reftest), plus the time after blocking forever, which gotrace counts.
func TestGoroutinesMatchGoToolTracePages(t *testing.T) {
	names, _ := filepath.Glob("../../testdata/traces/*.trace")
	compared := 0
	for _, path := range names {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			src, err := timeline.NewSource(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			pages, unique, err := reftest.GoroutinePages(src)
			if err != nil {
				t.Fatal(err)
			}
			if !unique {
				t.Skip("goroutine IDs reused: the pages key by ID")
			}
			// N.B. Read a generation per core, as a file is.
			rows, err := goroutineRows(t, bytes.NewReader(data), bytes.NewReader(data), Filter{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(pages) {
				t.Fatalf("%d goroutines, the pages have %d", len(rows), len(pages))
			}
			byID := make(map[int64]Goroutine)
			for _, r := range rows {
				byID[r.ID] = r
			}
			for _, p := range pages {
				r, ok := byID[int64(p.ID)]
				if !ok {
					t.Errorf("goroutine %d: not listed", p.ID)
					continue
				}
				want := [4]time.Duration{time.Duration(p.Running), time.Duration(p.Runnable), time.Duration(p.Blocked + p.Forever), time.Duration(p.Syscall)}
				got := [4]time.Duration{r.Running, r.Runnable, r.Blocked, r.Syscall}
				if got != want || p.Name != "" && r.Name != p.Name {
					t.Errorf("goroutine %d %s: running/runnable/blocked/syscall %v, page %v (%s)", p.ID, r.Name, got, want, p.Name)
				}
				var cats time.Duration
				for _, d := range r.BlockedByCat {
					cats += d
				}
				if cats != r.Blocked {
					t.Errorf("goroutine %d: blocked by category adds up to %v, blocked %v", p.ID, cats, r.Blocked)
				}
			}
			compared++
		})
	}
	if compared == 0 {
		t.Error("no trace compared")
	}
}

func TestGoroutinesFilters(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/workers.trace")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Goroutines(context.Background(), bytes.NewReader(data), Filter{Name: regexp.MustCompile(`^main\.fetch\.func1$`), StateAtEnd: "blocked", Sort: "created"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d leaked fetch goroutines, want 3", len(rows))
	}
	for i, r := range rows {
		if r.ReasonAtEnd != "chan send" || r.Ended != -1 || r.Creator < 0 || i > 0 && r.Created < rows[i-1].Created {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	if _, err := Goroutines(context.Background(), bytes.NewReader(data), Filter{MinBlocked: time.Hour}); err == nil {
		t.Error("a filter that keeps nothing is not an error")
	}
	// Reused IDs are goroutines of their own.
	data, err = os.ReadFile("../../testdata/traces/callbacks.trace")
	if err != nil {
		t.Fatal(err)
	}
	rows, err = Goroutines(context.Background(), bytes.NewReader(data), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	reused := false
	for _, r := range rows {
		if seen[r.Label()] {
			t.Errorf("label %s twice", r.Label())
		}
		seen[r.Label()] = true
		reused = reused || r.Incarnation > 0
	}
	if !reused {
		t.Error("no reused ID in a trace of cgo callbacks")
	}
}

// TestGoroutinesSpilled: a list too long to hold, its rows moved to a
// temporary file, gives the rows the list held in memory gives (which
// TestGoroutinesMatchGoToolTracePages checks against go tool trace), in
// every order, whole and cut to a top past what a heap keeps.
func TestGoroutinesSpilled(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/goroutines10k.trace")
	if err != nil {
		t.Fatal(err)
	}
	list := func(sort string, top int) ([]Goroutine, int) {
		t.Helper()
		l, err := GoroutinesAt(context.Background(), bytes.NewReader(data), nil, Filter{Sort: sort}, top)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		rows := l.All()
		if err := l.Err(); err != nil {
			t.Fatal(err)
		}
		return rows, l.Total
	}
	defer func(n int) { spillRows = n }(spillRows)
	for _, sort := range Sorts {
		for _, top := range []int{0, heapTop + 1000} {
			spillRows = 1 << 30
			want, wantTotal := list(sort, top)
			spillRows = 100
			got, total := list(sort, top)
			if total != wantTotal || len(got) != len(want) {
				t.Fatalf("%s, top %d: %d of %d rows spilled, %d of %d held", sort, top, len(got), total, len(want), wantTotal)
			}
			if len(want) <= 2*100 {
				t.Fatalf("%s, top %d: %d rows, too few to spill", sort, top, len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%s, top %d: row %d spilled %+v, held %+v", sort, top, i, got[i], want[i])
				}
			}
		}
	}
}

// TestGoroutinesNotATrace: an input that is no trace is said to be so, as
// every command says it, not called a damaged trace.
func TestGoroutinesNotATrace(t *testing.T) {
	for _, in := range []string{"", "hello, this is not a trace at all"} {
		r := strings.NewReader(in)
		_, err := GoroutinesAt(context.Background(), r, r, Filter{Sort: "blocked"}, 20)
		if err == nil || errors.Is(err, timeline.ErrDamaged) {
			t.Errorf("%q: %v, want an error that is not damage", in, err)
		}
	}
}

// goroutineRows is every row GoroutinesAt lists, and its error.
func goroutineRows(t *testing.T, r io.Reader, at io.ReaderAt, f Filter, top int) ([]Goroutine, error) {
	t.Helper()
	l, err := GoroutinesAt(context.Background(), r, at, f, top)
	if l == nil {
		return nil, err
	}
	defer l.Close()
	rows := l.All()
	if rerr := l.Err(); rerr != nil {
		t.Fatal(rerr)
	}
	return rows, err
}

// TestGoroutinesInParts: read a generation per core, a trace gives the
// rows, and the error, it gives read in order: on every committed trace,
// on traces whose second generation is moved back (so that Merge mends
// the overlap, or leaves it to a reading in order), and on traces cut
// short, with filters that read the trace's end.
func TestGoroutinesInParts(t *testing.T) {
	names, _ := filepath.Glob("../../testdata/traces/*.trace")
	if testing.Short() {
		// Under the race detector: the parts' goroutines, and a trace
		// read in order after the parts gave up on it.
		names = []string{"../../testdata/traces/flight.trace"}
	}
	type input struct {
		name string
		data []byte
	}
	var ins []input
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, input{filepath.Base(name), data})
		if filepath.Base(name) == "flight.trace" {
			for _, ticks := range []int64{30000, -1} {
				moved, err := timelinetest.MoveBack(data, ticks)
				if err != nil {
					t.Fatal(err)
				}
				ins = append(ins, input{fmt.Sprintf("%s moved back %d ticks", filepath.Base(name), ticks), moved})
			}
			ins = append(ins, input{"flight.trace cut short", data[:len(data)*2/3]})
		}
	}
	filters := []Filter{{Sort: "blocked"}, {Sort: "created", From: 100 * time.Millisecond}, {Sort: "lifetime", StateAtEnd: "blocked", Name: regexp.MustCompile("main")}}
	if testing.Short() {
		filters = filters[:1]
	}
	for _, in := range ins {
		for _, f := range filters {
			want, werr := goroutineRows(t, bytes.NewReader(in.data), nil, f, 0)
			got, err := goroutineRows(t, bytes.NewReader(in.data), bytes.NewReader(in.data), f, 0)
			if fmt.Sprint(err) != fmt.Sprint(werr) {
				t.Errorf("%s, %+v: in parts %v, in order %v", in.name, f, err, werr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %+v: in parts %d rows, in order %d (or they differ)", in.name, f, len(got), len(want))
			}
		}
	}
}
