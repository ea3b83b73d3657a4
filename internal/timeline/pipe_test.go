package timeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/exp/trace"
)

// pipeTraces are traces with tasks, over generations, and one whose
// generations overlap; under -short (the race detector's run) the
// first two.
func pipeTraces(t *testing.T) map[string][]byte {
	names := []string{"annotated.trace", "requests.trace", "overlap.trace"}
	if testing.Short() {
		names = names[:2]
	}
	out := map[string][]byte{}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "traces", n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = data
	}
	return out
}

// describeEvent is what a reader sees of an event, its stack and task's type
// and its generation's tables read through it: read where the event is
// handled, so that an event whose tables the reader still writes shows
// under the race detector.
func describeEvent(ev *trace.Event, stack bool) string {
	s := fmt.Sprintf("%v %v g%d p%d m%d", ev.Time(), ev.Kind(), ev.Goroutine(), ev.Proc(), ev.Thread())
	switch ev.Kind() {
	case trace.EventTaskBegin, trace.EventTaskEnd:
		tk := ev.Task()
		s += fmt.Sprintf(" task %d %q parent %d", tk.ID, tk.Type, tk.Parent)
	case trace.EventRegionBegin, trace.EventRegionEnd:
		s += fmt.Sprintf(" region %q", ev.Region().Type)
	case trace.EventLog:
		s += fmt.Sprintf(" log %q", ev.Log().Message)
	case trace.EventStateTransition:
		st := ev.StateTransition()
		s += fmt.Sprintf(" %v %q", st.Resource, st.Reason)
	}
	if stack {
		for f := range ev.Stack().Frames() {
			s += " " + f.Func
		}
	}
	return s
}

// TestPipeParallel: the events handed through a Pipe are those read in
// order, each as golang.org/x/exp/trace gives it, but for the stacks of
// the ending tasks not kept; the tags come with them.
func TestPipeParallel(t *testing.T) {
	// N.B. Small chunks: both sides work at once on these small traces.
	defer func(n int) { pipeChunkLen = n }(pipeChunkLen)
	pipeChunkLen = 7
	for name, data := range pipeTraces(t) {
		var want []string
		taskEnds := 0
		if _, err := Read(bytes.NewReader(data), func(ev *trace.Event) bool {
			want = append(want, describeEvent(ev, true))
			if ev.Kind() == trace.EventTaskEnd {
				taskEnds++
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
		for _, keepAll := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/keep=%v", name, keepAll), func(t *testing.T) {
				var got []string
				var stackless []bool
				ends, sent := 0, 0
				err := Pipe(context.Background(), func(send Send) error {
					_, err := Read(bytes.NewReader(data), func(ev *trace.Event) bool {
						sent++
						return send(ev, sent, keepAll)
					})
					return err
				}, func(ev *trace.Event, tag int) bool {
					if tag != len(got)+1 {
						t.Fatalf("event %d came with tag %d", len(got)+1, tag)
					}
					whole := keepAll || ev.Kind() != trace.EventTaskEnd
					if !whole {
						ends++
					}
					got = append(got, describeEvent(ev, whole))
					stackless = append(stackless, !whole)
					return true
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%d events, read in order %d", len(got), len(want))
				}
				for i := range got {
					w := want[i]
					if stackless[i] && strings.HasPrefix(w, got[i]) {
						continue // the same but for the stack
					}
					if got[i] != w {
						t.Fatalf("event %d:\n%s\nread in order:\n%s", i, got[i], w)
					}
				}
				if !keepAll && ends != taskEnds {
					t.Errorf("%d tasks ended without their stacks, read in order %d ended", ends, taskEnds)
				}
			})
		}
	}
}

// TestPipeStops: fn returning false, ctx ending and read failing each end
// a Pipe with what they say, and the reader stops too.
func TestPipeStops(t *testing.T) {
	// N.B. More events than the chunks hold, so that ctx stops it early.
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "traces", "overlap.trace"))
	if err != nil {
		t.Fatal(err)
	}
	var total int
	Read(bytes.NewReader(data), func(*trace.Event) bool { total++; return true })
	readAll := func(sent *int) func(Send) error {
		return func(send Send) error {
			_, err := Read(bytes.NewReader(data), func(ev *trace.Event) bool {
				*sent++
				return send(ev, 0, false)
			})
			return err
		}
	}
	t.Run("fn", func(t *testing.T) {
		seen, sent := 0, 0
		err := Pipe(context.Background(), readAll(&sent), func(*trace.Event, int) bool {
			seen++
			return seen < 10
		})
		if err != nil || seen != 10 {
			t.Errorf("err %v after %d events, want nil after 10", err, seen)
		}
	})
	t.Run("ctx", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		seen, sent := 0, 0
		err := Pipe(ctx, readAll(&sent), func(*trace.Event, int) bool {
			seen++
			cancel()
			return true
		})
		if !errors.Is(err, context.Canceled) || seen == total {
			t.Errorf("err %v after %d of %d events, want context.Canceled before the end", err, seen, total)
		}
	})
	t.Run("read", func(t *testing.T) {
		boom := errors.New("boom")
		seen := 0
		err := Pipe(context.Background(), func(send Send) error {
			n := 0
			_, err := Read(bytes.NewReader(data), func(ev *trace.Event) bool {
				n++
				return n <= 5 && send(ev, 0, false)
			})
			if err != nil {
				return err
			}
			return boom
		}, func(*trace.Event, int) bool { seen++; return true })
		if !errors.Is(err, boom) || seen != 5 {
			t.Errorf("err %v after %d events, want boom after 5", err, seen)
		}
	})
}
