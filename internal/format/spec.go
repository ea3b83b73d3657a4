package format

import "strings"

// EventType is the first byte of every event on the wire. Its meaning depends
// on the trace Version: each version's table is a prefix of the full table.
type EventType uint8

// EventSpec describes how one event type is laid out on the wire. Decoding is
// driven entirely by these fields; no code switches over event types to find
// out how many bytes an event has.
type EventSpec struct {
	// Name is the event's name as the Go toolchain prints it
	// (go tool trace -d=wire).
	Name string

	// Args names each uvarint argument, in wire order. A name may end in a
	// type suffix after an underscore ("reason_string", "procs_value"); the
	// suffix "string" marks a string-table ID and the bare name "stack" (or
	// a "_stack" suffix) a stack-table ID. Timed events start with "dt".
	Args []string

	// StringArgs are the indexes into Args that hold string-table IDs.
	StringArgs []int

	// StackArgs are the indexes into Args that hold stack-table IDs. The
	// first, when present, is the stack of the event itself.
	StackArgs []int

	// StartEv is, for the end of a time range, the event type that begins
	// it. Zero otherwise.
	StartEv EventType

	// IsTimed reports that the event appears in an M's event stream and
	// its first argument is a timestamp delta from the previous event of
	// the same batch.
	IsTimed bool

	// HasData reports that the arguments are followed by a uvarint length
	// and that many raw bytes (string table entries, experimental batches).
	HasData bool

	// IsStack reports that the arguments (id, nframes) are followed by
	// nframes groups of four uvarints: PC, function string ID, file string
	// ID and line number.
	IsStack bool

	// Experiment is the experiment the event belongs to, or NoExperiment.
	Experiment Experiment
}

// ArgIndex returns the index of the argument called name, or -1.
func (s *EventSpec) ArgIndex(name string) int {
	for i, a := range s.Args {
		if a == name {
			return i
		}
	}
	return -1
}

// ArgKind is what an argument's value refers to, derived from its name.
type ArgKind uint8

const (
	ArgValue  ArgKind = iota // a plain number
	ArgTime                  // the timestamp delta of a timed event
	ArgString                // a string-table ID
	ArgStack                 // a stack-table ID
)

// ArgKindOf classifies an argument name by the naming convention above.
func ArgKindOf(name string) ArgKind {
	switch {
	case name == "dt":
		return ArgTime
	case strings.HasSuffix(name, "_string"):
		return ArgString
	case name == "stack" || strings.HasSuffix(name, "_stack") || name == "new_stack":
		return ArgStack
	}
	return ArgValue
}

// ArgLabel strips the type suffix from an argument name: "reason_string"
// becomes "reason", "procs_value" becomes "procs". Names such as "new_g" or
// "p_seq", whose suffix is part of the name, are returned unchanged.
func ArgLabel(name string) string {
	for _, suf := range []string{"_string", "_value"} {
		if strings.HasSuffix(name, suf) {
			return strings.TrimSuffix(name, suf)
		}
	}
	return name
}

// Experiment identifies a trace experiment: extra events and batches the
// runtime writes only when asked to (GODEBUG=traceallocfree=1).
type Experiment uint8

const (
	NoExperiment Experiment = iota
	AllocFree               // heap span, heap object and goroutine stack events
	NumExperiments
)

var experimentNames = [...]string{NoExperiment: "None", AllocFree: "AllocFree"}

func (e Experiment) String() string {
	if int(e) < len(experimentNames) {
		return experimentNames[e]
	}
	return "Experiment(" + itoa(uint64(e)) + ")"
}

// Batch kinds inside an AllocFree experimental batch: the first byte of the
// batch data says which.
const (
	AllocFreeTypesBatch = 0 // [{id, address, size, ptr bytes, name length, name}...]
	AllocFreeInfoBatch  = 1 // [min heap addr, page size, min heap align, min stack align]
)

// Limits the runtime never exceeds; a trace that does is corrupt.
const (
	MaxBatchSize      = 64 << 10 // bytes of events in one batch
	MaxFramesPerStack = 128      // frames in one stack table entry
	MaxDataSize       = 1 << 10  // bytes of trailer data on one event (strings)
)

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
