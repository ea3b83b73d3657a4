package timeline

import (
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

// Classify is the category of a wait for reason with stack st, the stack
// of the goroutine as it blocked (innermost frame first).
func Classify(reason string, st trace.Stack) Category {
	c := ReasonCategory(reason)
	if c != Mutex || st == trace.NoStack {
		return c
	}
	return syncCategory(st)
}

// syncCategory tells a "sync" wait's kind from its stack: the first frame
// past the runtime's semaphore code says who waits.
func syncCategory(st trace.Stack) Category {
	for f := range st.Frames() {
		fn := f.Func
		switch {
		case strings.HasPrefix(fn, "sync.(*WaitGroup)."):
			return WaitGroup
		case strings.HasPrefix(fn, "sync.(*Cond)."):
			return Cond
		case strings.HasPrefix(fn, "sync.") || strings.HasPrefix(fn, "internal/sync."):
			return Mutex
		case isSemaFrame(fn):
			continue
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
	return strings.HasPrefix(fn, "runtime.semacquire") || strings.HasPrefix(fn, "internal/sync.runtime_")
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
func StartFunc(st trace.Stack) string {
	name := ""
	for f := range st.Frames() {
		name = f.Func
	}
	return name
}
