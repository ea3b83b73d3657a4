// Package drill answers the narrower questions that follow a stats report,
// from the goroutine timeline: which goroutine, doing what, for how long.
package drill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"time"

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
	return GoroutinesAt(ctx, r, nil, f)
}

// GoroutinesAt is Goroutines reading r through timeline.ReadAt: at, when
// not nil, reads the same input at its offsets.
func GoroutinesAt(ctx context.Context, r io.Reader, at io.ReaderAt, f Filter) ([]Goroutine, error) {
	tk := timeline.NewTracker()
	rows := NewRows(tk)
	tk.Emit = rows.Interval
	var out []Goroutine
	tk.End = func(g *timeline.Goroutine) { out = append(out, rows.End(g)) }
	err := read(ctx, r, at, tk, tk.Event)
	if ctx.Err() != nil {
		return nil, err
	}
	end := time.Duration(tk.Last() - tk.Start())
	out = slices.DeleteFunc(out, func(g Goroutine) bool { return !f.keeps(g, end) })
	sortRows(out, f.Sort)
	if len(out) == 0 && err == nil && (f.Name != nil || f.StateAtEnd != "" || f.MinBlocked > 0 || f.From > 0 || f.To > 0) {
		return out, fmt.Errorf("%w: no goroutine passes the filters", ErrNoMatch)
	}
	return out, err
}

// Rows makes the rows of goroutines from a Tracker's intervals and ends:
// whoever reads the trace hands it each interval and each goroutine that
// ends, and gets the goroutine's row.
type Rows struct {
	tk    *timeline.Tracker
	byCat map[*timeline.Goroutine]map[string]time.Duration
}

// NewRows returns the Rows of the goroutines tk follows.
func NewRows(tk *timeline.Tracker) *Rows {
	return &Rows{tk: tk, byCat: make(map[*timeline.Goroutine]map[string]time.Duration)}
}

// Interval accounts for iv, an interval the Tracker emits.
func (r *Rows) Interval(iv *timeline.Interval) {
	if iv.State != trace.GoWaiting {
		return
	}
	m := r.byCat[iv.G]
	if m == nil {
		m = make(map[string]time.Duration)
		r.byCat[iv.G] = m
	}
	m[iv.Category.String()] += time.Duration(iv.End - iv.Start)
}

// End is the row of g, which has ended or outlived the trace.
func (r *Rows) End(g *timeline.Goroutine) Goroutine {
	row := row(g, r.tk.Start(), r.byCat[g])
	delete(r.byCat, g)
	return row
}

// row is g's row, with times from start and its blocked time by category.
func row(g *timeline.Goroutine, start trace.Time, byCat map[string]time.Duration) Goroutine {
	r := Goroutine{ID: int64(g.ID), Incarnation: g.Seq, Name: g.Name, Kind: timeline.KindOf(g.Name).String(),
		Existed: g.Existed, Creator: -1, Ended: -1, BlockedByCat: byCat}
	if g.Creator != trace.NoGoroutine {
		r.Creator = int64(g.Creator)
	}
	if !g.Existed {
		r.Created = time.Duration(g.Created - start)
	}
	if g.Ended != 0 {
		r.Ended, r.StateAtEnd = time.Duration(g.Ended-start), "ended"
	} else {
		st, _ := g.State()
		r.StateAtEnd = stateWord(st)
		if st == trace.GoWaiting {
			r.ReasonAtEnd = g.Reason()
		}
	}
	r.Running, r.Runnable = g.Totals[timeline.Running], g.Totals[timeline.Runnable]
	r.Blocked, r.Syscall = g.Totals[timeline.Blocked], g.Totals[timeline.Syscall]
	if r.BlockedByCat == nil {
		r.BlockedByCat = map[string]time.Duration{}
	}
	return r
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

func (f Filter) keeps(g Goroutine, end time.Duration) bool {
	if f.Name != nil && !f.Name.MatchString(g.Name) {
		return false
	}
	if f.StateAtEnd != "" && g.StateAtEnd != f.StateAtEnd {
		return false
	}
	if g.Blocked < f.MinBlocked {
		return false
	}
	if f.From > 0 || f.To > 0 {
		to := f.To
		if to == 0 {
			to = end
		}
		died := g.Ended
		if died < 0 {
			died = end
		}
		if g.Created > to || died < f.From {
			return false
		}
	}
	return true
}

// sortRows orders rows by the key named, largest first (created: earliest
// first), then by ID and incarnation.
func sortRows(rows []Goroutine, by string) {
	key := func(g Goroutine) time.Duration {
		switch by {
		case "runnable":
			return g.Runnable
		case "running":
			return g.Running
		case "syscall":
			return g.Syscall
		case "created":
			return -g.Created
		case "lifetime":
			return g.Running + g.Runnable + g.Blocked + g.Syscall
		}
		return g.Blocked
	}
	slices.SortStableFunc(rows, func(x, y Goroutine) int {
		return cmp.Or(cmp.Compare(key(y), key(x)), cmp.Compare(x.ID, y.ID), cmp.Compare(x.Incarnation, y.Incarnation))
	})
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
// tk. It returns ctx's error if ctx ended first, and damage to the trace
// wrapped in timeline.ErrDamaged: fn has seen the complete generations
// before it.
func read(ctx context.Context, r io.Reader, at io.ReaderAt, tk *timeline.Tracker, fn func(*trace.Event)) error {
	n := 0
	_, err := timeline.ReadAt(r, at, func(ev *trace.Event) bool {
		fn(ev)
		n++
		return n%4096 != 0 || ctx.Err() == nil
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	tk.Finish()
	if err != nil {
		return fmt.Errorf("%w: %w", timeline.ErrDamaged, err)
	}
	return nil
}
