package report

import (
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// jsonGeneration writes one generation as NDJSON objects: the generation,
// its tables, its batches and their events, as the options select.
func (d *DecodeWriter) jsonGeneration(g *decode.Generation, src EventSource) error {
	d.b = append(d.b, `{"kind":"generation","gen":`...)
	d.b = strconv.AppendUint(d.b, g.Num, 10)
	d.b = append(d.b, `,"offset":`...)
	d.b = strconv.AppendInt(d.b, g.Offset, 10)
	d.b = append(d.b, `,"end":`...)
	d.b = strconv.AppendInt(d.b, g.End, 10)
	d.b = append(d.b, `,"bytes":`...)
	d.b = strconv.AppendInt(d.b, g.End-g.Offset, 10)
	d.b = append(d.b, `,"batches":`...)
	d.b = strconv.AppendInt(d.b, int64(len(g.Batches)), 10)
	d.b = append(d.b, `,"events":`...)
	d.b = appendIntOrNull(d.b, int64(g.Events))
	d.b = append(d.b, `,"frequency":`...)
	d.b = strconv.AppendUint(d.b, g.Frequency, 10)
	d.b = append(d.b, `,"min_time":`...)
	d.b = appendTime(d.b, g, g.MinTime)
	d.b = append(d.b, `,"max_time":`...)
	d.b = appendTime(d.b, g, g.MaxTime)
	d.b = append(d.b, `,"duration_ns":`...)
	d.b = strconv.AppendInt(d.b, int64(g.Duration()), 10)
	d.b = append(d.b, `,"strings":`...)
	d.b = strconv.AppendInt(d.b, int64(len(g.Strings)), 10)
	d.b = append(d.b, `,"stacks":`...)
	d.b = strconv.AppendInt(d.b, int64(len(g.Stacks)), 10)
	d.b = append(d.b, `,"types":`...)
	d.b = strconv.AppendInt(d.b, int64(len(g.Types)), 10)
	d.b = append(d.b, `,"cpu_samples":`...)
	d.b = strconv.AppendInt(d.b, int64(len(g.CPUSamples)), 10)
	if g.Events < 0 {
		// Counts cover only the tables: no footprint rather than a
		// misleading one.
		d.b = append(d.b, `,"footprint":null}`+"\n"...)
		return d.flush(false)
	}
	d.b = append(d.b, `,"footprint":[`...)
	first := true
	for t := range g.Counts {
		c := &g.Counts[t]
		if c.Events == 0 {
			continue
		}
		if !first {
			d.b = append(d.b, ',')
		}
		first = false
		d.b = append(d.b, `{"name":"`...)
		d.b = append(d.b, d.v.EventName(format.EventType(t))...)
		d.b = append(d.b, `","count":`...)
		d.b = strconv.AppendInt(d.b, c.Events, 10)
		d.b = append(d.b, `,"bytes":`...)
		d.b = strconv.AppendInt(d.b, c.Bytes, 10)
		d.b = append(d.b, '}')
	}
	d.b = append(d.b, "]}\n"...)
	if d.o.Summary {
		return d.flush(false)
	}
	if d.o.Tables {
		d.jsonTables(g)
	}
	if err := d.flush(false); err != nil {
		return err
	}
	if d.o.Events {
		return d.jsonEvents(g, src)
	}
	return nil
}

// appendTime appends {"ticks":T,"ns":N}.
func appendTime(b []byte, g *decode.Generation, ticks uint64) []byte {
	b = append(b, `{"ticks":`...)
	b = appendUint(b, ticks)
	b = append(b, `,"ns":`...)
	b = appendUint(b, uint64(g.Nanos(ticks))) // N.B. never negative
	return append(b, '}')
}

func (d *DecodeWriter) jsonKind(kind string, g *decode.Generation) {
	d.b = append(d.b, `{"kind":"`...)
	d.b = append(d.b, kind...)
	d.b = append(d.b, `","gen":`...)
	d.b = strconv.AppendUint(d.b, g.Num, 10)
}

func (d *DecodeWriter) jsonField(name string, v uint64) {
	d.b = append(d.b, `,"`...)
	d.b = append(d.b, name...)
	d.b = append(d.b, `":`...)
	d.b = appendUint(d.b, v)
}

// jsonID writes a thread, processor or goroutine ID: null for all ones,
// which the runtime writes for "none" and JSON numbers cannot hold exactly.
func (d *DecodeWriter) jsonID(name string, v uint64) {
	if v != format.NoThread {
		d.jsonField(name, v)
		return
	}
	d.b = append(d.b, `,"`...)
	d.b = append(d.b, name...)
	d.b = append(d.b, `":null`...)
}

func (d *DecodeWriter) jsonTables(g *decode.Generation) {
	d.jsonKind("frequency", g)
	d.jsonField("ticks_per_second", g.Frequency)
	d.b = append(d.b, "}\n"...)
	if c := g.Clock; c != nil {
		d.jsonKind("clock", g)
		d.b = append(d.b, `,"time":`...)
		d.b = appendTime(d.b, g, c.Time)
		d.jsonField("mono_ns", c.Mono)
		d.jsonField("wall_sec", c.Sec)
		d.jsonField("wall_nsec", c.Nsec)
		d.b = append(d.b, "}\n"...)
	}
	for _, id := range sortedKeys(g.Strings) {
		d.jsonKind("string", g)
		d.jsonField("id", id)
		d.b = append(d.b, `,"value":`...)
		d.b = appendJSONString(d.b, g.Strings[id])
		d.b = append(d.b, "}\n"...)
	}
	for _, id := range sortedKeys(g.Stacks) {
		st := g.Stacks[id]
		d.jsonKind("stack", g)
		d.jsonField("id", id)
		d.b = append(d.b, `,"frames":[`...)
		for i, f := range st.Frames {
			if i > 0 {
				d.b = append(d.b, ',')
			}
			d.b = append(d.b, `{"pc":`...)
			d.b = strconv.AppendUint(d.b, f.PC, 10)
			d.b = append(d.b, `,"func":`...)
			d.b = appendJSONString(d.b, f.Func)
			d.b = append(d.b, `,"file":`...)
			d.b = appendJSONString(d.b, f.File)
			d.jsonField("line", f.Line)
			d.b = append(d.b, '}')
		}
		d.b = append(d.b, "]}\n"...)
	}
	for _, t := range g.Types {
		d.jsonKind("type", g)
		d.jsonField("id", t.ID)
		d.jsonField("addr", t.Addr)
		d.jsonField("size", t.Size)
		d.jsonField("ptr_bytes", t.PtrBytes)
		d.b = append(d.b, `,"name":`...)
		d.b = appendJSONString(d.b, t.Name)
		d.b = append(d.b, "}\n"...)
	}
	if in := g.AllocFreeInfo; in != nil {
		d.jsonKind("allocfree_info", g)
		d.jsonField("min_heap_addr", in.MinHeapAddr)
		d.jsonField("page_size", in.PageSize)
		d.jsonField("min_heap_align", in.MinHeapAlign)
		d.jsonField("min_stack_align", in.MinStackAlign)
		d.b = append(d.b, "}\n"...)
	}
	for _, s := range g.CPUSamples {
		d.jsonKind("cpu_sample", g)
		d.b = append(d.b, `,"time":`...)
		d.b = appendTime(d.b, g, s.Time)
		d.jsonID("m", s.M)
		d.jsonID("p", s.P)
		d.jsonID("g", s.G)
		d.jsonField("stack", s.Stack)
		d.b = append(d.b, "}\n"...)
	}
}

func (d *DecodeWriter) jsonEvents(g *decode.Generation, src EventSource) error {
	filtered := len(d.o.Types) > 0
	for bi := range g.Batches {
		bt := &g.Batches[bi]
		if !filtered && bt.Header != format.EvEndOfGeneration {
			d.jsonKind("batch", g)
			d.jsonField("index", uint64(bi))
			d.b = append(d.b, `,"header":"`...)
			d.b = append(d.b, d.v.EventName(bt.Header)...)
			d.b = append(d.b, '"')
			d.jsonField("offset", uint64(bt.Offset))
			d.jsonField("size", uint64(bt.Size))
			d.jsonID("m", bt.M)
			d.b = append(d.b, `,"time":`...)
			d.b = appendTime(d.b, g, bt.Time)
			if bt.Header == format.EvExperimentalBatch {
				d.b = append(d.b, `,"experiment":"`...)
				d.b = append(d.b, bt.Exp.String()...)
				d.b = append(d.b, '"')
			}
			d.b = append(d.b, "}\n"...)
		}
		err := eachEvent(g, src, bi, func(ev *decode.Event) error {
			if !d.show[ev.Type] {
				return nil
			}
			d.jsonEvent(g, bi, bt, ev)
			return d.flush(false)
		})
		if err != nil {
			return err
		}
	}
	return d.flush(false)
}

func (d *DecodeWriter) jsonEvent(g *decode.Generation, bi int, bt *decode.Batch, ev *decode.Event) {
	s := &d.specs[ev.Type]
	d.jsonKind("event", g)
	d.jsonField("batch", uint64(bi))
	d.jsonField("offset", uint64(ev.Offset))
	d.b = append(d.b, `,"name":"`...)
	d.b = append(d.b, s.Name...)
	d.b = append(d.b, '"')
	d.jsonID("m", bt.M)
	if s.IsTimed {
		d.b = append(d.b, `,"time":`...)
		d.b = appendTime(d.b, g, ev.Time)
	}
	d.b = append(d.b, `,"args":{`...)
	af := d.args[ev.Type]
	for i := 0; i < len(af) && i < len(ev.Args); i++ {
		if i > 0 {
			d.b = append(d.b, ',')
		}
		d.b = append(d.b, af[i].json...)
		d.b = appendUint(d.b, ev.Args[i])
		switch af[i].kind {
		case format.ArgString:
			if str, ok := d.str(ev.Args[i]); ok {
				d.b = append(d.b, af[i].jsonText...)
				d.b = appendJSONString(d.b, str)
			}
		case format.ArgStack:
			if ev.Args[i] == 0 {
				d.b = append(d.b, af[i].jsonText...)
				d.b = append(d.b, `""`...)
			} else if st := d.stack(ev.Args[i]); st != nil {
				d.b = append(d.b, af[i].jsonText...)
				d.b = appendJSONString(d.b, st.Summary())
			}
		}
		if af[i].status != nil {
			d.b = append(d.b, af[i].jsonText...)
			d.b = append(d.b, '"')
			d.b = append(d.b, af[i].status(ev.Args[i])...)
			d.b = append(d.b, '"')
		}
	}
	d.b = append(d.b, '}')
	if s.IsStack {
		d.b = append(d.b, `,"frames":[`...)
		fr := ev.Args[len(s.Args):]
		for f := 0; f+3 < len(fr); f += 4 {
			if f > 0 {
				d.b = append(d.b, ',')
			}
			d.b = append(d.b, `{"pc":`...)
			d.b = appendUint(d.b, fr[f])
			d.jsonField("func", fr[f+1])
			d.jsonField("file", fr[f+2])
			d.jsonField("line", fr[f+3])
			d.b = append(d.b, '}')
		}
		d.b = append(d.b, ']')
	}
	if s.HasData {
		d.b = append(d.b, `,"data":`...)
		d.b = appendJSONString(d.b, unsafe.String(unsafe.SliceData(ev.Data), len(ev.Data))) // N.B. read only, not kept
	}
	d.b = append(d.b, "}\n"...)
}

func appendIntOrNull(b []byte, v int64) []byte {
	if v < 0 {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, v, 10)
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
