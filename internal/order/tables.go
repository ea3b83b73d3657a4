package order

import (
	"fmt"
	"iter"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"golang.org/x/exp/trace"
)

// idTable maps 64-bit IDs (goroutines, procs, threads, tasks, PCs) to
// int32 slots: open addressing with linear probing, deletion by backward
// shift, so lookups never wade through tombstones. Goroutine IDs run into
// the millions over a long trace while a few thousand live at once, so a
// dense slice by ID would grow with the trace rather than with what is
// alive.
type idTable struct {
	keys  []uint64
	vals  []int32 // slot+1; 0 marks an empty cell
	n     int
	shift uint
}

// hashID spreads IDs that are mostly sequential over the table.
func (t *idTable) hashID(k uint64) int {
	return int((k * 0x9E3779B97F4A7C15) >> t.shift)
}

func (t *idTable) get(k uint64) (int32, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := len(t.keys) - 1
	for i := t.hashID(k); ; i = (i + 1) & mask {
		v := t.vals[i]
		if v == 0 {
			return 0, false
		}
		if t.keys[i] == k {
			return v - 1, true
		}
	}
}

// put sets k's slot; k must not be present.
func (t *idTable) put(k uint64, slot int32) {
	if (t.n+1)*4 > len(t.keys)*3 {
		t.grow()
	}
	mask := len(t.keys) - 1
	i := t.hashID(k)
	for t.vals[i] != 0 {
		i = (i + 1) & mask
	}
	t.keys[i], t.vals[i] = k, slot+1
	t.n++
}

func (t *idTable) grow() {
	oldK, oldV := t.keys, t.vals
	size := 16
	if len(oldK) > 0 {
		size = 2 * len(oldK)
	}
	t.keys, t.vals, t.n = make([]uint64, size), make([]int32, size), 0
	t.shift = 64
	for s := size; s > 1; s >>= 1 {
		t.shift--
	}
	for i, v := range oldV {
		if v != 0 {
			t.put(oldK[i], v-1)
		}
	}
}

// del removes k if present. The cells after it move back into the gap
// when their home allows, so every key stays reachable from its home.
func (t *idTable) del(k uint64) {
	if t.n == 0 {
		return
	}
	mask := len(t.keys) - 1
	i := t.hashID(k)
	for {
		if t.vals[i] == 0 {
			return
		}
		if t.keys[i] == k {
			break
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; t.vals[j] != 0; j = (j + 1) & mask {
		home := t.hashID(t.keys[j])
		// N.B. j's key may fill the gap at i only if i lies on its
		// probe path, between home and j (cyclically).
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.keys[i], t.vals[i] = t.keys[j], t.vals[j]
			i = j
		}
	}
	t.vals[i] = 0
	t.n--
}

func (t *idTable) reset() {
	clear(t.vals)
	t.n = 0
}

// frameRec is one distinct PC of a generation with the names its first
// stack-table appearance gave it: golang.org/x/exp/trace resolves every
// frame through such a PC table, so a PC written twice with different
// names reads as the first.
type frameRec struct {
	pc, funcID, fileID, line uint64
}

// tables is one generation's strings and stacks in dense arrays, indexed
// by ID, and what a Sync event reports. It is built once per generation and
// never changed, so Stack handles and strings stay valid after the
// generation is gone.
type tables struct {
	gen uint64

	strs      []string
	strOK     []bool
	strSparse map[uint64]string

	// A stack's frames are frameIdx[stkLo[id]:stkHi[id]], indexes into
	// frames; stkLo is -1 for an absent ID.
	stkLo, stkHi []int32
	stkSparse    map[uint64][2]int32
	frameIdx     []int32
	frames       []frameRec

	clock *trace.ClockSnapshot
	exp   map[string][]trace.ExperimentalBatch
}

// denseFor reports whether IDs up to maxID are worth a dense array for n
// entries: the runtime numbers them from 1, hostile input need not.
func denseFor(maxID uint64, n int) bool {
	return maxID < uint64(4*n+4096)
}

func (t *tables) str(id uint64) (string, bool) {
	if id == 0 {
		return "", true
	}
	if id < uint64(len(t.strOK)) {
		return t.strs[id], t.strOK[id]
	}
	s, ok := t.strSparse[id]
	return s, ok
}

func (t *tables) hasStack(id uint64) bool {
	if id == 0 {
		return true
	}
	if id < uint64(len(t.stkLo)) {
		return t.stkLo[id] >= 0
	}
	_, ok := t.stkSparse[id]
	return ok
}

func (t *tables) stackRange(id uint64) (lo, hi int32) {
	if id == 0 {
		return 0, 0
	}
	if id < uint64(len(t.stkLo)) {
		if t.stkLo[id] < 0 {
			return 0, 0
		}
		return t.stkLo[id], t.stkHi[id]
	}
	r := t.stkSparse[id]
	return r[0], r[1]
}

// buildTables indexes g's tables. Frames whose names the string table
// lacks are refused here, as golang.org/x/exp/trace refuses them, so that
// every lookup afterwards succeeds.
func buildTables(g *decode.Generation, pcs *idTable) (*tables, error) {
	t := &tables{gen: g.Num}

	var maxID uint64
	for id := range g.Strings {
		maxID = max(maxID, id)
	}
	if denseFor(maxID, len(g.Strings)) {
		t.strs = make([]string, maxID+1)
		t.strOK = make([]bool, maxID+1)
		for id, s := range g.Strings {
			t.strs[id], t.strOK[id] = s, true
		}
	} else {
		t.strSparse = make(map[uint64]string, len(g.Strings))
		for id, s := range g.Strings {
			t.strSparse[id] = s
		}
	}

	// Stacks in input order, so the first appearance of a PC names it.
	maxID = 0
	nstk, nfr := 0, 0
	for bi := range g.Batches {
		for k := range g.Batches[bi].Events {
			ev := &g.Batches[bi].Events[k]
			if ev.Type == format.EvStack && len(ev.Args) >= 2 {
				maxID = max(maxID, ev.Args[0])
				nstk++
				nfr += (len(ev.Args) - 2) / 4
			}
		}
	}
	dense := denseFor(maxID, nstk)
	if dense {
		t.stkLo = make([]int32, maxID+1)
		t.stkHi = make([]int32, maxID+1)
		for i := range t.stkLo {
			t.stkLo[i] = -1
		}
	} else {
		t.stkSparse = make(map[uint64][2]int32, nstk)
	}
	t.frameIdx = make([]int32, 0, nfr)
	pcs.reset()
	for bi := range g.Batches {
		for k := range g.Batches[bi].Events {
			ev := &g.Batches[bi].Events[k]
			if ev.Type != format.EvStack || len(ev.Args) < 2 {
				continue
			}
			lo := int32(len(t.frameIdx))
			a := ev.Args[2:]
			for f := 0; f+3 < len(a); f += 4 {
				fi, ok := pcs.get(a[f])
				if !ok {
					fi = int32(len(t.frames))
					t.frames = append(t.frames, frameRec{pc: a[f], funcID: a[f+1], fileID: a[f+2], line: a[f+3]})
					pcs.put(a[f], fi)
				}
				t.frameIdx = append(t.frameIdx, fi)
			}
			hi := int32(len(t.frameIdx))
			// N.B. decode refuses duplicate stack IDs, so each is set once.
			if id := ev.Args[0]; dense {
				t.stkLo[id], t.stkHi[id] = lo, hi
			} else {
				t.stkSparse[id] = [2]int32{lo, hi}
			}
		}
	}
	for _, f := range t.frames {
		if _, ok := t.str(f.funcID); !ok {
			return nil, fmt.Errorf("stack frame at PC %#x names function string %d, which the string table lacks", f.pc, f.funcID)
		}
		if _, ok := t.str(f.fileID); !ok {
			return nil, fmt.Errorf("stack frame at PC %#x names file string %d, which the string table lacks", f.pc, f.fileID)
		}
	}
	return t, nil
}

// syncInfo fills what the generation's Sync event reports: the clock
// snapshot and the experimental batches, their data copied because
// decode reuses its buffer for the next generation.
func (t *tables) syncInfo(g *decode.Generation, mul func(uint64) trace.Time) {
	if g.Clock != nil {
		t.clock = &trace.ClockSnapshot{
			Trace: mul(g.Clock.Time),
			Wall:  time.Unix(int64(g.Clock.Sec), int64(g.Clock.Nsec)),
			Mono:  g.Clock.Mono,
		}
	}
	t.exp = map[string][]trace.ExperimentalBatch{}
	for i := range g.Batches {
		b := &g.Batches[i]
		if b.Header != format.EvExperimentalBatch || b.Exp == format.NoExperiment {
			continue
		}
		name := b.Exp.String()
		t.exp[name] = append(t.exp[name], trace.ExperimentalBatch{
			Thread: trace.ThreadID(b.M),
			Data:   append([]byte(nil), b.Data...),
		})
	}
}

// Stack is a handle to one entry of a generation's stack table. The zero
// Stack has no frames. It stays valid after its generation is gone.
type Stack struct {
	tab *tables
	id  uint64
}

// ID is the stack's ID in its generation's table, 0 for no stack. IDs of
// different generations are unrelated.
func (s Stack) ID() uint64 { return s.id }

// Len is the number of frames, leaf first.
func (s Stack) Len() int {
	if s.tab == nil {
		return 0
	}
	lo, hi := s.tab.stackRange(s.id)
	return int(hi - lo)
}

// Frame returns frame i, 0 ≤ i < Len() (0 is the leaf), names resolved.
func (s Stack) Frame(i int) trace.StackFrame {
	lo, _ := s.tab.stackRange(s.id)
	f := &s.tab.frames[s.tab.frameIdx[int(lo)+i]]
	fn, _ := s.tab.str(f.funcID)
	file, _ := s.tab.str(f.fileID)
	return trace.StackFrame{PC: f.pc, Func: fn, File: file, Line: f.line}
}

// Frames iterates over the frames, leaf first.
func (s Stack) Frames() iter.Seq[trace.StackFrame] {
	return func(yield func(trace.StackFrame) bool) {
		for i, n := 0, s.Len(); i < n; i++ {
			if !yield(s.Frame(i)) {
				return
			}
		}
	}
}
