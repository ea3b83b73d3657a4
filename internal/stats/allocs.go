package stats

import (
	"cmp"
	"context"
	"io"
	"slices"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// A trace recorded with GODEBUG=traceallocfree=1 (gotrace record
// --allocfree) has an event for every heap object allocated and freed,
// naming the object by its address and its type by an ID in a type table.
// The events carry no stack, but each is written by the goroutine that
// allocates, on its own thread: so the allocations are told by type and by
// the goroutine (its start function) that made them.
//
// An object's size is its size class's, which the heap span it lies in
// tells: the span events give each span's first page, length and class.
// The spans that exist when tracing starts come as a snapshot in the first
// generation; a trace cut from a longer one (a flight-recorder snapshot)
// lacks it, and objects in spans it never saw count by their type's size.

// sizeClassBytes is the size of each small-object size class, by class
// number, as the Go runtime's allocator has them (internal/runtime/gc's
// SizeClassToSize, the same from Go 1.21 to 1.27). Class 0 is the class
// of large objects, one to a span.
var sizeClassBytes = [...]uint32{0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// maxSmallSpanPages bounds how many pages before an object's own page the
// first page of its span can be: spans of small objects are at most 10
// pages long; a large object begins its span.
const maxSmallSpanPages = 16

// span is a heap span: its length in pages and its kind and class, as the
// runtime writes them (the span class shifted left once for a span in use
// by the heap; 1 for any other span).
type span struct {
	pages     uint64
	kindClass uint64
}

// objectBytes is the size of the object whose span is s.
func (s span) objectBytes(pageSize uint64) (uint64, bool) {
	if s.kindClass&1 != 0 {
		return 0, false // not a heap span
	}
	class := s.kindClass >> 2 // span class is size class << 1 | noscan
	switch {
	case class == 0:
		return s.pages * pageSize, true
	case class < uint64(len(sizeClassBytes)):
		return uint64(sizeClassBytes[class]), true
	}
	return 0, false
}

// untyped names the memory the runtime allocates without a type.
const untyped = "(no type: string data and other raw memory)"

type allocCount struct{ objects, bytes int64 }

func (c *allocCount) add(b uint64) { c.objects++; c.bytes += int64(b) }

// allocPass reads the heap events of the trace in r with the goroutine
// timeline, and tells the allocations by type and by goroutine. Damage
// ends it where the stats passes ended, so what it read is kept.
func allocPass(ctx context.Context, r io.Reader, top int, counts func(timeline.Kind) bool) Allocs {
	var (
		info   *decode.AllocFreeInfo
		types  = make(map[uint64]decode.Type)
		spans  = make(map[uint64]span) // by first page
		byType = make(map[string]*allocCount)
		byG    = make(map[*timeline.Goroutine]*allocCount)
		out    = Allocs{Traced: true}
		tr     = timeline.NewTracker()
	)
	sizeOf := func(id uint64, typ decode.Type) (uint64, bool) {
		if info == nil || info.PageSize == 0 {
			return typ.Size, false
		}
		page := id * info.MinHeapAlign / info.PageSize
		for back := uint64(0); back <= min(page, maxSmallSpanPages); back++ {
			if s, ok := spans[page-back]; ok && page < page-back+s.pages {
				if b, ok := s.objectBytes(info.PageSize); ok {
					return b, true
				}
				break
			}
		}
		return typ.Size, false
	}
	n := 0
	_, _ = timeline.Read(r, func(ev *trace.Event) bool {
		if n++; n&0xffff == 0 && ctx.Err() != nil {
			return false
		}
		tr.Event(ev)
		switch ev.Kind() {
		case trace.EventSync:
			clear(types)
			for _, b := range ev.Sync().ExperimentalBatches["AllocFree"] {
				ts, in, err := decode.ParseAllocFree(b.Data, nil)
				if err != nil {
					continue // decode reports it as damage
				}
				for _, t := range ts {
					types[t.ID] = t
				}
				if in != nil {
					info = in
				}
			}
		case trace.EventExperimental:
			x := ev.Experimental()
			arg := func(i int) uint64 { return x.ArgValue(i).Uint64() }
			switch x.Name {
			case "Span", "SpanAlloc":
				spans[arg(0)] = span{pages: arg(1), kindClass: arg(2)}
			case "SpanFree":
				delete(spans, arg(0))
			case "HeapObjectAlloc":
				typ, ok := types[arg(1)]
				switch {
				case arg(1) == 0:
					// The runtime allocates some memory without a
					// type: the bytes of strings it builds, and
					// other raw memory that holds no pointers.
					typ = decode.Type{Name: untyped}
				case !ok:
					typ = decode.Type{Name: "(type not in the table)"}
				}
				b, exact := sizeOf(arg(0), typ)
				if !exact {
					out.Estimated++
				}
				out.Objects++
				out.Bytes += ByteCount(b)
				c := byType[typ.Name]
				if c == nil {
					c = new(allocCount)
					byType[typ.Name] = c
				}
				c.add(b)
				if id := ev.Goroutine(); id != trace.NoGoroutine {
					g := tr.Goroutine(id)
					if byG[g] == nil {
						byG[g] = new(allocCount)
					}
					byG[g].add(b)
				}
			case "HeapObjectFree":
				out.Freed++
			}
		}
		return true
	})
	tr.Finish()

	out.ByType = topAllocs(byType, top)
	byFunc := make(map[string]*allocCount)
	for g, c := range byG {
		name := unknownFunc
		if g != nil && g.Name != "" {
			name = g.Name
		}
		if k := timeline.KindOf(name); !counts(k) {
			// The kinds the sections do not count are a row each.
			name = "(" + k.String() + " goroutines)"
		}
		f := byFunc[name]
		if f == nil {
			f = new(allocCount)
			byFunc[name] = f
		}
		f.objects += c.objects
		f.bytes += c.bytes
	}
	out.ByGoroutine = topAllocs(byFunc, top)
	for i := range out.ByGoroutine {
		g := &out.ByGoroutine[i]
		g.Kind = timeline.KindOf(g.Name).String()
		for k := range timeline.Kind(timeline.NumKinds) {
			if g.Name == "("+k.String()+" goroutines)" {
				g.Kind = k.String()
			}
		}
	}
	return out
}

// topAllocs lists the top entries of m, most bytes first.
func topAllocs(m map[string]*allocCount, top int) []AllocGroup {
	out := make([]AllocGroup, 0, len(m))
	for name, c := range m {
		out = append(out, AllocGroup{Name: name, Objects: c.objects, Bytes: ByteCount(c.bytes)})
	}
	slices.SortFunc(out, func(a, b AllocGroup) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(b.Objects, a.Objects), cmp.Compare(a.Name, b.Name))
	})
	if top > 0 && len(out) > top {
		out = out[:top]
	}
	return out
}
