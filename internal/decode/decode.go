// Package decode parses the Go execution trace wire format (version 2, Go
// 1.22 and later) one generation at a time: batches, events with their
// arguments, and each generation's tables (frequency, clock snapshot,
// strings, stacks, CPU samples, AllocFree types).
//
// It frames and decodes; it does not interpret. Goroutine and processor
// state machines, ordering across threads and validation of sequence numbers
// belong to golang.org/x/exp/trace.
//
// A Reader streams: it holds one generation's bytes at a time, so memory
// grows with the largest generation, not with the file. A Generation and
// everything it points to (batches, events, argument slices, data) is valid
// until the next call to Next, which reuses the backing arrays; call
// Generation.Clone to keep one longer.
//
// How much of a generation Next decodes is the Reader's Detail: Full (every
// event), Counts (tables; other events walked only to count them, then
// decoded batch by batch on demand with BatchEvents) or Frames (tables and
// batch framing only). Full holds every event of a generation at once, about
// twenty bytes of memory per byte of the generation (some 450 MB for a 20 MB
// one); Counts and Frames need little beyond the generation's bytes, and
// Reader.EachEvent reads every event, under any detail, in that space.
//
// Generations are independent, so Reader.Parallel decodes several at once,
// one per worker goroutine, and hands each to a function that runs
// concurrently for different generations, with a GenReader to read its
// events as Reader.EachEvent and Reader.BatchEvents do (both satisfy
// EventReader). Memory then grows with the largest generation times the
// number of workers; errors are reported as a loop over Next reports them,
// after every generation before the damage.
package decode

// The real traces the tests compare with go tool trace -d=wire.
//go:generate go run -trimpath ../../testdata/progs/demo ../../testdata/traces/demo.trace
//go:generate env GODEBUG=traceallocfree=1 go run -trimpath ../../testdata/progs/allocfree ../../testdata/traces/allocfree.trace

import (
	"errors"
	"math/bits"
	"strconv"
	"time"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// Generation is one self-contained part of a trace: every batch written
// between two generation boundaries, with the tables those batches carry.
type Generation struct {
	// Version is the trace's format version.
	Version format.Version

	// Num is the generation number the batches carry.
	Num uint64

	// Offset and End delimit the generation's bytes in the input: [Offset, End).
	Offset, End int64

	// Frequency is the timestamp frequency in ticks per second, from the
	// generation's Frequency event (inside its Sync batch from Go 1.25).
	// Zero when the generation has none.
	Frequency uint64

	// Clock is the generation's clock snapshot (Go 1.25+), nil before.
	Clock *ClockSnapshot

	// Strings is the string table: ID to string.
	Strings map[uint64]string

	// Stacks is the stack table: ID to stack, frames resolved via Strings.
	Stacks map[uint64]*Stack

	// Types is the AllocFree type table, in input order (empty unless the
	// trace was recorded with GODEBUG=traceallocfree=1).
	Types []Type

	// AllocFreeInfo holds the AllocFree experiment's address parameters,
	// nil when the generation has none.
	AllocFreeInfo *AllocFreeInfo

	// CPUSamples are the CPU profile samples, in input order.
	CPUSamples []CPUSample

	// Batches is every batch in input order, table batches included. A
	// Go 1.26 in-band end of generation is a batch too (Header
	// EvEndOfGeneration) holding one EndOfGeneration event. Under the
	// Counts and Frames details only table batches carry their Events;
	// Reader.BatchEvents decodes the others.
	Batches []Batch

	// Events counts the events inside the generation's batches, as
	// go tool trace -d=wire lists them, batch headers (EventBatch,
	// ExperimentalBatch) excluded: an experimental batch contributes none,
	// an in-band EndOfGeneration one. It is -1 under the Frames detail,
	// which does not walk events.
	Events int

	// Counts is the footprint by event type: how many events of each type
	// and how many bytes they take. Batch headers are counted under
	// EvEventBatch and EvExperimentalBatch with their header bytes (and, for
	// an experimental batch, its data).
	Counts [256]EventCount

	// MinTime and MaxTime are the first and last timestamps in ticks over
	// batch base times and timed events.
	MinTime, MaxTime uint64
}

// EventCount is the footprint of one event type in a generation.
type EventCount struct {
	Events int64 // number of events
	Bytes  int64 // bytes they take, type byte included
}

// ClockSnapshot ties the trace clock to the monotonic and wall clocks at one
// moment (Go 1.25+).
type ClockSnapshot struct {
	Time uint64 // trace clock, in ticks
	Mono uint64 // monotonic clock, in nanoseconds
	Sec  uint64 // wall clock: seconds since the Unix epoch
	Nsec uint64 // wall clock: nanoseconds within the second
}

// Stack is one stack table entry.
type Stack struct {
	ID     uint64
	Frames []Frame // leaf first

	summary string // Summary, computed once
}

// Frame is one frame of a Stack, its names resolved from the string table
// (empty when the table lacks the ID).
type Frame struct {
	PC     uint64
	Func   string
	File   string
	Line   uint64
	FuncID uint64 // string-table ID of Func
	FileID uint64 // string-table ID of File
}

// Type is one entry of the AllocFree type table.
type Type struct {
	ID       uint64 // the ID heap object events refer to
	Addr     uint64 // address of the runtime type descriptor
	Size     uint64 // size of a value in bytes
	PtrBytes uint64 // prefix of a value that may hold pointers, in bytes
	Name     string
}

// AllocFreeInfo is what the AllocFree experiment needs to turn IDs back
// into addresses.
type AllocFreeInfo struct {
	MinHeapAddr   uint64
	PageSize      uint64
	MinHeapAlign  uint64
	MinStackAlign uint64
}

// CPUSample is one CPU profile sample.
type CPUSample struct {
	Time  uint64 // timestamp in ticks
	M     uint64 // thread
	P     uint64 // processor, all ones when none
	G     uint64 // goroutine, all ones when none
	Stack uint64 // stack-table ID
}

// Batch is one batch: a header and the events it frames.
type Batch struct {
	// Offset is the byte offset of the batch's first (header) byte.
	Offset int64
	// Size is the length of the batch's events (or, for an experimental
	// batch, its data) in bytes, header excluded.
	Size int
	// Header is EvEventBatch, EvExperimentalBatch or, for a lone in-band
	// end of generation, EvEndOfGeneration.
	Header format.EventType
	// M is the thread that wrote the batch, format.NoThread when none.
	M uint64
	// Time is the batch's base timestamp in ticks.
	Time uint64
	// Last is the timestamp in ticks of the batch's last timed event,
	// Time when it has none. Under the Frames detail, which does not walk
	// events, it is Time.
	Last uint64
	// Exp is the experiment of an experimental batch.
	Exp format.Experiment
	// Events are the batch's events. An experimental batch has none: its
	// content is Data.
	Events []Event
	// Data is an experimental batch's content, nil otherwise.
	Data []byte
}

// Event is one event as written on the wire.
type Event struct {
	// Type is the event's type byte.
	Type format.EventType
	// Offset is the byte offset of the type byte in the input.
	Offset int64
	// Time is the absolute timestamp in ticks of a timed event (batch base
	// time plus the deltas so far), 0 for others.
	Time uint64
	// Args are the wire arguments in spec order, dt included; a stack
	// table entry has its frames appended, four values each. The slice
	// shares a per-generation backing array.
	Args []uint64
	// Data is the trailer data of events that have it (strings).
	Data []byte
}

// Error is damage found in the input, with its place.
type Error struct {
	Offset int64  // byte offset in the input
	Gen    uint64 // generation number, 0 when not known
	Batch  int    // index in Generation.Batches, -1 when not in a batch
	Event  string // name of the event being read, "" when none
	Err    error
}

func (e *Error) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "byte 0x"...)
	b = strconv.AppendInt(b, e.Offset, 16)
	if e.Gen != 0 || e.Batch >= 0 {
		b = append(b, " ("...)
		if e.Gen != 0 {
			b = append(b, "gen "...)
			b = strconv.AppendUint(b, e.Gen, 10)
		}
		if e.Batch >= 0 {
			if e.Gen != 0 {
				b = append(b, ", "...)
			}
			b = append(b, "batch "...)
			b = strconv.AppendInt(b, int64(e.Batch), 10)
		}
		b = append(b, ')')
	}
	b = append(b, ": "...)
	if e.Event != "" {
		b = append(b, e.Event...)
		b = append(b, ": "...)
	}
	b = append(b, e.Err.Error()...)
	return string(b)
}

func (e *Error) Unwrap() error { return e.Err }

// Errors that Error may wrap, for errors.Is.
var (
	// ErrOldFormat marks a trace in the Go 1.11–1.21 format.
	ErrOldFormat = errors.New("trace format of Go 1.11–1.21; gotrace stats, check, diff, pprof, export, goroutines, tasks, why and view read it")
	// ErrEmpty marks input with no bytes at all.
	ErrEmpty = errors.New("empty input, want a trace header")
	// ErrCorrupt marks bytes that cannot be a valid trace at that place.
	ErrCorrupt = errors.New("corrupt trace")
)

// Duration is the time between the generation's first and last timestamps,
// converted with its Frequency; 0 without a frequency.
func (g *Generation) Duration() time.Duration {
	if g.MaxTime < g.MinTime {
		return 0
	}
	return time.Duration(TicksToNanos(g.MaxTime-g.MinTime, g.Frequency))
}

// Nanos converts a tick timestamp of this generation to nanoseconds with
// the generation's frequency.
func (g *Generation) Nanos(ticks uint64) int64 { return TicksToNanos(ticks, g.Frequency) }

// TicksToNanos converts ticks at freq ticks per second to nanoseconds,
// without overflowing on the way. It returns 0 when freq is 0 and saturates
// at the largest int64.
func TicksToNanos(ticks, freq uint64) int64 {
	if freq == 0 {
		return 0
	}
	if freq == 1e9 {
		if ticks > 1<<63-1 {
			return 1<<63 - 1
		}
		return int64(ticks)
	}
	hi, lo := bits.Mul64(ticks, 1e9)
	if hi >= freq {
		return 1<<63 - 1
	}
	q, _ := bits.Div64(hi, lo, freq)
	if q > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(q)
}

// Arg returns the argument called name (as the event's spec names it, e.g.
// "g", "reason_string", "stack") and whether the event has it.
func (g *Generation) Arg(ev *Event, name string) (uint64, bool) {
	s := g.Version.Spec(ev.Type)
	if s == nil {
		return 0, false
	}
	i := s.ArgIndex(name)
	if i < 0 || i >= len(ev.Args) {
		return 0, false
	}
	return ev.Args[i], true
}

// ArgText resolves argument i of ev to text when it is a string or stack
// ID: the string itself, or the stack's leaf function (with "+N" for N more
// frames). It reports false for plain values and unknown IDs; stack ID 0,
// the empty stack, resolves to "".
func (g *Generation) ArgText(ev *Event, i int) (string, bool) {
	s := g.Version.Spec(ev.Type)
	if s == nil || i < 0 || i >= len(s.Args) || i >= len(ev.Args) {
		return "", false
	}
	switch format.ArgKindOf(s.Args[i]) {
	case format.ArgString:
		str, ok := g.Strings[ev.Args[i]]
		return str, ok
	case format.ArgStack:
		if ev.Args[i] == 0 {
			return "", true
		}
		st := g.Stacks[ev.Args[i]]
		if st == nil {
			return "", false
		}
		return st.Summary(), true
	}
	return "", false
}

// Summary is the stack's leaf function, followed by " +N" when N more
// frames are below it; "" for an empty stack.
func (s *Stack) Summary() string {
	if s.summary != "" || len(s.Frames) == 0 {
		return s.summary
	}
	if len(s.Frames) == 1 {
		return s.Frames[0].Func
	}
	return s.Frames[0].Func + " +" + strconv.Itoa(len(s.Frames)-1)
}

// Clone returns a deep copy of g that stays valid after the next call to
// Reader.Next.
func (g *Generation) Clone() *Generation {
	c := *g
	c.Strings = make(map[uint64]string, len(g.Strings))
	for k, v := range g.Strings {
		c.Strings[k] = v
	}
	c.Stacks = make(map[uint64]*Stack, len(g.Stacks))
	for k, v := range g.Stacks {
		c.Stacks[k] = &Stack{ID: v.ID, Frames: append([]Frame(nil), v.Frames...)}
	}
	if g.Clock != nil {
		cl := *g.Clock
		c.Clock = &cl
	}
	if g.AllocFreeInfo != nil {
		in := *g.AllocFreeInfo
		c.AllocFreeInfo = &in
	}
	c.Types = append([]Type(nil), g.Types...)
	c.CPUSamples = append([]CPUSample(nil), g.CPUSamples...)
	c.Batches = make([]Batch, len(g.Batches))
	nev, nargs, ndata := 0, 0, 0
	for _, b := range g.Batches {
		nev += len(b.Events)
		ndata += len(b.Data)
		for _, e := range b.Events {
			nargs += len(e.Args)
			ndata += len(e.Data)
		}
	}
	events := make([]Event, 0, nev)
	args := make([]uint64, 0, nargs)
	data := make([]byte, 0, ndata)
	for i, b := range g.Batches {
		nb := b
		if b.Data != nil {
			d0 := len(data)
			data = append(data, b.Data...)
			nb.Data = data[d0:len(data):len(data)]
		}
		e0 := len(events)
		for _, e := range b.Events {
			a0 := len(args)
			args = append(args, e.Args...)
			e.Args = args[a0:len(args):len(args)]
			if e.Data != nil {
				d0 := len(data)
				data = append(data, e.Data...)
				e.Data = data[d0:len(data):len(data)]
			}
			events = append(events, e)
		}
		if b.Events != nil {
			nb.Events = events[e0:len(events):len(events)]
		}
		c.Batches[i] = nb
	}
	return &c
}
