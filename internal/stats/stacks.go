package stats

import (
	"container/heap"
	"encoding/binary"
	"unsafe"

	"github.com/gotrace-cli/gotrace/internal/order"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// maxFrames bounds the frames kept for one stack.
const maxFrames = 64

// stackID names a stack interned in a stackTable; 0 is no stack.
type stackID int32

// noStack is the stack of an event that has none.
var noStack order.Stack

// stackTable interns stacks across generations. order.Stack handles name
// a generation's table entry, and two generations may hold the same stack
// under different IDs, so the table keys stacks by their
// program counters and keeps a per-generation cache of handles, cleared at
// each sync so memory stays bounded by the distinct stacks.
type stackTable struct {
	// slots is a direct-mapped cache in front of cache: a handle's slot
	// is picked by its bits (see slotOf) and holds the handle itself,
	// so a hit is one comparison, not a hash of the handle; a miss goes
	// to cache. Cleared with it.
	slots  *[numSlots]stackSlot
	cache  map[order.Stack]stackID
	byPCs  map[string]stackID
	frames [][]Frame       // index stackID-1
	root   []string        // start function of each stack (outermost frame)
	kinds  []timeline.Kind // the kind of goroutine each stack's root starts
	// syncCats caches the category of the "sync" waits at each stack,
	// plus one (0: not worked out yet), index stackID-1.
	syncCats []uint8
	keys     []string // the program counters of each stack, as byPCs keys
	buf      []byte
}

func newStackTable() *stackTable {
	return &stackTable{slots: new([numSlots]stackSlot), cache: make(map[order.Stack]stackID), byPCs: make(map[string]stackID)}
}

// stackSlot is an entry of stackTable.slots: a handle and its ID.
type stackSlot struct {
	s  order.Stack
	id stackID
}

// numSlots is the size of stackTable.slots, a power of two: a generation
// of the bench's stress trace has a few thousand stacks.
const numSlots = 1 << 13

// slotOf picks the slot of handle s by its last word, which is the
// stack's number in its generation's table: numbers are dense from 1, so
// the stacks of a generation mostly get slots of their own. The slot
// holds the whole handle, compared on a hit, so the choice only decides
// how often the cache hits, never which ID a handle gets.
func slotOf(s *order.Stack) int {
	const words = unsafe.Sizeof(order.Stack{}) / unsafe.Sizeof(uintptr(0))
	w := (*[words]uintptr)(unsafe.Pointer(s))
	return int(w[words-1] & (numSlots - 1))
}

// newGeneration drops the handle caches: handles of the old generation
// will not be seen again.
func (t *stackTable) newGeneration() {
	clear(t.cache)
	clear(t.slots[:])
}

func (t *stackTable) id(s order.Stack) stackID {
	if s == noStack {
		return 0
	}
	// N.B. An empty slot holds NoStack, which s is not.
	slot := &t.slots[slotOf(&s)]
	if slot.s == s {
		return slot.id
	}
	id := t.lookup(s)
	*slot = stackSlot{s, id}
	return id
}

// lookup is id past the slots.
func (t *stackTable) lookup(s order.Stack) stackID {
	if id, ok := t.cache[s]; ok {
		return id
	}
	t.buf = t.buf[:0]
	var frames []Frame
	for f := range s.Frames() {
		if len(frames) == maxFrames {
			break
		}
		t.buf = binary.AppendUvarint(t.buf, f.PC)
		frames = append(frames, Frame{Func: f.Func, File: f.File, Line: f.Line})
	}
	if len(frames) == 0 {
		t.cache[s] = 0
		return 0
	}
	id, ok := t.byPCs[string(t.buf)]
	if !ok {
		root := frames[len(frames)-1].Func
		if len(frames) == maxFrames {
			root = timeline.StartFunc(s) // past the frames kept
		}
		id = t.intern(string(t.buf), shown(frames), root)
	}
	t.cache[s] = id
	return id
}

// shown is frames without those of the code gotrace record adds to a
// program, which no stack gotrace prints shows.
func shown(frames []Frame) []Frame {
	out := frames[:0]
	for _, f := range frames {
		if !timeline.IsShimFrame(f.Func) {
			out = append(out, f)
		}
	}
	return out
}

// intern returns the ID of the stack with the given program counters
// (key), frames and start function (root), adding it when new.
func (t *stackTable) intern(key string, frames []Frame, root string) stackID {
	id, ok := t.byPCs[key]
	if !ok {
		t.frames = append(t.frames, frames)
		t.root = append(t.root, root)
		t.kinds = append(t.kinds, timeline.KindOf(root))
		t.keys = append(t.keys, key)
		id = stackID(len(t.frames))
		t.byPCs[key] = id
	}
	return id
}

// get returns the frames of id, never nil.
func (t *stackTable) get(id stackID) []Frame {
	if id <= 0 || int(id) > len(t.frames) {
		return []Frame{}
	}
	return t.frames[id-1]
}

// kind returns the kind of goroutine whose stack id is, by its root
// frame, and false for no stack.
func (t *stackTable) kind(id stackID) (timeline.Kind, bool) {
	if id <= 0 || int(id) > len(t.kinds) {
		return timeline.User, false
	}
	return t.kinds[id-1], true
}

// syncCategory is the category of a "sync" wait parked at stack id, from
// its frames (see timeline.SyncCategory); Mutex when there is no stack.
func (t *stackTable) syncCategory(id stackID) timeline.Category {
	if id <= 0 || int(id) > len(t.frames) {
		return timeline.Mutex
	}
	if len(t.syncCats) < len(t.frames) {
		t.syncCats = append(t.syncCats, make([]uint8, len(t.frames)-len(t.syncCats))...)
	}
	if c := t.syncCats[id-1]; c != 0 {
		return timeline.Category(c - 1)
	}
	frames := t.frames[id-1]
	c := timeline.SyncCategory(func(yield func(string) bool) {
		for _, f := range frames {
			if !yield(f.Func) {
				return
			}
		}
	})
	t.syncCats[id-1] = uint8(c) + 1
	return c
}

// rootFunc returns the outermost function of id, "" for no stack.
func (t *stackTable) rootFunc(id stackID) string {
	if id <= 0 || int(id) > len(t.root) {
		return ""
	}
	return t.root[id-1]
}

// stackAcc accumulates time per stack.
type stackAcc map[stackID]*[2]int64 // count, total

func (a stackAcc) add(id stackID, d int64) { a.addN(id, 1, d) }

// addN adds n intervals of d in total to id.
func (a stackAcc) addN(id stackID, n, d int64) {
	p := a[id]
	if p == nil {
		p = new([2]int64)
		a[id] = p
	}
	p[0] += n
	p[1] += d
}

// merge adds o, whose stack IDs rs maps to a's.
func (a stackAcc) merge(o stackAcc, rs func(stackID) stackID) {
	for id, q := range o {
		a.addN(rs(id), q[0], q[1])
	}
}

// top returns the n stacks with most total time; ties go to the stack
// seen first, so the order does not depend on map iteration.
func (a stackAcc) top(t *stackTable, n int) []StackTime {
	type entry struct {
		id    stackID
		count int64
		total int64
	}
	h := newTopN(n, func(x, y entry) bool {
		if x.total != y.total {
			return x.total < y.total
		}
		if x.count != y.count {
			return x.count < y.count
		}
		return x.id > y.id
	})
	for id, p := range a {
		h.offer(entry{id, p[0], p[1]})
	}
	out := []StackTime{}
	for _, e := range h.sorted() {
		out = append(out, StackTime{Count: e.count, Total: Duration(e.total), Stack: t.get(e.id)})
	}
	return out
}

// topN keeps the n largest values offered, by less.
type topN[T any] struct {
	n     int
	less  func(a, b T) bool
	items []T
}

func newTopN[T any](n int, less func(a, b T) bool) *topN[T] {
	return &topN[T]{n: n, less: less}
}

func (h *topN[T]) Len() int           { return len(h.items) }
func (h *topN[T]) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *topN[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *topN[T]) Push(x any)         { h.items = append(h.items, x.(T)) }
func (h *topN[T]) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// wants reports whether v would enter the list, so callers can skip
// building expensive values.
func (h *topN[T]) wants(v T) bool {
	return h.n > 0 && (len(h.items) < h.n || h.less(h.items[0], v))
}

func (h *topN[T]) offer(v T) {
	if h.n <= 0 {
		return
	}
	if len(h.items) < h.n {
		heap.Push(h, v)
		return
	}
	if h.less(h.items[0], v) {
		h.items[0] = v
		heap.Fix(h, 0)
	}
}

// sorted returns the kept values, largest first, never nil.
func (h *topN[T]) sorted() []T {
	out := make([]T, len(h.items))
	c := &topN[T]{n: h.n, less: h.less, items: append([]T(nil), h.items...)}
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(c).(T)
	}
	return out
}
