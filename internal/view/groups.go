package view

import (
	"cmp"
	"io"
	"slices"

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
// the order the events are met in. Names carry over from generation to
// generation, so the generations are read in order.
type groupPass struct {
	names  []string       // the groups' names; 0 is "", not named
	index  map[string]int // names' indexes
	dense  []int32        // goroutine ID → group, for the small IDs
	sparse map[uint64]int32
	groups []map[string]GroupTime
}

func newGroupPass(gens int) *groupPass {
	return &groupPass{names: []string{""}, index: map[string]int{"": 0}, sparse: make(map[uint64]int32), groups: make([]map[string]GroupTime, gens)}
}

// group is goroutine id's group.
func (p *groupPass) group(id uint64) int32 {
	if id < uint64(len(p.dense)) {
		return p.dense[id]
	}
	return p.sparse[id]
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

// generation adds generation g, summarised as s, to the pass.
func (p *groupPass) generation(gr decode.EventReader, g *decode.Generation, s *GenSummary) (map[string]GroupTime, error) {
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
	// The events are walked twice: to name the goroutines, then to
	// count, so that a goroutine's time is in one group whichever of
	// its events comes first.
	naming := true
	change := func(id uint64, c int, t trace.Time, sign int64) {
		if c < 0 || naming {
			return
		}
		gi := int(p.group(id))
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
	seen := make(map[uint64]bool) // goroutines with a status this generation
	for pass := range 2 {
		naming = pass == 0
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
	}
	// The counts carried from bucket to bucket give the whole buckets.
	out := make(map[string]GroupTime, len(accs))
	for gi, a := range accs {
		if a == nil {
			continue
		}
		name := p.names[gi]
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

// groupsCmd follows the goroutines of every generation over the wire, a
// generation at a time and in order, after the first screen.
func (m *Model) groupsCmd() tea.Cmd {
	tr := m.tr
	if tr.Full != nil || tr.src == nil || len(tr.Gens) == 0 {
		return nil
	}
	return func() tea.Msg {
		p := newGroupPass(len(tr.Gens))
		for i := range tr.Gens {
			gt, err := tr.groupTimes(p, i)
			if err != nil {
				return groupsMsg{groups: p.groups, err: err}
			}
			p.groups[i] = gt
		}
		return groupsMsg{groups: p.groups}
	}
}

// groupTimes adds generation i to the pass, read on its own: between
// generations the pass holds none, and what reads generations in full
// meanwhile goes first.
func (t *Trace) groupTimes(p *groupPass, i int) (map[string]GroupTime, error) {
	t.reading.Lock()
	defer t.reading.Unlock()
	at, size := t.gens(i, i)
	dr, err := decode.NewReader(io.NewSectionReader(at, 0, size))
	if err != nil {
		return nil, err
	}
	dr.SetDetail(decode.Frames)
	g, err := dr.Next()
	var gt map[string]GroupTime
	if err == nil {
		gt, err = p.generation(dr, g, &t.Gens[i])
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
