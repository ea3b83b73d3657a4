// Package drill answers the narrower questions that follow a stats report,
// from the goroutine timeline: which goroutine, doing what, for how long.
package drill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/gotrace-cli/gotrace/internal/order"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// GoroutinesSchema names the JSON schema of a goroutine list.
const GoroutinesSchema = "gotrace.goroutines/v1"

// Goroutine is one goroutine's row: one goroutine, not one ID, since the
// runtime reuses the IDs of goroutines that ended.
type Goroutine struct {
	ID          int64  `json:"id" help:"goroutine ID"`
	Incarnation int    `json:"incarnation" help:"how many goroutines had this ID before this one in the trace (0 for the first); gotrace goroutine ID.N picks one"`
	Name        string `json:"name" help:"start function, as go tool trace names goroutines; \"\" when no stack showed it"`
	Kind        string `json:"kind" help:"user, runtime or tooling"`
	// Created is from the trace's start; 0 with Existed.
	Created      time.Duration            `json:"created_ns" help:"when it was created, from the trace's start; 0 for one that existed before the trace"`
	Existed      bool                     `json:"existed" help:"it existed before the trace began"`
	Creator      int64                    `json:"creator" help:"the goroutine that created it, -1 when not known"`
	Ended        time.Duration            `json:"ended_ns" help:"when it ended, from the trace's start; -1 while alive at the end"`
	StateAtEnd   string                   `json:"state_at_end" help:"its state when the trace ended: running, runnable, blocked, syscall, or ended"`
	ReasonAtEnd  string                   `json:"reason_at_end,omitempty" help:"why it was blocked at the end"`
	Running      time.Duration            `json:"running_ns" help:"time running"`
	Runnable     time.Duration            `json:"runnable_ns" help:"time runnable, waiting for a P"`
	Blocked      time.Duration            `json:"blocked_ns" help:"time blocked, any reason"`
	Syscall      time.Duration            `json:"syscall_ns" help:"time in system calls"`
	BlockedByCat map[string]time.Duration `json:"blocked_by_category_ns" help:"blocked time by category: channel, select, mutex, waitgroup, cond, network, sleep, gc, runtime, other"`
}

// Filter chooses and orders goroutines.
type Filter struct {
	Name       *regexp.Regexp // start function
	StateAtEnd string         // running, runnable, blocked, syscall, ended
	MinBlocked time.Duration
	// From and To keep goroutines alive in the window, as durations
	// from the trace's start; To == 0 means the end.
	From, To time.Duration
	Sort     string // blocked, runnable, running, syscall, created, lifetime
}

// Sorts lists the orders Filter.Sort takes, the default first.
var Sorts = []string{"blocked", "runnable", "running", "syscall", "created", "lifetime"}

// States lists the states Filter.StateAtEnd takes.
var States = []string{"running", "runnable", "blocked", "syscall", "ended"}

// ErrNoMatch is returned (wrapped) when the filter keeps no goroutine.
var ErrNoMatch = errors.New("nothing matches")

// Goroutines reads the trace in r and lists its goroutines. A damaged trace
// gives the goroutines of its complete generations and an error wrapping
// timeline.ErrDamaged.
func Goroutines(ctx context.Context, r io.Reader, f Filter) ([]Goroutine, error) {
	l, err := GoroutinesAt(ctx, r, nil, f, 0)
	if l == nil {
		return nil, err
	}
	defer l.Close()
	rows := l.All()
	if rerr := l.Err(); rerr != nil {
		return nil, rerr
	}
	return rows, err
}

// GoroutineList is the rows of a goroutine list, in order, held compactly
// (a trace has hundreds of thousands of goroutines): Row makes each as
// the commands show it.
type GoroutineList struct {
	rows  rowStore
	names *strTable
	// Total is how many goroutines passed the filters: more than Len
	// with a top.
	Total int
}

// Len is how many rows the list holds.
func (l *GoroutineList) Len() int { return l.rows.len() }

// Row is row i. A list too long to hold in memory reads it back from a
// temporary file; when that fails, Row gives an empty row and Err says
// why.
func (l *GoroutineList) Row(i int) Goroutine {
	g := l.rows.row(i)
	return g.goroutine(l.names)
}

// Err is the first error reading the rows back, if any.
func (l *GoroutineList) Err() error { return l.rows.err }

// Close lets go of the temporary file of a long list.
func (l *GoroutineList) Close() { l.rows.close() }

// All is every row.
func (l *GoroutineList) All() []Goroutine {
	out := make([]Goroutine, l.Len())
	for i := range out {
		out[i] = l.Row(i)
	}
	return out
}

// GoroutinesAt is Goroutines reading r through timeline.ReadAt (at, when
// not nil, reads the same input at its offsets), keeping only the first
// top rows in the order of f.Sort (all of them for 0).
//
// A regular file (or an input that says its size) is read a generation
// per core (timeline.ReadParts), each part's goroutines merged into the
// timeline of the parts before; one the parts cannot read (damaged, or
// with generations that overlap more than the parts mend) is then read in
// order, from r, as anything else is: the same rows either way.
//
// N.B. The rows are filtered and, with a top of at most heapTop, chosen
// as each goroutine ends, and held compactly (see goRow); a longer list
// keeps every row that passes, past spillRows in a temporary file.
func GoroutinesAt(ctx context.Context, r io.Reader, at io.ReaderAt, f Filter, top int) (*GoroutineList, error) {
	if size, ok := partsSize(at); ok {
		l, err := goroutines(ctx, f, top, func(c *goroutineCount) error {
			tk, err := timeline.ReadParts(ctx, at, size, runtime.GOMAXPROCS(0), func(i int, tk *timeline.Tracker) func(*order.Event) {
				if i == 0 {
					c.follow(tk)
				}
				return nil
			})
			if err != nil {
				return err
			}
			tk.Finish()
			return nil
		})
		if !errors.Is(err, timeline.ErrInOrder) {
			return l, err
		}
		if l != nil {
			l.Close()
		}
	}
	return goroutines(ctx, f, top, func(c *goroutineCount) error {
		tk := timeline.NewTracker()
		c.follow(tk)
		return read(ctx, r, at, tk, nil, tk.Event)
	})
}

// partsSize is the size of at, and whether it is an input
// timeline.ReadParts reads: a regular file, or one that says its size.
func partsSize(at io.ReaderAt) (int64, bool) {
	switch x := at.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err := x.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		return fi.Size(), true
	case interface{ Size() int64 }:
		return x.Size(), true
	}
	return 0, false
}

// goroutineCount makes the goroutine list from the goroutines a Tracker
// ends, filtered and sorted.
type goroutineCount struct {
	f    Filter
	rs   *Rows
	l    *GoroutineList
	kept rowHeap
	add  func(goRow)
}

// follow makes the list of the goroutines tk ends: the Tracker reading
// the trace from its start.
func (c *goroutineCount) follow(tk *timeline.Tracker) {
	c.rs.tk = tk
	tk.End = func(g *timeline.Goroutine) {
		// N.B. The trace's end so far: a goroutine that ended is kept
		// or not whatever comes after; one alive at the end ends at
		// Finish, when the end is known.
		row := c.rs.end(g)
		if !c.f.keeps(&c.rs.names, &row, time.Duration(tk.Last()-tk.Start())) {
			return
		}
		c.l.Total++
		c.add(row)
	}
}

// goroutines makes the goroutine list of a reading of the trace: read
// follows (goroutineCount.follow) the Tracker that reads the trace from
// its start, and finishes it.
func goroutines(ctx context.Context, f Filter, top int, read func(*goroutineCount) error) (*GoroutineList, error) {
	c := &goroutineCount{f: f, rs: NewRows(nil)}
	c.kept.by, c.kept.top = f.Sort, top
	l := &GoroutineList{names: &c.rs.names, rows: rowStore{by: f.Sort}}
	c.l, c.add = l, c.kept.add
	if top <= 0 || top > heapTop {
		c.add = l.rows.add
	}
	err := read(c)
	if ctx.Err() != nil || errors.Is(err, timeline.ErrInOrder) {
		l.Close()
		return nil, err
	}
	if len(c.kept.rows) > 0 {
		l.rows.mem = c.kept.sorted()
	}
	if serr := l.rows.finish(top); serr != nil {
		l.Close()
		return nil, serr
	}
	if l.Total == 0 && err == nil && (f.Name != nil || f.StateAtEnd != "" || f.MinBlocked > 0 || f.From > 0 || f.To > 0) {
		return l, fmt.Errorf("%w: no goroutine passes the filters", ErrNoMatch)
	}
	return l, err
}

// Rows makes the rows of goroutines from a Tracker's goroutines: whoever
// reads the trace hands it each goroutine that ends, or outlives the
// trace, and gets the goroutine's row.
type Rows struct {
	tk    *timeline.Tracker
	names strTable
}

// NewRows returns the Rows of the goroutines tk follows.
func NewRows(tk *timeline.Tracker) *Rows {
	return &Rows{tk: tk}
}

// End is the row of g, which has ended or outlived the trace.
func (r *Rows) End(g *timeline.Goroutine) Goroutine {
	row := r.end(g)
	return row.goroutine(&r.names)
}

// end is g's row, held compactly.
func (r *Rows) end(g *timeline.Goroutine) goRow {
	start := r.tk.Start()
	row := goRow{id: int64(g.ID), seq: int32(g.Seq), name: r.names.id(g.Name), existed: g.Existed,
		creator: -1, ended: -1, totals: g.Totals, byCat: g.Blocked, cats: g.BlockedIn}
	if g.Creator != trace.NoGoroutine {
		row.creator = int64(g.Creator)
	}
	if !g.Existed {
		row.created = time.Duration(g.Created - start)
	}
	if g.Ended != 0 {
		row.ended, row.state = time.Duration(g.Ended-start), trace.GoNotExist
	} else {
		row.state, _ = g.State()
		if row.state == trace.GoWaiting {
			row.reason = r.names.id(g.Reason())
		}
	}
	return row
}

// goRow is a goroutine's row as held while the trace is read: its names
// interned, its blocked time by category in an array.
type goRow struct {
	id, creator    int64
	created, ended time.Duration
	totals         [timeline.NumStates]time.Duration
	byCat          [timeline.NumCategories]time.Duration
	seq            int32
	name, reason   uint32 // in the Rows' strTable
	cats           uint16 // the categories of byCat it was blocked in
	state          trace.GoState
	existed        bool
}

// goroutine is the row as the commands show it.
func (g *goRow) goroutine(names *strTable) Goroutine {
	name := names.str(g.name)
	r := Goroutine{ID: g.id, Incarnation: int(g.seq), Name: name, Kind: timeline.KindOf(name).String(),
		Created: g.created, Existed: g.existed, Creator: g.creator, Ended: g.ended, StateAtEnd: stateWord(g.state),
		BlockedByCat: make(map[string]time.Duration, bits.OnesCount16(g.cats))}
	if g.state == trace.GoWaiting {
		r.ReasonAtEnd = names.str(g.reason)
	}
	r.Running, r.Runnable = g.totals[timeline.Running], g.totals[timeline.Runnable]
	r.Blocked, r.Syscall = g.totals[timeline.Blocked], g.totals[timeline.Syscall]
	for c := range timeline.NumCategories {
		if g.cats&(1<<c) != 0 {
			r.BlockedByCat[c.String()] = g.byCat[c]
		}
	}
	return r
}

// strTable interns strings: the start functions and reasons of many
// goroutines are few.
type strTable struct {
	ids  map[string]uint32
	strs []string
}

func (t *strTable) id(s string) uint32 {
	if s == "" {
		return 0
	}
	if id, ok := t.ids[s]; ok {
		return id
	}
	if t.ids == nil {
		t.ids, t.strs = make(map[string]uint32), []string{""}
	}
	id := uint32(len(t.strs))
	t.ids[s] = id
	t.strs = append(t.strs, s)
	return id
}

func (t *strTable) str(id uint32) string {
	if id == 0 {
		return ""
	}
	return t.strs[id]
}

func stateWord(s trace.GoState) string {
	switch s {
	case trace.GoRunning:
		return "running"
	case trace.GoRunnable:
		return "runnable"
	case trace.GoWaiting:
		return "blocked"
	case trace.GoSyscall:
		return "syscall"
	}
	return "ended"
}

// keeps says whether f keeps row g, in a trace that ends end after its
// start.
func (f Filter) keeps(names *strTable, g *goRow, end time.Duration) bool {
	if f.Name != nil && !f.Name.MatchString(names.str(g.name)) {
		return false
	}
	if f.StateAtEnd != "" && stateWord(g.state) != f.StateAtEnd {
		return false
	}
	if g.totals[timeline.Blocked] < f.MinBlocked {
		return false
	}
	if f.From > 0 || f.To > 0 {
		to := f.To
		if to == 0 {
			to = end
		}
		died := g.ended
		if died < 0 {
			died = end
		}
		if g.created > to || died < f.From {
			return false
		}
	}
	return true
}

// rowKey is the key sorting rows by the order named, largest first
// (created: earliest first).
func rowKey(g *goRow, by string) time.Duration {
	switch by {
	case "runnable":
		return g.totals[timeline.Runnable]
	case "running":
		return g.totals[timeline.Running]
	case "syscall":
		return g.totals[timeline.Syscall]
	case "created":
		return -g.created
	case "lifetime":
		return g.totals[timeline.Running] + g.totals[timeline.Runnable] + g.totals[timeline.Blocked] + g.totals[timeline.Syscall]
	}
	return g.totals[timeline.Blocked]
}

// compareRows orders rows by the key named, then by ID and incarnation:
// a total order, so the first top rows do not depend on the order the
// goroutines ended in.
func compareRows(x, y *goRow, by string) int {
	return cmp.Or(cmp.Compare(rowKey(y, by), rowKey(x, by)), cmp.Compare(x.id, y.id), cmp.Compare(x.seq, y.seq))
}

// heapTop is the largest top a rowHeap keeps; a larger one sorts every
// row.
const heapTop = 1 << 12

// rowHeap keeps the first top rows in the order by: a heap whose root is
// the last of them.
type rowHeap struct {
	rows []goRow
	by   string
	top  int
}

func (h *rowHeap) add(g goRow) {
	if len(h.rows) < h.top {
		h.rows = append(h.rows, g)
		h.up(len(h.rows) - 1)
		return
	}
	if compareRows(&g, &h.rows[0], h.by) >= 0 {
		return
	}
	h.rows[0] = g
	h.down(0)
}

// after says whether row i comes after row j: the root comes last.
func (h *rowHeap) after(i, j int) bool { return compareRows(&h.rows[i], &h.rows[j], h.by) > 0 }

func (h *rowHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.after(i, p) {
			return
		}
		h.rows[i], h.rows[p] = h.rows[p], h.rows[i]
		i = p
	}
}

func (h *rowHeap) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(h.rows) {
			return
		}
		if c+1 < len(h.rows) && h.after(c+1, c) {
			c++
		}
		if !h.after(c, i) {
			return
		}
		h.rows[i], h.rows[c] = h.rows[c], h.rows[i]
		i = c
	}
}

// sorted is the rows kept, in order.
func (h *rowHeap) sorted() []goRow {
	slices.SortFunc(h.rows, func(x, y goRow) int { return compareRows(&x, &y, h.by) })
	return h.rows
}

// Label is a goroutine's name for a person: its ID, with the incarnation
// when the ID was used before.
func (g Goroutine) Label() string {
	s := strconv.FormatInt(g.ID, 10)
	if g.Incarnation > 0 {
		s += "." + strconv.Itoa(g.Incarnation)
	}
	return s
}

// read calls fn with each event of the trace in r, in order, then finishes
// tk. It returns ctx's error if ctx ended first, an input that is not a
// trace as it is, and damage to the trace wrapped in timeline.ErrDamaged:
// fn has seen the complete generations before it. The trace is read on a
// goroutine of its own while fn runs on the caller's (see timeline.Pipe);
// keep, when not nil, says which TaskEnd events keep their stacks, and is
// called on the reading goroutine.
func read(ctx context.Context, r io.Reader, at io.ReaderAt, tk *timeline.Tracker, keep func(*trace.Event) bool, fn func(*trace.Event)) error {
	notTrace := false
	err := timeline.Pipe(ctx, func(send timeline.Send) error {
		src, err := timeline.ReadAt(r, at, func(ev *trace.Event) bool { return send(ev, 0, keeps(keep, ev)) })
		notTrace = src == nil
		return err
	}, func(ev *trace.Event, _ int) bool {
		fn(ev)
		return true
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && notTrace {
		return err
	}
	tk.Finish()
	if err != nil {
		return fmt.Errorf("%w: %w", timeline.ErrDamaged, err)
	}
	return nil
}

// keeps reports whether the TaskEnd event ev keeps its stack: whether keep
// says so.
func keeps(keep func(*trace.Event) bool, ev *trace.Event) bool {
	return keep != nil && ev.Kind() == trace.EventTaskEnd && keep(ev)
}
