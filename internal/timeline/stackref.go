package timeline

import (
	"iter"

	"github.com/gotrace-cli/gotrace/internal/order"
	"golang.org/x/exp/trace"
)

// StackRef is a stack as the Tracker keeps it: golang.org/x/exp/trace's
// for events read with it (Tracker.Event), internal/order's for events read
// with that (Tracker.Take). It holds its generation's tables, as either
// does. The zero StackRef has no frames. StackRefs are comparable: two of
// one stack handed out by one generation are equal.
type StackRef struct {
	x trace.Stack
	o order.Stack
}

// XStack is s as a StackRef.
func XStack(s trace.Stack) StackRef { return StackRef{x: s} }

// OrderStack is s as a StackRef.
func OrderStack(s order.Stack) StackRef { return StackRef{o: s} }

// Frames yields the stack's frames, innermost first.
func (s StackRef) Frames() iter.Seq[trace.StackFrame] {
	if s.o != (order.Stack{}) {
		return s.o.Frames()
	}
	return s.x.Frames()
}
