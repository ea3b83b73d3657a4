package timeline

import (
	"context"
	"fmt"

	"golang.org/x/exp/trace"
)

// Pipe runs read on a goroutine of its own and calls fn, on the caller's
// goroutine, with every event read hands to send, in order, with the tag
// it was sent with (a generation's number, say): reading through
// golang.org/x/exp/trace and what is done with the events then take a
// core each, as a read of the whole trace in order cannot be split. It
// returns read's error once fn has seen every event sent before it, ctx's
// error when ctx ends first, or nil as soon as fn returns false; fn is not
// called again then, and send returns false to read, which is to return.
//
// The events cross in chunks, copied. An event's tables are its
// generation's, which x/exp/trace has read in full before it hands out
// the first of its events, so the caller reads them while the reader
// reads on, except for one: x/exp/trace looks an ending task's type up in
// a table that it grows as it reads. A TaskEnd event sent with keep false
// crosses as a copy with a table of its own, which keeps its time, kind,
// goroutine, P, thread and task but not its stack (copying a stack costs
// several times what reading the event does); sent with keep true, or
// when it cannot be copied so, it crosses as it is and the reader waits
// until fn is done with it before reading on.
//
// A panic in golang.org/x/exp/trace while fn reads an event (of a damaged
// trace) is returned as an error.
func Pipe(ctx context.Context, read func(send Send) error, fn func(ev *trace.Event, tag int) bool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if !PanicInXExp() {
				panic(p) // a bug of gotrace's own, not damage
			}
			err = fmt.Errorf("reading events failed: %v", p)
		}
	}()
	full := make(chan []tagged, pipeChunks-1)
	free := make(chan []tagged, pipeChunks)
	for range pipeChunks {
		free <- nil
	}
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(full)
		errc <- pipeRead(read, full, free, stop)
	}()
	defer func() {
		close(stop)
		for range full {
		}
	}()
	for chunk := range full {
		for i := range chunk {
			if !fn(&chunk[i].ev, chunk[i].tag) {
				return nil
			}
		}
		free <- chunk[:0]
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return <-errc
}

// Send hands an event, with its tag, to the other side of a Pipe; keep
// says whether a TaskEnd event is to keep its stack. It returns false when
// the Pipe has stopped: read is then to return.
type Send func(ev *trace.Event, tag int, keep bool) bool

// tagged is an event crossing a Pipe, with its tag.
type tagged struct {
	ev  trace.Event
	tag int
}

// A Pipe's two goroutines pass pipeChunks chunks round, each of up to
// pipeChunkLen events: about a megabyte in all. A chunk's backing array
// grows as it fills, so a small trace takes little.
const pipeChunks = 4

// pipeChunkLen is a variable for the tests, which hand small traces over
// in many chunks.
var pipeChunkLen = 4096

// pipeRead is the reading side of a Pipe.
func pipeRead(read func(Send) error, full, free chan []tagged, stop chan struct{}) error {
	var buf []tagged
	select {
	case buf = <-free:
	case <-stop:
		return nil
	}
	// flush hands buf over and takes a free chunk, false when stopped.
	flush := func() bool {
		if len(buf) == 0 {
			return true
		}
		select {
		case full <- buf:
		case <-stop:
			return false
		}
		select {
		case buf = <-free:
		case <-stop:
			return false
		}
		return true
	}
	// settle hands buf over and waits until every chunk is back: fn has
	// seen every event sent so far.
	settle := func() bool {
		if !flush() {
			return false
		}
		var back [pipeChunks - 1][]tagged
		for i := range back {
			select {
			case back[i] = <-free:
			case <-stop:
				return false
			}
		}
		for _, b := range back {
			free <- b
		}
		return true
	}
	stopped := false
	err := read(func(ev *trace.Event, tag int, keep bool) bool {
		if stopped {
			return false
		}
		buf = append(buf, tagged{*ev, tag})
		wait := false
		if ev.Kind() == trace.EventTaskEnd {
			wait = keep || !detachTask(&buf[len(buf)-1].ev)
		}
		switch {
		case wait:
			stopped = !settle()
		case len(buf) == pipeChunkLen:
			stopped = !flush()
		}
		return !stopped
	})
	if stopped || !flush() {
		return nil
	}
	return err
}

// detachTask makes the TaskEnd event ev a copy with a table of its own and
// without its stack (see Pipe). It reports false when it cannot: a task
// whose ID is trace.NoTask.
func detachTask(ev *trace.Event) bool {
	tk := ev.Task()
	if tk.Type == "" {
		return true // N.B. an empty type is never looked up in a table
	}
	d, err := trace.MakeEvent(trace.EventConfig[trace.Task]{
		Time:      ev.Time(),
		Kind:      trace.EventTaskEnd,
		Goroutine: ev.Goroutine(),
		Proc:      ev.Proc(),
		Thread:    ev.Thread(),
		Details:   tk,
	})
	if err != nil {
		return false
	}
	*ev = d
	return true
}
