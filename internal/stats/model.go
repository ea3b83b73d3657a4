// Package stats computes what a trace holds: goroutines, scheduling,
// blocking, GC and memory, syscalls, user annotations, CPU samples, the
// wire-level footprint, and findings such as leak suspects. The result is a
// Model of plain structs with raw integers (nanoseconds, bytes, counts),
// ready for rendering by package report and for assertions by gotrace check.
//
// Every numeric field carries a `unit` and a `help` struct tag. They are the
// single source of the check paths (see Fields) and of the JSON schema's
// documentation.
//
// How the work is split. Generations are self-contained on the wire, and
// golang.org/x/exp/trace reads a trace that begins at any of them; but
// goroutine states, open ranges and blocked intervals carry from one
// generation into the next. So each generation is analysed as a part of
// its own, on as many cores as there are, and the parts are absorbed in
// order, each replaying on the parts before it what only they could
// account for (see part.go); the model is the one a single ordered pass
// computes, which the tests check. The project's decoder counts each
// generation's bytes, tables and footprint first. Distributions are
// log-bucketed histograms that merge, so memory does not grow with the
// number of events.
package stats

// Schema names the JSON form of Model.
const Schema = "gotrace.stats/v1"

// Model is the result of analysing one trace.
type Model struct {
	Schema      string      `json:"schema" help:"always \"gotrace.stats/v1\""`
	File        string      `json:"file" help:"the trace file as named on the command line (\"-\" for standard input)"`
	Sections    []string    `json:"sections" help:"the sections this report holds, in order"`
	Window      string      `json:"window,omitempty" help:"the generations analysed when --time or --gen chose some, e.g. \"generations 2-3\""`
	Kinds       []string    `json:"goroutine_kinds" help:"the kinds of goroutine whose time the sched, blocking and syscalls sections count: user (the program's), runtime (the runtime's own), tooling (the tracer's and profiler's helpers, gotrace's shim); the others' time is in each section's apart"`
	Overview    Overview    `json:"overview" help:"the trace as a whole: version, size, time span, events and the wire footprint"`
	Goroutines  Goroutines  `json:"goroutines" help:"goroutine lifetimes and the time goroutines spent in each state"`
	Sched       Sched       `json:"sched" help:"scheduling latency: time from runnable to running"`
	Blocking    Blocking    `json:"blocking" help:"time goroutines spent blocked, by reason"`
	GC          GC          `json:"gc" help:"garbage collection: cycles, stop-the-world pauses, assists, mutator utilization"`
	Heap        Heap        `json:"heap" help:"heap size and goal as the runtime reported them"`
	Syscalls    Syscalls    `json:"syscalls" help:"system calls made by goroutines"`
	Annotations Annotations `json:"annotations" help:"runtime/trace tasks, regions and logs"`
	CPU         CPU         `json:"cpu" help:"CPU profile samples recorded in the trace"`
	Findings    Findings    `json:"findings" help:"what to fix, ranked, then leak suspects, long pauses and long scheduling waits"`
	Damage      Damage      `json:"damage" help:"what was lost when the trace is damaged or truncated"`
}

// Overview describes the trace as a whole.
type Overview struct {
	Version          string       `json:"version" help:"trace format version, e.g. \"go1.26\""`
	FileBytes        ByteCount    `json:"file_bytes" unit:"B" help:"size of the trace in bytes"`
	WallStartUnixNs  int64        `json:"wall_start_unix_ns" unit:"ns" help:"wall-clock time of the first event, Unix nanoseconds; 0 when the trace has no clock snapshot (before Go 1.25)"`
	Duration         Duration     `json:"duration_ns" unit:"ns" help:"time from the first to the last event"`
	Generations      int          `json:"generations" unit:"count" help:"complete generations read"`
	Batches          int          `json:"batches" unit:"count" help:"event batches on the wire, EndOfGeneration markers excluded"`
	Events           int64        `json:"events" unit:"count" help:"events delivered by golang.org/x/exp/trace, sync events included"`
	WireEvents       int64        `json:"wire_events" unit:"count" help:"events on the wire, batch headers and table entries excluded"`
	EventsPerSecond  float64      `json:"events_per_second" unit:"1/s" help:"events divided by the duration"`
	MovedEvents      int64        `json:"moved_events" unit:"count" help:"events golang.org/x/exp/trace moved to 1 ns after the event before, as they were not later"`
	Restamped        int          `json:"restamped_batches" unit:"count" help:"status batches written after the next generation began, moved back to its start"`
	GOMAXPROCS       int          `json:"gomaxprocs" unit:"count" help:"GOMAXPROCS at the start of the trace"`
	GOMAXPROCSMax    int          `json:"gomaxprocs_max" unit:"count" help:"largest GOMAXPROCS seen"`
	GOMAXPROCSChange int          `json:"gomaxprocs_changes" unit:"count" help:"number of times GOMAXPROCS changed during the trace"`
	Threads          int          `json:"threads" unit:"count" help:"distinct OS threads (Ms) that wrote events"`
	Procs            int          `json:"procs" unit:"count" help:"distinct Ps that appear in events"`
	Footprint        []EventBytes `json:"footprint" help:"bytes and counts on the wire by event type, largest first (v2 traces only)"`
	PerGeneration    []Generation `json:"per_generation" help:"one row per generation (v2 traces only)"`
}

// EventBytes is one row of the footprint: how much of the file one event
// type takes.
type EventBytes struct {
	Type  string    `json:"type" help:"event type name as in the runtime's event table"`
	Count int64     `json:"count" unit:"count" help:"events of this type"`
	Bytes ByteCount `json:"bytes" unit:"B" help:"bytes these events take, type byte and arguments and data included"`
}

// Generation is one row of the per-generation table.
type Generation struct {
	Num        uint64    `json:"num" help:"generation number as written on the wire"`
	Offset     ByteCount `json:"offset" unit:"B" help:"byte offset of the generation's first batch"`
	Bytes      ByteCount `json:"bytes" unit:"B" help:"bytes the generation's batches take"`
	Duration   Duration  `json:"duration_ns" unit:"ns" help:"time from the generation's first to its last event"`
	Batches    int       `json:"batches" unit:"count" help:"batches in the generation, its EndOfGeneration marker excluded"`
	Events     int       `json:"events" unit:"count" help:"events in the generation, batch headers, table entries and the end marker excluded"`
	Stacks     int       `json:"stacks" unit:"count" help:"entries in the generation's stack table"`
	Strings    int       `json:"strings" unit:"count" help:"entries in the generation's string table"`
	Types      int       `json:"types" unit:"count" help:"entries in the generation's type table (GODEBUG=traceallocfree=1)"`
	CPUSamples int       `json:"cpu_samples" unit:"count" help:"CPU samples in the generation"`
}

// Dist summarises a set of durations. Percentiles are exact for up to
// ExactSamples values and within 0.8% (log-bucketed histogram) beyond.
type Dist struct {
	Count int64    `json:"count" unit:"count" help:"number of intervals"`
	Total Duration `json:"total_ns" unit:"ns" help:"sum of the intervals"`
	P50   Duration `json:"p50_ns" unit:"ns" help:"median interval"`
	P90   Duration `json:"p90_ns" unit:"ns" help:"90th percentile"`
	P99   Duration `json:"p99_ns" unit:"ns" help:"99th percentile"`
	Max   Duration `json:"max_ns" unit:"ns" help:"longest interval"`
}

// Frame is one frame of a stack, innermost first.
type Frame struct {
	Func string `json:"func" help:"function name"`
	File string `json:"file" help:"source file"`
	Line uint64 `json:"line" help:"line number"`
}

// BlockCategory is the waits of one category, with the runtime's reason
// strings they carry.
type BlockCategory struct {
	Category string      `json:"category" help:"channel, select, mutex, waitgroup, cond, network, sleep, gc, runtime or other"`
	Dist     Dist        `json:"dist" help:"the waits"`
	Reasons  []string    `json:"reasons" help:"the runtime's reasons among them"`
	Stacks   []StackTime `json:"stacks" help:"where they waited, most total time first (top N)"`
}

// StackTime is time attributed to one stack.
type StackTime struct {
	Count int64    `json:"count" unit:"count" help:"intervals with this stack"`
	Total Duration `json:"total_ns" unit:"ns" help:"their total duration"`
	Stack []Frame  `json:"stack" help:"the stack, innermost frame first"`
}

// Goroutines describes goroutine lifetimes and states.
type Goroutines struct {
	Created      int64            `json:"created" unit:"count" help:"goroutines created during the trace"`
	Ended        int64            `json:"ended" unit:"count" help:"goroutines that exited during the trace"`
	Existing     int64            `json:"existing" unit:"count" help:"goroutines that already existed when the trace began"`
	PeakAlive    int64            `json:"peak_alive" unit:"count" help:"most goroutines alive at once"`
	AliveAtEnd   int64            `json:"alive_at_end" unit:"count" help:"goroutines alive when the trace ended"`
	LeakedBenign int64            `json:"leaked_benign" unit:"count" help:"goroutines blocked at the end as leak suspects are, in a known-benign pattern (net/http's idle connections, ...): not counted in leaked"`
	Leaked       int64            `json:"leaked" unit:"count" help:"leak suspects: user goroutines blocked on a channel, select, lock or condition variable at the end of the trace, for a tenth of the trace or a second, whichever is less (see findings.leaks)"`
	Running      Duration         `json:"running_ns" unit:"ns" help:"goroutine-time spent running, all goroutines summed"`
	Runnable     Duration         `json:"runnable_ns" unit:"ns" help:"goroutine-time spent runnable, waiting for a P"`
	Blocked      Duration         `json:"blocked_ns" unit:"ns" help:"goroutine-time spent blocked (waiting), any reason"`
	Syscall      Duration         `json:"syscall_ns" unit:"ns" help:"goroutine-time spent in system calls"`
	Groups       []GoroutineGroup `json:"groups" help:"goroutines grouped by start function, most running time first (top N)"`
	ByKind       []KindTotals     `json:"by_kind" help:"goroutines and their time by kind: user, runtime, tooling"`
}

// KindTotals is the goroutines of one kind and the time they spent in
// each state.
type KindTotals struct {
	Kind     string   `json:"kind" help:"user, runtime or tooling"`
	Count    int64    `json:"count" unit:"count" help:"goroutines of the kind"`
	Running  Duration `json:"running_ns" unit:"ns" help:"time they spent running"`
	Runnable Duration `json:"runnable_ns" unit:"ns" help:"time spent runnable"`
	Blocked  Duration `json:"blocked_ns" unit:"ns" help:"time spent blocked"`
	Syscall  Duration `json:"syscall_ns" unit:"ns" help:"time spent in system calls"`
}

// KindTime is the intervals of goroutines of a kind a section does not
// count.
type KindTime struct {
	Kind  string   `json:"kind" help:"user, runtime or tooling"`
	Count int64    `json:"count" unit:"count" help:"intervals"`
	Total Duration `json:"total_ns" unit:"ns" help:"their total duration"`
}

// GoroutineGroup is the goroutines that share a start function.
type GoroutineGroup struct {
	Func     string   `json:"func" help:"start function (the root frame of the goroutine's stack); \"(unknown)\" when no stack was seen"`
	Kind     string   `json:"kind" help:"user, runtime or tooling, by the start function"`
	Count    int64    `json:"count" unit:"count" help:"goroutines in the group"`
	Running  Duration `json:"running_ns" unit:"ns" help:"time the group's goroutines spent running"`
	Runnable Duration `json:"runnable_ns" unit:"ns" help:"time spent runnable"`
	Blocked  Duration `json:"blocked_ns" unit:"ns" help:"time spent blocked"`
	Syscall  Duration `json:"syscall_ns" unit:"ns" help:"time spent in system calls"`
}

// Sched describes scheduling latency.
type Sched struct {
	Latency      Dist       `json:"latency" help:"runnable-to-running waits of goroutines that had already run in the trace; the same intervals go tool trace -pprof=sched sums"`
	StartLatency Dist       `json:"start_latency" help:"first waits of goroutines created in the trace: from their last transition to runnable (mostly their creation) to their first run"`
	Apart        []KindTime `json:"apart" help:"the time of goroutines of the kinds this section does not count (see goroutine_kinds)"`
}

// Blocking describes time goroutines spent blocked.
type Blocking struct {
	All        Dist            `json:"all" help:"every completed blocked interval, any reason, of goroutines that had run in the trace or never run in it (as go tool trace counts)"`
	Sync       Duration        `json:"sync_ns" unit:"ns" help:"time blocked on channels, select and sync primitives; the total of go tool trace -pprof=sync"`
	Net        Duration        `json:"net_ns" unit:"ns" help:"time blocked on the network poller; the total of go tool trace -pprof=net"`
	Channel    Dist            `json:"channel" help:"blocked on a channel send or receive"`
	Select     Dist            `json:"select" help:"blocked in select"`
	Mutex      Dist            `json:"mutex" help:"blocked on sync.Mutex or RWMutex (and locks built on them) outside the runtime"`
	WaitGroup  Dist            `json:"waitgroup" help:"blocked in sync.WaitGroup.Wait"`
	Cond       Dist            `json:"cond" help:"blocked in sync.Cond.Wait"`
	Network    Dist            `json:"network" help:"blocked on network I/O"`
	Sleep      Dist            `json:"sleep" help:"blocked in time.Sleep"`
	GC         Dist            `json:"gc" help:"blocked by the garbage collector (assist waits, sweeper, waiting for GC to end)"`
	Runtime    Dist            `json:"runtime" help:"the runtime's own waits: its semaphores (GC, tracer), system goroutines"`
	Other      Dist            `json:"other" help:"blocked for any other reason (select{} forever, ...)"`
	ByCategory []BlockCategory `json:"by_category" help:"the categories above that hold waits, most total time first, each with the runtime's reasons it holds"`
	Reasons    []BlockReason   `json:"reasons" help:"one entry per reason string the runtime recorded, most total time first"`
	Apart      []KindTime      `json:"apart" help:"the time of goroutines of the kinds this section does not count (see goroutine_kinds)"`
}

// BlockReason is the blocking attributed to one reason.
type BlockReason struct {
	Reason string      `json:"reason" help:"the runtime's reason string, e.g. \"chan receive\""`
	Dist   Dist        `json:"dist" help:"the blocked intervals with this reason"`
	Stacks []StackTime `json:"stacks" help:"where goroutines blocked for this reason, most total time first (top N)"`
}

// GC describes garbage collection.
type GC struct {
	Cycles        int64     `json:"cycles" unit:"count" help:"GC cycles whose mark phase began during the trace"`
	Time          Duration  `json:"time_ns" unit:"ns" help:"wall time with a GC mark phase in progress"`
	WallShare     float64   `json:"wall_share" unit:"ratio" help:"time_ns divided by the trace duration"`
	STW           Dist      `json:"stw" help:"stop-the-world pauses of any kind"`
	STWByKind     []STWKind `json:"stw_by_kind" help:"stop-the-world pauses by kind, most total time first"`
	Assist        Dist      `json:"assist" help:"mark assists: goroutines made to help the GC while allocating, from the assist's start to its end, whatever the goroutine did meanwhile"`
	AssistRunning Duration  `json:"assist_running_ns" unit:"ns" help:"the part of the mark assists their goroutines spent running: helping the GC (an assist that spans two generations counts its running in the first)"`
	AssistWaiting Duration  `json:"assist_waiting_ns" unit:"ns" help:"the part of the mark assists their goroutines spent not running: waiting for a P or for GC work"`
	Sweep         Dist      `json:"sweep" help:"incremental sweeps done by allocating goroutines"`
	MMU           MMU       `json:"mmu" help:"minimum mutator utilization: the worst share of CPU left to the program over any window of the given length (STW, background workers, assists and sweeping all count against it)"`
}

// STWKind is the stop-the-world pauses of one kind.
type STWKind struct {
	Kind string `json:"kind" help:"the runtime's reason, e.g. \"GC mark termination\""`
	Dist Dist   `json:"dist" help:"the pauses of this kind"`
}

// MMU is the minimum mutator utilization at fixed window sizes, between 0
// and 1. A window longer than the trace is cut to the trace.
type MMU struct {
	W1ms   float64 `json:"1ms" unit:"ratio" help:"worst utilization over any 1ms window"`
	W10ms  float64 `json:"10ms" unit:"ratio" help:"worst utilization over any 10ms window"`
	W100ms float64 `json:"100ms" unit:"ratio" help:"worst utilization over any 100ms window"`
	W1s    float64 `json:"1s" unit:"ratio" help:"worst utilization over any 1s window"`
}

// Heap describes the heap as the runtime reported it in the trace.
type Heap struct {
	Max     ByteCount `json:"max" unit:"B" help:"largest heap in use (bytes in live and not yet swept objects, /memory/classes/heap/objects:bytes)"`
	GoalMin ByteCount `json:"goal_min" unit:"B" help:"smallest heap goal"`
	GoalMax ByteCount `json:"goal_max" unit:"B" help:"largest heap goal"`
	Allocs  Allocs    `json:"allocs" help:"heap objects allocated and freed, from the heap events of a trace recorded with GODEBUG=traceallocfree=1 (gotrace record --allocfree)"`
}

// Allocs tells the heap allocations of a trace with heap events. The
// events carry no stack: the allocations are told by type and by the
// goroutine that made them.
type Allocs struct {
	Traced      bool         `json:"traced" help:"whether the trace has heap events; the other fields are zero when not"`
	Objects     int64        `json:"objects" unit:"count" help:"heap objects allocated"`
	Bytes       ByteCount    `json:"bytes" unit:"B" help:"their size, each rounded up to its allocator size class as its heap span tells"`
	Estimated   int64        `json:"estimated" unit:"count" help:"objects whose span the trace did not show (a trace cut from a longer one), counted at their type's size"`
	Freed       int64        `json:"freed" unit:"count" help:"heap objects freed by the sweeper"`
	ByType      []AllocGroup `json:"by_type" help:"allocations by the type allocated (for a slice's or map's backing memory, its element type), most bytes first (top N)"`
	ByGoroutine []AllocGroup `json:"by_goroutine" help:"allocations by the start function of the goroutine that allocated, most bytes first (top N); goroutines of a kind the sections do not count (see goroutine_kinds) are one row per kind, e.g. \"(runtime goroutines)\""`
}

// AllocGroup is the allocations of one type or one goroutine group.
type AllocGroup struct {
	Name    string    `json:"name" help:"the type, or the goroutines' start function"`
	Kind    string    `json:"kind,omitempty" help:"for goroutines: user, runtime or tooling"`
	Objects int64     `json:"objects" unit:"count" help:"objects allocated"`
	Bytes   ByteCount `json:"bytes" unit:"B" help:"their size"`
}

// Syscalls describes system calls.
type Syscalls struct {
	Dist     Dist        `json:"dist" help:"system calls of goroutines that had run in the trace or never run in it; total_ns is the total of go tool trace -pprof=syscall"`
	Blocking Dist        `json:"blocking" help:"system calls that blocked long enough for the runtime to hand their P to another thread"`
	Stacks   []StackTime `json:"stacks" help:"where system calls were made, most total time first (top N)"`
	Apart    []KindTime  `json:"apart" help:"the time of goroutines of the kinds this section does not count (see goroutine_kinds)"`
}

// Annotations describes runtime/trace tasks, regions and logs.
type Annotations struct {
	Tasks   []NamedDist `json:"tasks" help:"tasks that ended in the trace, by type"`
	Regions []NamedDist `json:"regions" help:"regions that ended in the trace, by type"`
	Logs    []LogCount  `json:"logs" help:"log messages by category"`
}

// NamedDist is a Dist with a name.
type NamedDist struct {
	Name string `json:"name" help:"task or region type"`
	Dist Dist   `json:"dist" help:"their durations"`
}

// LogCount is the number of log messages in one category.
type LogCount struct {
	Category string `json:"category" help:"category passed to runtime/trace.Log"`
	Count    int64  `json:"count" unit:"count" help:"messages"`
}

// CPU describes CPU profile samples.
type CPU struct {
	Samples    int64         `json:"samples" unit:"count" help:"CPU profile samples in the trace"`
	Flat       []FuncSamples `json:"flat" help:"functions by samples where they were the innermost frame (top N)"`
	Cum        []FuncSamples `json:"cum" help:"functions by samples where they were on the stack (top N)"`
	AllocSites []FuncSamples `json:"alloc_sites" help:"samples in the allocator (runtime.mallocgc) by the innermost function of the program's own code that called it (top N)"`
}

// FuncSamples is a function's share of the CPU samples.
type FuncSamples struct {
	Func    string `json:"func" help:"function name"`
	Samples int64  `json:"samples" unit:"count" help:"samples"`
}

// Findings are the things worth a look.
type Findings struct {
	Ranked     []Finding   `json:"ranked" help:"what to fix, most severe first: hot locks, GC cost, scheduling saturation, leak suspects, network and syscall waits, long pauses"`
	Leaks      []Leak      `json:"leaks" help:"leak suspects grouped by stack, most goroutines first"`
	LongSTW    []Pause     `json:"long_stw" help:"the longest stop-the-world pauses, longest first (top N)"`
	SchedWaits []SchedWait `json:"sched_waits" help:"the longest runnable-to-running waits, longest first (top N)"`
}

// Finding is one thing the trace says to look at.
type Finding struct {
	Severity string  `json:"severity" help:"high, medium or low"`
	Kind     string  `json:"kind" help:"hot-lock, gc, sched-saturation, leak, network, syscall or stw"`
	What     string  `json:"what" help:"one line of what was found"`
	Where    string  `json:"where" help:"the function of the program's own code it points at, when there is one"`
	Share    float64 `json:"share" help:"its weight: for waits, goroutine-time per second of wall time; for GC, the share of wall time; for scheduling, the goroutines runnable per P on average"`
	Next     string  `json:"next" help:"the next command to run to see more"`
}

// Leak is a group of goroutines blocked at the end of the trace at the same
// stack.
type Leak struct {
	Count      int64    `json:"count" unit:"count" help:"goroutines blocked at this stack"`
	Reason     string   `json:"reason" help:"why they are blocked"`
	Func       string   `json:"func" help:"their start function"`
	BlockedMin Duration `json:"blocked_min_ns" unit:"ns" help:"shortest time one of them had been blocked when the trace ended"`
	BlockedMax Duration `json:"blocked_max_ns" unit:"ns" help:"longest time one of them had been blocked; from the trace start when it was blocked all along"`
	Stack      []Frame  `json:"stack" help:"where they are blocked"`
	CreatedAt  []Frame  `json:"created_at" help:"where the first of them was created (the creating goroutine's stack); empty when it existed before the trace"`
	Benign     string   `json:"benign,omitempty" help:"why goroutines blocked like these are expected, when they follow a known pattern (net/http's idle connections, ...); they are counted in goroutines.leaked_benign"`
}

// Pause is one stop-the-world pause.
type Pause struct {
	Kind     string   `json:"kind" help:"the runtime's reason for stopping the world"`
	Start    Duration `json:"start_ns" unit:"ns" help:"when it began, from the start of the trace"`
	Duration Duration `json:"duration_ns" unit:"ns" help:"how long it lasted"`
	Stack    []Frame  `json:"stack" help:"the stack that stopped the world, when recorded"`
}

// SchedWait is one long wait for a P.
type SchedWait struct {
	Goroutine int64    `json:"goroutine" help:"goroutine ID"`
	Func      string   `json:"func" help:"its start function, as the whole trace shows it (also where its stacks appear only after the wait); \"(unknown)\" when no stack of it was seen"`
	Start     Duration `json:"start_ns" unit:"ns" help:"when it became runnable, from the start of the trace"`
	Wait      Duration `json:"wait_ns" unit:"ns" help:"how long it waited to run"`
	Stack     []Frame  `json:"stack" help:"where the goroutine was when it stopped running"`
}

// Damage says what was lost from a damaged trace.
type Damage struct {
	Damaged     bool      `json:"damaged" help:"true when the trace could not be read to its end"`
	Error       string    `json:"error" help:"the error that stopped reading, empty when undamaged"`
	LostBytes   ByteCount `json:"lost_bytes" unit:"B" help:"bytes after the last complete generation"`
	LostPercent float64   `json:"lost_percent" unit:"%" help:"lost_bytes as a percentage of the file"`
}
