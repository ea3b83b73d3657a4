package view

import (
	"cmp"
	"io"
	"maps"
	"slices"
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// The classes a group's summary keeps: every wait is one, blocked.
const (
	sumRunning = iota
	sumRunnable
	sumSyscall
	sumBlocked
	numSum
)

// sumClass is the class each summary class is drawn as.
var sumClass = [numSum]class{clRunning, clRunnable, clSyscall, clBlocked + class(timeline.Other)}

// GroupTime is, for one goroutine group (start function) in one
// generation, the time its goroutines spent running, runnable, in system
// calls and blocked in each of the generation's buckets (GenSummary.Width
// wide from GenSummary.Start).
type GroupTime [][numSum]trace.Time

// groupPass follows the goroutines over the wire without ordering their
// events: each event says which state a goroutine leaves and which it
// enters, so a goroutine's time in a state is the sum of (end of the
// generation - when it entered) less the same for when it left, whatever
// the order the events are met in. Each generation's events are walked
// twice: to name the goroutines, then to count, so that a goroutine's time
// is in one group whichever of its events comes first. Names carry over
// from generation to generation, so the naming walks go in order; the
// counting walk of a generation reads the names as its naming walk left
// them (a groupNames of their own), beside the naming walk of the next.
type groupPass struct {
	groupNames
	index  map[string]int // names' indexes
	groups []map[string]GroupTime
}

// groupNames is the goroutines' groups.
type groupNames struct {
	names  []string // the groups' names; 0 is "", not named
	dense  []int32  // goroutine ID → group, for the small IDs
	sparse map[uint64]int32
}

func newGroupPass(gens int) *groupPass {
	return &groupPass{groupNames: groupNames{names: []string{""}, sparse: make(map[uint64]int32)}, index: map[string]int{"": 0}, groups: make([]map[string]GroupTime, gens)}
}

// group is goroutine id's group.
func (n *groupNames) group(id uint64) int32 {
	if id < uint64(len(n.dense)) {
		return n.dense[id]
	}
	return n.sparse[id]
}

// clone is the groups as they stand, to read while the pass names more.
func (n *groupNames) clone() *groupNames {
	return &groupNames{names: slices.Clone(n.names), dense: slices.Clone(n.dense), sparse: maps.Clone(n.sparse)}
}

// name puts goroutine id in the group of start function fn.
func (p *groupPass) name(id uint64, fn string) {
	i, ok := p.index[fn]
	if !ok {
		i = len(p.names)
		p.index[fn] = i
		p.names = append(p.names, fn)
	}
	if id < 1<<22 {
		if id >= uint64(len(p.dense)) {
			p.dense = append(p.dense, make([]int32, int(id)+1-len(p.dense)+len(p.dense)/2)...)
		}
		p.dense[id] = int32(i)
		return
	}
	p.sparse[id] = int32(i)
}

// walk walks the events of generation g, summarised as s: with names nil,
// to name its goroutines in the pass; else to count their time in the
// groups names holds, which it returns.
func (p *groupPass) walk(gr decode.EventReader, g *decode.Generation, s *GenSummary, names *groupNames) (map[string]GroupTime, error) {
	naming := names == nil
	clk := newClock(g.Frequency)
	root := func(id uint64) string {
		if st := g.Stacks[id]; st != nil && len(st.Frames) > 0 {
			return st.Frames[len(st.Frames)-1].Func
		}
		return ""
	}
	n := 1
	for _, b := range s.Busy {
		n = len(b)
	}
	end := s.Start + s.Width*trace.Time(n)
	// For each group: per bucket, the part of it spent by the goroutines
	// that entered a class in it (less the part after leaving), and how
	// many entered less how many left, which the buckets after count
	// whole.
	type acc struct {
		part  GroupTime
		count [][numSum]int64
	}
	var accs []*acc // by group
	change := func(id uint64, c int, t trace.Time, sign int64) {
		if c < 0 || naming {
			return
		}
		gi := int(names.group(id))
		if gi >= len(accs) {
			accs = append(accs, make([]*acc, gi+1-len(accs))...)
		}
		a := accs[gi]
		if a == nil {
			a = &acc{part: make(GroupTime, n), count: make([][numSum]int64, n)}
			accs[gi] = a
		}
		t = min(max(t, s.Start), end-1)
		i := int((t - s.Start) / s.Width)
		a.part[i][c] += trace.Time(sign) * (s.Start + trace.Time(i+1)*s.Width - t)
		a.count[i][c] += sign
	}
	type cur struct {
		g  uint64
		ok bool
	}
	seen := make(map[uint64]bool)    // goroutines with a status this generation
	running := make(map[uint64]*cur) // by thread: the goroutine it runs
	for i := range g.Batches {
		b := &g.Batches[i]
		if b.Header != format.EvEventBatch {
			continue
		}
		m := running[b.M]
		if m == nil {
			m = &cur{}
			running[b.M] = m
		}
		err := gr.EachEvent(g, i, func(ev *decode.Event) error {
			arg := func(k int) uint64 {
				if k < len(ev.Args) {
					return ev.Args[k]
				}
				return 0
			}
			t := clk.time(ev.Time)
			// self moves the thread's goroutine from one class to
			// another (-1: none). A goroutine whose status had no stack
			// is named by the first stack of its own (arg k).
			self := func(from, to, k int) {
				if !m.ok {
					return
				}
				if naming && k > 0 && p.group(m.g) == 0 {
					if fn := root(arg(k)); fn != "" {
						p.name(m.g, fn)
					}
				}
				change(m.g, from, t, -1)
				change(m.g, to, t, 1)
			}
			switch ev.Type {
			case format.EvGoCreate, format.EvGoCreateBlocked:
				if naming {
					p.name(arg(1), root(arg(2)))
				}
				to := sumRunnable
				if ev.Type == format.EvGoCreateBlocked {
					to = sumBlocked
				}
				change(arg(1), to, t, 1)
			case format.EvGoCreateSyscall:
				change(arg(1), sumSyscall, t, 1)
				m.g, m.ok = arg(1), true
			case format.EvGoStart:
				change(arg(1), sumRunnable, t, -1)
				change(arg(1), sumRunning, t, 1)
				m.g, m.ok = arg(1), true
			case format.EvGoStop:
				self(sumRunning, sumRunnable, 2)
				m.ok = false
			case format.EvGoBlock:
				self(sumRunning, sumBlocked, 2)
				m.ok = false
			case format.EvGoUnblock:
				change(arg(1), sumBlocked, t, -1)
				change(arg(1), sumRunnable, t, 1)
			case format.EvGoSyscallBegin:
				self(sumRunning, sumSyscall, 2)
			case format.EvGoSyscallEnd:
				self(sumSyscall, sumRunning, 0)
			case format.EvGoSyscallEndBlocked:
				self(sumSyscall, sumRunnable, 0)
				m.ok = false
			case format.EvGoDestroy:
				self(sumRunning, -1, 0)
				m.ok = false
			case format.EvGoDestroySyscall:
				self(sumSyscall, -1, 0)
				m.ok = false
			case format.EvGoSwitch, format.EvGoSwitchDestroy:
				if ev.Type == format.EvGoSwitch {
					self(sumRunning, sumBlocked, 0)
				} else {
					self(sumRunning, -1, 0)
				}
				change(arg(1), sumBlocked, t, -1)
				change(arg(1), sumRunning, t, 1)
				m.g, m.ok = arg(1), true
			case format.EvGoStatus, format.EvGoStatusStack:
				id := arg(1)
				if naming && p.group(id) == 0 && ev.Type == format.EvGoStatusStack {
					p.name(id, root(arg(4)))
				}
				c := -1
				switch format.GoStatus(arg(3)) {
				case format.GoRunnable:
					c = sumRunnable
				case format.GoRunning:
					c = sumRunning
					if arg(2) == b.M {
						m.g, m.ok = id, true
					}
				case format.GoSyscall:
					c = sumSyscall
				case format.GoWaiting:
					c = sumBlocked
				}
				if !naming && !seen[id] {
					// In that state since the generation began.
					seen[id] = true
					change(id, c, s.Start, 1)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if naming {
		return nil, nil
	}
	// The counts carried from bucket to bucket give the whole buckets.
	out := make(map[string]GroupTime, len(accs))
	for gi, a := range accs {
		if a == nil {
			continue
		}
		name := names.names[gi]
		gt := make(GroupTime, n)
		var alive [numSum]int64
		for i := range n {
			for c := range numSum {
				gt[i][c] = max(a.part[i][c]+trace.Time(alive[c])*s.Width, 0)
				alive[c] += a.count[i][c]
			}
		}
		out[name] = gt
	}
	return out, nil
}

// groupsMsg brings the group times of every generation, in order.
type groupsMsg struct {
	groups []map[string]GroupTime
	err    error
}

// groupsCmd follows the goroutines of every generation over the wire, in
// order, after the first screen: the counting walk of a generation runs
// beside the naming walk of the next, the two generations read at once.
func (m *Model) groupsCmd() tea.Cmd {
	tr := m.tr
	if tr.Full != nil || tr.src == nil || len(tr.Gens) == 0 {
		return nil
	}
	return func() tea.Msg {
		p := newGroupPass(len(tr.Gens))
		_, err := tr.groupWalk(p, 0, nil, true)
		for i := range tr.Gens {
			if err != nil {
				return groupsMsg{groups: p.groups, err: err}
			}
			names := p.clone()
			var next error
			var wg sync.WaitGroup
			tr.reading.Lock()
			if i+1 < len(tr.Gens) {
				wg.Go(func() { _, next = tr.groupWalk(p, i+1, nil, false) })
			}
			var gt map[string]GroupTime
			gt, err = tr.groupWalk(p, i, names, false)
			wg.Wait()
			tr.reading.Unlock()
			if err != nil {
				return groupsMsg{groups: p.groups, err: err}
			}
			p.groups[i] = gt
			err = next
		}
		return groupsMsg{groups: p.groups}
	}
}

// groupWalk reads generation i on its own and walks its events for the
// pass (see groupPass.walk), holding the reading lock if lock says to.
// N.B. Between generations the pass holds none, and what reads
// generations in full meanwhile goes first.
func (t *Trace) groupWalk(p *groupPass, i int, names *groupNames, lock bool) (map[string]GroupTime, error) {
	if lock {
		t.reading.Lock()
		defer t.reading.Unlock()
	}
	at, size := t.gens(i, i)
	dr, err := decode.NewReader(io.NewSectionReader(at, 0, size))
	if err != nil {
		return nil, err
	}
	dr.SetDetail(decode.Frames)
	g, err := dr.Next()
	var gt map[string]GroupTime
	if err == nil {
		gt, err = p.walk(dr, g, &t.Gens[i], names)
	}
	if err == nil {
		// N.B. The end of the input hands the decoder's buffers on to
		// the next reader.
		if _, err = dr.Next(); err == io.EOF {
			err = nil
		}
	}
	return gt, t.relocate(err, i)
}

// sumGroup is a group of the summaries: its name, kind and busy time.
type sumGroup struct {
	name string
	kind timeline.Kind
	busy trace.Time
}

// sumGroups lists the groups of the summaries, the program's own first,
// busiest first.
func (m *Model) sumGroups() []sumGroup {
	busy := make(map[string]trace.Time)
	for _, gt := range m.groups {
		for name, buckets := range gt {
			for _, b := range buckets {
				busy[name] += b[sumRunning] + b[sumRunnable] + b[sumSyscall]
			}
		}
	}
	var out []sumGroup
	for name, b := range busy {
		out = append(out, sumGroup{name, timeline.KindOf(name), b})
	}
	slices.SortFunc(out, func(a, b sumGroup) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(b.busy, a.busy), cmp.Compare(a.name, b.name))
	})
	return out
}

// sumGroupSamples is the lane of a group of the summaries on the grid.
func (m *Model) sumGroupSamples(name string, gr grid) []class {
	acc := make([][numClasses]trace.Time, gr.n)
	for i, gt := range m.groups {
		buckets := gt[name]
		g := &m.tr.Gens[i]
		if buckets == nil || g.Last < gr.from || g.Start >= gr.to {
			continue
		}
		for b := range buckets {
			lo, hi := g.Start+trace.Time(b)*g.Width, g.Start+trace.Time(b+1)*g.Width
			for k := gr.index(max(lo, gr.from)); k < gr.n && gr.at(k) < hi; k++ {
				o := min(hi, gr.at(k+1)) - max(lo, gr.at(k))
				if o <= 0 {
					continue
				}
				for c := range numSum {
					if v := buckets[b][c]; v > 0 {
						acc[k][sumClass[c]] += trace.Time(float64(v) * float64(o) / float64(hi-lo))
					}
				}
			}
		}
	}
	return dominant(acc)
}
