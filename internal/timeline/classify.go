package timeline

import (
	"iter"
	"strings"

	"golang.org/x/exp/trace"
)

// Category is what a blocked goroutine waits for, in the words a Go
// engineer uses. The runtime's reason strings are finer in some places
// ("chan send", "chan receive") and coarser in others ("sync" is a
// mutex, a WaitGroup or one of the runtime's own semaphores): the stack
// at the wait tells those apart.
type Category uint8

const (
	Channel   Category = iota // chan send, chan receive
	Select                    // select
	Mutex                     // sync.Mutex, sync.RWMutex (and what is built on them)
	WaitGroup                 // sync.WaitGroup.Wait
	Cond                      // sync.Cond.Wait
	Network                   // the network poller
	Sleep                     // time.Sleep
	GC                        // waits on the garbage collector
	Runtime                   // the runtime's own waits: its semaphores, system goroutines
	Other                     // anything else, "forever" included
	NumCategories
)

var categoryNames = [NumCategories]string{"channel", "select", "mutex", "waitgroup", "cond", "network", "sleep", "gc", "runtime", "other"}

func (c Category) String() string {
	if c < NumCategories {
		return categoryNames[c]
	}
	return "other"
}

// ReasonCategory is the category of a wait from its reason alone: a
// "sync" wait is Mutex until its stack says otherwise (see Classify).
func ReasonCategory(reason string) Category {
	switch {
	case strings.HasPrefix(reason, "chan"):
		return Channel
	case reason == "select":
		return Select
	case reason == "sync.(*Cond).Wait":
		return Cond
	case reason == "sync" || strings.Contains(reason, "sync."):
		return Mutex
	case reason == "network":
		return Network
	case reason == "sleep":
		return Sleep
	case strings.HasPrefix(reason, "GC") || reason == "wait until GC ends":
		return GC
	case reason == "system goroutine wait":
		return Runtime
	}
	return Other
}

// Stack is a stack as golang.org/x/exp/trace and internal/order hand
// them out: frames, innermost first.
type Stack interface {
	Frames() iter.Seq[trace.StackFrame]
}

// Classify is the category of a wait for reason with stack st, the stack
// of the goroutine as it blocked (innermost frame first).
func Classify[S Stack](reason string, st S) Category {
	c := ReasonCategory(reason)
	if c != Mutex {
		return c
	}
	return SyncCategory(func(yield func(string) bool) {
		for f := range st.Frames() {
			if !yield(f.Func) {
				return
			}
		}
	})
}

// SyncCategory tells a "sync" wait's kind from the functions of its stack,
// innermost first: the first frame past the runtime's semaphore code says
// who waits.
func SyncCategory(funcs iter.Seq[string]) Category {
	for fn := range funcs {
		switch {
		case isSemaFrame(fn):
			continue
		case strings.HasPrefix(fn, "sync.(*WaitGroup)."):
			return WaitGroup
		case strings.HasPrefix(fn, "sync.(*Cond)."):
			return Cond
		case strings.HasPrefix(fn, "sync.") || strings.HasPrefix(fn, "internal/sync."):
			return Mutex
		case strings.HasPrefix(fn, "runtime."):
			return Runtime // e.g. runtime.gcMarkDone, runtime.traceAdvance
		default:
			return Mutex // a lock the program built on the runtime's semaphores
		}
	}
	return Mutex
}

// isSemaFrame reports whether fn is the runtime's parking and semaphore
// code that every "sync" wait goes through.
func isSemaFrame(fn string) bool {
	switch fn {
	case "runtime.gopark", "runtime.goparkunlock", "runtime.semacquire", "runtime.semacquire1",
		"runtime.sync_runtime_Semacquire", "runtime.sync_runtime_SemacquireMutex",
		"runtime.sync_runtime_SemacquireRWMutex", "runtime.sync_runtime_SemacquireRWMutexR",
		"runtime.sync_runtime_SemacquireWaitGroup", "runtime.notifyListWait",
		"runtime.sync_runtime_notifyListWait", "internal/sync.runtime_SemacquireMutex":
		return true
	}
	return strings.HasPrefix(fn, "runtime.semacquire") || strings.HasPrefix(fn, "internal/sync.runtime_") ||
		strings.HasPrefix(fn, "sync.runtime_")
}

// Profile is the go tool trace -pprof profile a wait counts towards.
type Profile uint8

const (
	NoProfile   Profile = iota
	SyncProfile         // -pprof=sync: channels, select, sync primitives
	NetProfile          // -pprof=net: the network poller
)

// ProfileOf is the profile a wait for reason counts towards, by go tool
// trace's rule.
func ProfileOf(reason string) Profile {
	switch {
	case strings.Contains(reason, "chan") || strings.Contains(reason, "sync") || strings.Contains(reason, "select"):
		return SyncProfile
	case reason == "network":
		return NetProfile
	}
	return NoProfile
}

// StartFunc names a goroutine as go tool trace does: by the root frame of
// a stack of it (the outermost function), "" for no stack.
func StartFunc[S Stack](st S) string {
	name := ""
	for f := range st.Frames() {
		name = f.Func
	}
	return name
}

// Kind says whose a goroutine is: the program's, the runtime's, or the
// tools' that watch it (the tracer's and profiler's helpers, gotrace's
// own shim), which a report about the program should not lead with.
type Kind uint8

const (
	User Kind = iota
	RuntimeKind
	Tooling
	NumKinds
)

var kindNames = [NumKinds]string{"user", "runtime", "tooling"}

func (k Kind) String() string {
	if k < NumKinds {
		return kindNames[k]
	}
	return "user"
}

// ParseKind returns the Kind named s.
func ParseKind(s string) (Kind, bool) {
	for k, n := range kindNames {
		if n == s {
			return Kind(k), true
		}
	}
	return 0, false
}

// toolingFuncs are the start functions of the goroutines that tracing and
// profiling add to a program.
var toolingFuncs = map[string]bool{
	"runtime.traceStartReadCPU.func1":                     true, // moves CPU samples into the trace
	"runtime.(*traceAdvancerState).start.func1":           true, // starts each new generation
	"runtime/trace.(*traceMultiplexer).startLocked.func1": true, // runtime/trace's writer
	"runtime/trace.Start.func1":                           true,
	"runtime/trace.(*FlightRecorder).Start.func1":         true,
	"runtime/pprof.profileWriter":                         true, // the CPU profiler's
}

// KindOf is the kind of a goroutine with start function fn ("" when not
// known: the program's, until a stack says otherwise).
func KindOf(fn string) Kind {
	switch {
	case toolingFuncs[fn] || IsShimFrame(fn):
		return Tooling
	case fn == "runtime.cgocallback" || fn == "runtime.goexit" || fn == "runtime.main":
		// C calling into Go, and frames that stand for the program's
		// own goroutines when the stack is cut short.
		return User
	case strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "runtime/") || strings.HasPrefix(fn, "internal/"):
		return RuntimeKind
	}
	return User
}

// IsShimFrame reports whether fn is part of the code gotrace record adds
// to a program, which no stack gotrace prints should show.
func IsShimFrame(fn string) bool {
	return strings.HasPrefix(fn, "main._gotrace") || strings.HasPrefix(fn, "main.(*_gotrace")
}

// IsUserFrame reports whether fn is the program's own code rather than the
// runtime's or the standard library's: in package main, or in a package
// whose import path begins with a domain (a dot in its first element).
func IsUserFrame(fn string) bool {
	if IsShimFrame(fn) {
		return false
	}
	if strings.HasPrefix(fn, "main.") {
		return true
	}
	first, _, _ := strings.Cut(fn, "/")
	return strings.Contains(first, ".") && strings.Contains(fn, "/")
}
