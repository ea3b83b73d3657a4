package stats

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
)

// TestGoroutineTotalsMatchGoToolTracePages: per start function, the
// running, runnable, blocked and syscall totals equal the sums of go tool
// trace's goroutine pages for the same bytes, to the nanosecond, plus
// the time after a goroutine blocks forever, which gotrace counts.
func TestGoroutineTotalsMatchGoToolTracePages(t *testing.T) {
	compared := 0
	for _, path := range committedTraces(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := readTrace(t, filepath.Base(path))
			src, err := timeline.NewSource(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			pages, ok, err := reftest.GoroutinePages(src)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				t.Skip("goroutine IDs are reused: the pages key goroutines by ID")
			}
			want := make(map[string]*reftest.Page)
			for _, g := range pages {
				name := g.Name
				if name == "" {
					name = unknownFunc
				}
				w := want[name]
				if w == nil {
					w = &reftest.Page{}
					want[name] = w
				}
				w.Running += g.Running
				w.Runnable += g.Runnable
				w.Blocked += g.Blocked + g.Forever
				w.Syscall += g.Syscall
			}
			m, err := Compute(context.Background(), path, bytes.NewReader(data), int64(len(data)), Options{Top: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Goroutines.Groups) != len(want) {
				t.Errorf("%d groups, the pages have %d start functions", len(m.Goroutines.Groups), len(want))
			}
			for _, g := range m.Goroutines.Groups {
				w := want[g.Func]
				if w == nil {
					t.Errorf("group %s: not on the pages", g.Func)
					continue
				}
				if int64(g.Running) != int64(w.Running) || int64(g.Runnable) != int64(w.Runnable) ||
					int64(g.Blocked) != int64(w.Blocked) || int64(g.Syscall) != int64(w.Syscall) {
					t.Errorf("%s: running/runnable/blocked/syscall %d/%d/%d/%d ns, pages %d/%d/%d/%d",
						g.Func, g.Running, g.Runnable, g.Blocked, g.Syscall, w.Running, w.Runnable, w.Blocked, w.Syscall)
				}
			}
			compared++
		})
	}
	if compared == 0 {
		t.Error("no trace compared")
	}
}
