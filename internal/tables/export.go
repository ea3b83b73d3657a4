package tables

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// Label is a KEY=VALUE given with the export: a column of every table.
type Label struct{ Key, Value string }

// Options describe the trace exported.
type Options struct {
	// File names the trace as given; SHA256 is its content's hash, in hex.
	File, SHA256 string
	// ID is the trace's ID in every row (see TraceID).
	ID     string
	Labels []Label
	// Create opens the file of the named table.
	Create func(table string) (io.Writer, error)
	// PageDir, when set, is where the pages of the row groups being
	// written wait, in temporary files, instead of memory.
	PageDir string
	// At, when not nil, reads the input at its offsets (the file Export
	// reads from its start), so that the generation waiting for the next
	// one's first timestamp is read again, not held in memory.
	At io.ReaderAt
}

// Summary counts the rows written, by table.
type Summary struct {
	Rows        map[string]int64
	Generations int
	Events      int64
}

// ErrDamaged marks an export of a damaged trace: the tables hold its
// complete generations and say where the damage is.
var ErrDamaged = timeline.ErrDamaged

// Export reads the trace in r and writes its tables. When ctx is done it
// stops and returns ctx's error, the files incomplete. A damaged trace
// gives the tables of its complete generations, and an error wrapping
// ErrDamaged.
func Export(ctx context.Context, r io.Reader, opts Options) (Summary, error) {
	keys := make([]string, len(opts.Labels))
	values := make([]string, len(opts.Labels))
	for i, l := range opts.Labels {
		keys[i], values[i] = l.Key, l.Value
	}
	x := &exporter{opts: opts, tables: make(map[*Table]*tableWriter)}
	// N.B. A writer left open keeps its pages' temporary files: every
	// way out closes them, and the caller drops the files of a failure.
	defer func() {
		for _, tw := range x.tables {
			tw.close()
		}
	}()
	for _, t := range Tables() {
		w, err := opts.Create(t.Name)
		if err != nil {
			return Summary{}, err
		}
		x.tables[t] = newTableWriter(w, t, opts.ID, keys, values, opts.PageDir)
	}
	x.tk = timeline.NewTracker()
	x.rows = drill.NewRows(x.tk)
	x.tk.Emit = x.interval
	x.tk.End = x.goroutineEnd
	x.stacks.ids = make(map[string]int64)
	x.stacks.gen = make(map[timeline.StackRef]int64)
	x.tasks = make(map[trace.TaskID]*task)
	x.regions = make(map[trace.GoID][]region)
	x.ranges = make(map[rangeKey]*gcRange)

	n := 0
	src, readErr := timeline.ReadAt(r, opts.At, func(ev *trace.Event) bool {
		x.event(ev)
		n++
		return n%4096 != 0 || ctx.Err() == nil
	})
	if src == nil {
		return Summary{}, readErr
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	x.finish()
	sum := Summary{Rows: make(map[string]int64), Generations: len(src.Generations()), Events: x.events}
	if len(src.Generations()) == 0 && x.events > 0 {
		sum.Generations = max(x.syncs-1, 1) // the old format: no generations framed
	}
	version := src.Version().String()
	if src.Version() == 0 {
		version = "before go1.22" // the old format, read as it is
	}
	x.traceRow(version, sum.Generations, readErr)
	var err error
	for _, t := range Tables() {
		tw := x.tables[t]
		if cerr := tw.close(); cerr != nil && err == nil {
			err = fmt.Errorf("writing %s: %w", t.Name, cerr)
		}
		sum.Rows[t.Name] = tw.total
	}
	if err != nil {
		return sum, err
	}
	if readErr != nil {
		return sum, fmt.Errorf("%w: %w", ErrDamaged, readErr)
	}
	return sum, nil
}

// exporter turns events into rows.
type exporter struct {
	opts   Options
	tables map[*Table]*tableWriter
	tk     *timeline.Tracker
	rows   *drill.Rows

	events     int64
	syncs      int
	cutPending bool  // a generation ended: the next event cuts the row groups
	wall       int64 // wall-clock time of the trace's start, Unix ns; 0 when not known
	stacks     stackTable

	tasks   map[trace.TaskID]*task
	regions map[trace.GoID][]region
	ranges  map[rangeKey]*gcRange
}

func (x *exporter) event(ev *trace.Event) {
	x.events++
	if x.cutPending && ev.Kind() != trace.EventSync {
		// A generation's first event: the rows before it make the
		// last one's row groups.
		for _, t := range Tables() {
			x.tables[t].cut()
		}
		x.cutPending = false
	}
	x.tk.Event(ev)
	switch ev.Kind() {
	case trace.EventSync:
		x.sync(ev)
	case trace.EventMetric:
		x.metric(ev)
	case trace.EventStackSample:
		w := x.tables[samplesTable]
		b := w.row()
		x.times(b, ev.Time())
		x.resources(b, ev)
		x.stack(b, timeline.XStack(ev.Stack()))
		w.done(b)
	case trace.EventLog:
		l := ev.Log()
		w := x.tables[logsTable]
		b := w.row()
		x.times(b, ev.Time())
		b.nullI64(int64(ev.Goroutine()), ev.Goroutine() != trace.NoGoroutine)
		b.i64(int64(l.Task))
		b.str(l.Category)
		b.str(l.Message)
		x.stack(b, timeline.XStack(ev.Stack()))
		w.done(b)
	case trace.EventTaskBegin:
		tk := ev.Task()
		t := &task{id: tk.ID, parent: tk.Parent, typ: tk.Type, start: ev.Time(), begun: true, by: ev.Goroutine(),
			stack: x.stackID(timeline.XStack(ev.Stack()))}
		x.tasks[tk.ID] = t
	case trace.EventTaskEnd:
		tk := ev.Task()
		t := x.tasks[tk.ID]
		if t == nil {
			t = &task{id: tk.ID, parent: tk.Parent, typ: tk.Type, by: trace.NoGoroutine}
		}
		delete(x.tasks, tk.ID)
		if t.typ == "" {
			t.typ = tk.Type
		}
		t.end, t.ended, t.endBy = ev.Time(), true, ev.Goroutine()
		x.taskRow(t)
	case trace.EventRegionBegin:
		id := ev.Goroutine()
		rg := ev.Region()
		x.regions[id] = append(x.regions[id], region{task: rg.Task, typ: rg.Type, start: ev.Time(), begun: true,
			stack: x.stackID(timeline.XStack(ev.Stack()))})
	case trace.EventRegionEnd:
		x.regionEnd(ev)
	case trace.EventRangeBegin, trace.EventRangeActive:
		r := ev.Range()
		k := rangeKey{r.Name, r.Scope}
		if _, open := x.ranges[k]; open && ev.Kind() == trace.EventRangeActive {
			return // restated as a generation begins
		}
		x.ranges[k] = &gcRange{name: r.Name, start: ev.Time(), begun: ev.Kind() == trace.EventRangeBegin,
			g: x.scopeG(ev, r), p: x.scopeP(ev, r), stack: x.stackID(timeline.XStack(ev.Stack()))}
	case trace.EventRangeEnd:
		r := ev.Range()
		k := rangeKey{r.Name, r.Scope}
		gr := x.ranges[k]
		delete(x.ranges, k)
		if gr == nil {
			gr = &gcRange{name: r.Name, g: x.scopeG(ev, r), p: x.scopeP(ev, r), stack: x.stackID(timeline.XStack(ev.Stack()))}
		}
		gr.end, gr.ended = ev.Time(), true
		x.rangeRow(gr)
	}
}

// sync ends a generation and begins the next: each table's rows so far
// make a row group.
func (x *exporter) sync(ev *trace.Event) {
	x.syncs++
	if x.wall == 0 {
		if c := ev.Sync().ClockSnapshot; c != nil && !c.Wall.IsZero() {
			x.wall = c.Wall.UnixNano() - int64(c.Trace-x.tk.Start())
		}
	}
	// N.B. The trace ends with a sync too: what is still open then
	// belongs to the last generation's row groups.
	x.cutPending = x.syncs > 1
	// N.B. x/exp/trace's stack handles hold the generation's tables.
	clear(x.stacks.gen)
}

// rel is t from the trace's start.
func (x *exporter) rel(t trace.Time) int64 { return int64(t - x.tk.Start()) }

// times adds the columns of a time: ns from the trace's start and the
// wall-clock time.
func (x *exporter) times(b *rowBuilder, t trace.Time) {
	ns := x.rel(t)
	b.i64(ns)
	x.wallTime(b, ns, true)
}

// startTimes adds the optional start, end and duration of a span and the
// wall-clock start.
func (x *exporter) span(b *rowBuilder, start trace.Time, begun bool, end trace.Time, ended bool) {
	b.nullI64(x.rel(start), begun)
	b.nullI64(x.rel(end), ended)
	b.nullI64(int64(end-start), begun && ended)
	x.wallTime(b, x.rel(start), begun)
}

// wallTime adds the wall-clock time of ns from the trace's start, in
// microseconds, null when the trace has no clock or known is false.
func (x *exporter) wallTime(b *rowBuilder, ns int64, known bool) {
	b.nullI64((x.wall+ns)/1000, known && x.wall != 0)
}

func (x *exporter) resources(b *rowBuilder, ev *trace.Event) {
	b.nullI64(int64(ev.Goroutine()), ev.Goroutine() != trace.NoGoroutine)
	b.nullI64(int64(ev.Proc()), ev.Proc() != trace.NoProc)
	b.nullI64(int64(ev.Thread()), ev.Thread() != trace.NoThread)
}

// stack adds the ID of st (see stackID).
func (x *exporter) stack(b *rowBuilder, st timeline.StackRef) {
	id := x.stackID(st)
	b.nullI64(id, id > 0)
}

// stackID is the number of st, 0 for none, writing it to the stacks and
// frames tables when it is new.
func (x *exporter) stackID(st timeline.StackRef) int64 {
	id := x.stacks.id(st)
	if id < 0 {
		id = x.newStack(st)
	}
	return id
}

func (x *exporter) metric(ev *trace.Event) {
	m := ev.Metric()
	if m.Value.Kind() != trace.ValueUint64 {
		return
	}
	w := x.tables[metricsTable]
	b := w.row()
	x.times(b, ev.Time())
	b.str(m.Name)
	b.i64(int64(min(m.Value.Uint64(), math.MaxInt64)))
	w.done(b)
}

// interval writes the row of a goroutine's interval.
func (x *exporter) interval(iv *timeline.Interval) {
	g := iv.G
	w := x.tables[intervalsTable]
	b := w.row()
	b.i64(int64(g.ID))
	b.i64(int64(g.Seq))
	// N.B. A wait is whose its stack's root says, as stats counts it:
	// main.main's waits in the exit hooks, past the frames a stack keeps,
	// are the runtime's.
	stk := x.stackID(iv.Stack)
	kind := timeline.KindOf(g.Name)
	if stk > 0 && (iv.State == trace.GoWaiting || iv.State == trace.GoSyscall) {
		kind = x.stacks.kinds[stk-1]
	}
	b.str(kind.String())
	b.str(stateNames[timeline.StateIndex(iv.State)])
	blocked := iv.State == trace.GoWaiting
	b.nullStr(iv.Category.String(), blocked)
	b.nullStr(iv.Reason, blocked)
	start := x.rel(iv.Start)
	b.i64(start)
	b.i64(x.rel(iv.End))
	b.i64(int64(iv.End - iv.Start))
	x.wallTime(b, start, true)
	b.nullI64(stk, stk > 0)
	b.nullI64(int64(iv.Unblocker), iv.Unblocker != trace.NoGoroutine)
	if iv.Unblocker != trace.NoGoroutine {
		x.stack(b, iv.UnblockStack)
	} else {
		b.nullI64(0, false)
	}
	b.boolean(iv.Open)
	b.boolean(g.FirstRun != 0 && g.FirstRun < iv.Start)
	b.boolean(iv.Profiled)
	w.done(b)
}

var stateNames = [timeline.NumStates]string{timeline.Running: "running", timeline.Runnable: "runnable",
	timeline.Blocked: "blocked", timeline.Syscall: "syscall"}

// goroutineEnd writes the row of a goroutine that ended or outlived the
// trace: the row gotrace goroutines --json shows.
func (x *exporter) goroutineEnd(g *timeline.Goroutine) {
	r := x.rows.End(g)
	w := x.tables[goroutinesTable]
	b := w.row()
	b.i64(r.ID)
	b.i64(int64(r.Incarnation))
	b.str(r.Name)
	b.str(r.Kind)
	b.boolean(r.Existed)
	b.i64(int64(r.Created))
	x.wallTime(b, int64(r.Created), true)
	b.i64(r.Creator)
	if g.Creator != trace.NoGoroutine {
		x.stack(b, g.CreatorStack)
	} else {
		b.nullI64(0, false)
	}
	b.i64(int64(r.Ended))
	b.str(r.StateAtEnd)
	b.str(r.ReasonAtEnd)
	for _, d := range []time.Duration{r.Running, r.Runnable, r.Blocked, r.Syscall} {
		b.i64(int64(d))
	}
	for _, c := range categories {
		b.i64(int64(r.BlockedByCat[c]))
	}
	w.done(b)
}

// task is a task begun, or ended without its beginning in the trace.
type task struct {
	id, parent   trace.TaskID
	typ          string
	start, end   trace.Time
	begun, ended bool
	by, endBy    trace.GoID
	stack        int64
}

func (x *exporter) taskRow(t *task) {
	w := x.tables[tasksTable]
	b := w.row()
	b.i64(int64(t.id))
	b.nullI64(int64(t.parent), t.parent != trace.NoTask && t.parent != trace.BackgroundTask)
	b.str(t.typ)
	x.span(b, t.start, t.begun, t.end, t.ended)
	b.nullI64(int64(t.by), t.begun && t.by != trace.NoGoroutine)
	b.nullI64(int64(t.endBy), t.ended && t.endBy != trace.NoGoroutine)
	b.nullI64(t.stack, t.stack > 0)
	w.done(b)
}

// region is a region open on a goroutine.
type region struct {
	task  trace.TaskID
	typ   string
	start trace.Time
	begun bool
	stack int64
}

func (x *exporter) regionEnd(ev *trace.Event) {
	id := ev.Goroutine()
	rg := ev.Region()
	open := x.regions[id]
	// The innermost region of the type ends, as runtime/trace nests them.
	r := region{task: rg.Task, typ: rg.Type, stack: x.stackID(timeline.XStack(ev.Stack()))}
	for i := len(open) - 1; i >= 0; i-- {
		if open[i].typ == rg.Type {
			r = open[i]
			x.regions[id] = append(open[:i], open[i+1:]...)
			break
		}
	}
	if len(x.regions[id]) == 0 {
		delete(x.regions, id)
	}
	x.regionRow(id, r, ev.Time(), true)
}

func (x *exporter) regionRow(id trace.GoID, r region, end trace.Time, ended bool) {
	w := x.tables[regionsTable]
	b := w.row()
	b.i64(int64(id))
	seq := 0
	if g := x.tk.Goroutine(id); g != nil {
		seq = g.Seq
	}
	b.i64(int64(seq))
	b.i64(int64(r.task))
	b.str(r.typ)
	x.span(b, r.start, r.begun, end, ended)
	b.nullI64(r.stack, r.stack > 0)
	w.done(b)
}

// rangeKey names an open range: the runtime opens one of a name per
// resource at a time.
type rangeKey struct {
	name  string
	scope trace.ResourceID
}

func (x *exporter) scopeG(ev *trace.Event, r trace.Range) trace.GoID {
	if r.Scope.Kind == trace.ResourceGoroutine {
		return r.Scope.Goroutine()
	}
	return ev.Goroutine()
}

func (x *exporter) scopeP(ev *trace.Event, r trace.Range) trace.ProcID {
	if r.Scope.Kind == trace.ResourceProc {
		return r.Scope.Proc()
	}
	return ev.Proc()
}

// gcRange is a runtime range open, or ended without its beginning in the
// trace.
type gcRange struct {
	name         string
	start, end   trace.Time
	begun, ended bool
	g            trace.GoID
	p            trace.ProcID
	stack        int64
}

// rangeKind is the gc table's kind of the range named name.
func rangeKind(name string) string {
	switch {
	case name == "GC concurrent mark phase":
		return "mark"
	case strings.HasPrefix(name, "stop-the-world"):
		return "stw"
	case name == "GC mark assist":
		return "assist"
	case name == "GC incremental sweep":
		return "sweep"
	}
	return "other"
}

func (x *exporter) rangeRow(r *gcRange) {
	w := x.tables[gcTable]
	b := w.row()
	b.str(rangeKind(r.name))
	b.str(r.name)
	x.span(b, r.start, r.begun, r.end, r.ended)
	b.nullI64(int64(r.g), r.g != trace.NoGoroutine)
	b.nullI64(int64(r.p), r.p != trace.NoProc)
	b.nullI64(r.stack, r.stack > 0)
	w.done(b)
}

// finish writes what is still open at the end of the trace.
func (x *exporter) finish() {
	x.tk.Finish()
	for _, t := range sortedValues(x.tasks, func(t *task) int64 { return int64(t.id) }) {
		x.taskRow(t)
	}
	for _, id := range sortedKeys(x.regions) {
		for _, r := range x.regions[id] {
			x.regionRow(id, r, 0, false)
		}
	}
	for _, r := range sortedValues(x.ranges, func(r *gcRange) int64 { return int64(r.start) }) {
		x.rangeRow(r)
	}
}

// traceRow writes the traces table's row.
func (x *exporter) traceRow(version string, gens int, readErr error) {
	w := x.tables[tracesTable]
	b := w.row()
	b.str(x.opts.File)
	b.str(x.opts.SHA256)
	b.str(version)
	x.wallTime(b, 0, true)
	b.i64(int64(x.tk.Last() - x.tk.Start()))
	b.i64(int64(gens))
	b.i64(x.events)
	b.boolean(readErr != nil)
	msg := ""
	if readErr != nil {
		msg = readErr.Error()
	}
	b.str(msg)
	b.str(Version)
	w.done(b)
}

// stackTable numbers the distinct stacks of a trace, by their program
// counters, from 1.
type stackTable struct {
	ids map[string]int64            // by the PCs, for the whole trace
	gen map[timeline.StackRef]int64 // by handle, for the generation being read
	// kinds is whose each stack is, by its root function.
	kinds []timeline.Kind
	key   []byte
}

// id is the number of st: 0 for no stack, -1 for one not yet numbered.
func (s *stackTable) id(st timeline.StackRef) int64 {
	if st == (timeline.StackRef{}) {
		return 0
	}
	if id, ok := s.gen[st]; ok {
		return id
	}
	s.key = s.key[:0]
	for f := range st.Frames() {
		s.key = binary.AppendUvarint(s.key, f.PC)
	}
	if len(s.key) == 0 {
		return 0
	}
	if id, ok := s.ids[string(s.key)]; ok {
		s.gen[st] = id
		return id
	}
	return -1
}

// newStack numbers st, whose id is -1, and writes its rows.
func (x *exporter) newStack(st timeline.StackRef) int64 {
	s := &x.stacks
	id := int64(len(s.ids) + 1)
	s.ids[string(s.key)] = id
	s.gen[st] = id
	fw := x.tables[framesTable]
	depth := 0
	var leaf, root string
	for f := range st.Frames() {
		if depth == 0 {
			leaf = f.Func
		}
		root = f.Func
		b := fw.row()
		b.i64(id)
		b.i64(int64(depth))
		b.str(f.Func)
		b.str(f.File)
		b.i64(int64(f.Line))
		b.i64(int64(f.PC))
		fw.done(b)
		depth++
	}
	s.kinds = append(s.kinds, timeline.KindOf(root))
	w := x.tables[stacksTable]
	b := w.row()
	b.i64(id)
	b.i64(int64(depth))
	b.str(leaf)
	b.str(root)
	w.done(b)
	return id
}

// TraceID is the ID of a trace in the tables: a hash of its content's
// hash, its file name and the labels, so that copies of one trace named
// or labelled apart stay apart, and the same export made again agrees.
func TraceID(sha256Hex, name string, labels []Label) string {
	h := sha256.New()
	str := func(s string) {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		io.WriteString(h, s)
	}
	str(sha256Hex)
	str(name)
	for _, l := range labels {
		str(l.Key)
		str(l.Value)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// sortedKeys lists m's keys in order.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K { return slices.Sorted(maps.Keys(m)) }

// sortedValues lists m's values by key, ties by the key.
func sortedValues[K comparable, V any](m map[K]V, key func(V) int64) []V {
	out := slices.Collect(maps.Values(m))
	slices.SortStableFunc(out, func(a, b V) int { return cmp.Compare(key(a), key(b)) })
	return out
}
