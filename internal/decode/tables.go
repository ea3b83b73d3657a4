package decode

import (
	"fmt"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// tables fills the generation's tables from the events of its table
// batches (those isTable picks, as the runtime writes them). Stacks are
// resolved last, once every string of the generation is known.
func (d *genDecoder) tables(g *Generation, stackEvents []*Event) error {
	if err := d.tableEntries(g, stackEvents); err != nil {
		return err
	}
	return d.checkSamples(g)
}

// checkSamples rejects a CPU sample that names a stack the generation's
// table lacks: golang.org/x/exp/trace would panic on it.
func (d *genDecoder) checkSamples(g *Generation) error {
	for _, bi := range d.tableBatches {
		b := &g.Batches[bi]
		for k := range b.Events {
			ev := &b.Events[k]
			if ev.Type != format.EvCPUSample {
				continue
			}
			if id := ev.Args[4]; id != 0 && g.Stacks[id] == nil {
				return &Error{Offset: ev.Offset, Gen: g.Num, Batch: bi, Event: "CPUSample",
					Err: fmt.Errorf("stack %d is not in the stack table: %w", id, ErrCorrupt)}
			}
		}
	}
	return nil
}

// tableEntries is tables' work but for the check of the samples.
func (d *genDecoder) tableEntries(g *Generation, stackEvents []*Event) error {
	for _, bi := range d.tableBatches {
		b := &g.Batches[bi]
		for k := range b.Events {
			ev := &b.Events[k]
			switch ev.Type {
			case format.EvString:
				id := ev.Args[0]
				if _, dup := g.Strings[id]; dup {
					return &Error{Offset: ev.Offset, Gen: g.Num, Batch: bi, Event: "String",
						Err: fmt.Errorf("id %d appears twice in the string table: %w", id, ErrCorrupt)}
				}
				g.Strings[id] = string(ev.Data)
			case format.EvFrequency:
				g.Frequency = ev.Args[0]
			case format.EvClockSnapshot:
				g.Clock = &ClockSnapshot{Time: ev.Time, Mono: ev.Args[1], Sec: ev.Args[2], Nsec: ev.Args[3]}
			case format.EvCPUSample:
				a := ev.Args
				g.CPUSamples = append(g.CPUSamples, CPUSample{Time: a[0], M: a[1], P: a[2], G: a[3], Stack: a[4]})
			}
		}
	}
	if len(stackEvents) == 0 {
		return nil
	}
	// Size the backing arrays once so the *Stack pointers stay put.
	nframes := 0
	for _, ev := range stackEvents {
		nframes += int(ev.Args[1])
	}
	if cap(d.stacks) < len(stackEvents) {
		d.stacks = make([]Stack, 0, len(stackEvents))
	}
	if cap(d.frames) < nframes {
		d.frames = make([]Frame, 0, nframes)
	}
	for _, ev := range stackEvents {
		id := ev.Args[0]
		if _, dup := g.Stacks[id]; dup {
			bi := d.batchOf(g, ev.Offset)
			return &Error{Offset: ev.Offset, Gen: g.Num, Batch: bi, Event: "Stack",
				Err: fmt.Errorf("id %d appears twice in the stack table: %w", id, ErrCorrupt)}
		}
		f0 := len(d.frames)
		pcs := ev.Args[2:]
		for f := 0; f+3 < len(pcs); f += 4 {
			fr := Frame{PC: pcs[f], FuncID: pcs[f+1], FileID: pcs[f+2], Line: pcs[f+3]}
			fr.Func = g.Strings[fr.FuncID]
			fr.File = g.Strings[fr.FileID]
			d.frames = append(d.frames, fr)
		}
		d.stacks = append(d.stacks, Stack{ID: id, Frames: d.frames[f0:len(d.frames):len(d.frames)]})
		st := &d.stacks[len(d.stacks)-1]
		st.summary = st.Summary() // once here, not once per event that names it
		g.Stacks[id] = st
	}
	return nil
}

// batchOf returns the index of the batch holding the byte at off.
func (d *genDecoder) batchOf(g *Generation, off int64) int {
	for i := len(g.Batches) - 1; i >= 0; i-- {
		if g.Batches[i].Offset <= off {
			return i
		}
	}
	return -1
}

// allocFree reads an AllocFree experimental batch into g.
func (d *genDecoder) allocFree(g *Generation, bi, lo int, data []byte) error {
	types, info, at, err := parseAllocFree(data, g.Types)
	if err != nil {
		return &Error{Offset: d.base + int64(lo+at), Gen: g.Num, Batch: bi, Event: "ExperimentalBatch", Err: err}
	}
	g.Types = types
	if info != nil {
		g.AllocFreeInfo = info
	}
	return nil
}

// ParseAllocFree reads the data of an AllocFree experimental batch (as
// golang.org/x/exp/trace hands it out in a Sync's ExperimentalBatches): a
// kind byte, then the type table or the address parameters. It appends the
// types to types; info is nil unless the batch holds the parameters.
func ParseAllocFree(data []byte, types []Type) ([]Type, *AllocFreeInfo, error) {
	types, info, _, err := parseAllocFree(data, types)
	return types, info, err
}

// parseAllocFree is ParseAllocFree, and on failure the offset in data
// where it failed.
func parseAllocFree(data []byte, types []Type) (_ []Type, _ *AllocFreeInfo, at int, err error) {
	if len(data) == 0 {
		return types, nil, 0, nil
	}
	j := 1
	next := func(what string) (uint64, error) {
		v, m := format.Uvarint(data[j:])
		if m == 0 {
			return 0, fmt.Errorf("AllocFree %s: batch ends inside the uvarint: %w", what, ErrCorrupt)
		}
		if m < 0 {
			return 0, fmt.Errorf("AllocFree %s: uvarint overflows 64 bits: %w", what, ErrCorrupt)
		}
		j += m
		return v, nil
	}
	switch data[0] {
	case format.AllocFreeTypesBatch:
		for j < len(data) {
			var vals [5]uint64
			for k, what := range [5]string{"type id", "type address", "type size", "type pointer bytes", "type name length"} {
				v, err := next(what)
				if err != nil {
					return types, nil, j, err
				}
				vals[k] = v
			}
			if vals[4] > uint64(len(data)-j) {
				return types, nil, j, fmt.Errorf("AllocFree type name length %d, batch ends after %d: %w", vals[4], len(data)-j, ErrCorrupt)
			}
			name := string(data[j : j+int(vals[4])])
			j += int(vals[4])
			types = append(types, Type{ID: vals[0], Addr: vals[1], Size: vals[2], PtrBytes: vals[3], Name: name})
		}
	case format.AllocFreeInfoBatch:
		var vals [4]uint64
		for k, what := range [4]string{"min heap address", "page size", "min heap align", "min stack align"} {
			v, err := next(what)
			if err != nil {
				return types, nil, j, err
			}
			vals[k] = v
		}
		if j != len(data) {
			return types, nil, j, fmt.Errorf("AllocFree info: %d bytes after the 4 values: %w", len(data)-j, ErrCorrupt)
		}
		return types, &AllocFreeInfo{MinHeapAddr: vals[0], PageSize: vals[1], MinHeapAlign: vals[2], MinStackAlign: vals[3]}, j, nil
	default:
		return types, nil, 0, fmt.Errorf("AllocFree batch kind %d, want %d (types) or %d (info): %w", data[0], format.AllocFreeTypesBatch, format.AllocFreeInfoBatch, ErrCorrupt)
	}
	return types, nil, j, nil
}
