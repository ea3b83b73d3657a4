package report

import (
	"bufio"
	"io"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// flushSize is how much rendered output is gathered before it is written.
const flushSize = 32 << 10

// DecodeSchema names the NDJSON schema of gotrace decode --json.
const DecodeSchema = "gotrace.decode/v1"

// DecodeOptions say what the decode report shows.
type DecodeOptions struct {
	Options
	// Summary shows one line per generation and the totals, nothing else.
	Summary bool
	// Tables and Events choose the parts shown of each generation; when
	// both are false, both are shown.
	Tables, Events bool
	// Types restricts the events shown to these names (format.EventSpec
	// names); empty shows every event.
	Types []string
}

// DecodeInput describes the trace being decoded.
type DecodeInput struct {
	File        string         // as named on the command line ("-" for stdin)
	Version     format.Version // from the header
	Size        int64          // bytes, -1 when unknown
	Generations int            // complete generations, -1 when unknown
}

// DecodeEnd is what is known when decoding stops.
type DecodeEnd struct {
	Generations int   // generations shown
	Batches     int   // their batches
	Events      int64 // their events, -1 when not counted (decode.Frames)
	Bytes       int64 // bytes of the input decoded: header and complete generations
	Size        int64 // bytes in the input
	Err         error // the damage that stopped decoding, nil for a complete trace
}

// Lost is the number of input bytes after the last complete generation.
func (e *DecodeEnd) Lost() int64 { return max(e.Size-e.Bytes, 0) }

// DecodeWriter renders gotrace decode output as it streams: Header, then
// Generation for each generation, then End. Text goes through one buffer
// and is built with strconv.Append*, so rendering keeps up with decoding.
type DecodeWriter struct {
	w    *bufio.Writer
	o    DecodeOptions
	b    []byte
	v    format.Version
	show [256]bool // event types shown
	// specs is the version's event table as an array: looked up for
	// every event, without the version's map.
	specs *[256]format.EventSpec

	// styles: ANSI prefix and suffix pairs, empty unless Styled.
	title, heading, label, dim, value [2]string
	names                             [256]string // styled event names
	namePad                           [256]int    // spaces that align what follows a name
	args                              [256][]argFormat
	nameWidth                         int

	// The generation's tables as slices indexed by ID, when the IDs are
	// dense enough (they are in runtime traces): lookups per event without
	// hashing.
	strs   []string
	hasStr []bool
	stks   []*decode.Stack
	gen    *decode.Generation

	sum []summaryRow // --summary text rows, aligned at End
}

// argFormat is one argument of an event type, its renderings computed
// once: rendering an event only appends bytes.
type argFormat struct {
	text     string // ` label=`, styled
	json     string // `"label":`
	jsonText string // `,"label_text":`
	kind     format.ArgKind
	status   func(uint64) string // names the value of a status argument, nil for others
}

// statusNames names the values of the goroutine and P status arguments.
var statusNames = map[string]func(uint64) string{
	"gstatus": func(v uint64) string { return format.GoStatus(min(v, 255)).String() },
	"pstatus": func(v uint64) string { return format.ProcStatus(min(v, 255)).String() },
}

type summaryRow struct {
	gen                  uint64
	offset, bytes        int64
	batches, events      int
	dur                  time.Duration
	strings, stacks, cpu int
	freq                 uint64
	minNs, maxNs         int64
}

// NewDecodeWriter returns a writer of decode output to w.
func NewDecodeWriter(w io.Writer, o DecodeOptions) *DecodeWriter {
	// N.B. The buffer d.b goes to the bufio.Writer in pieces of its own
	// size or more, which it passes on without copying.
	d := &DecodeWriter{w: bufio.NewWriterSize(w, flushSize), o: o}
	if !o.Tables && !o.Events {
		d.o.Tables, d.o.Events = true, true
	}
	if o.Mode == Styled {
		th := NewTheme(Styled)
		split := func(s interface{ Render(...string) string }) [2]string {
			pre, post, _ := strings.Cut(s.Render("\x00"), "\x00")
			return [2]string{pre, post}
		}
		d.title = split(th.Title)
		d.heading = split(th.Heading)
		d.label = split(th.Label)
		d.dim = split(th.Dim)
		d.value = split(th.Good)
	}
	return d
}

func (d *DecodeWriter) styled(sty [2]string, s string) {
	d.b = append(d.b, sty[0]...)
	d.b = append(d.b, s...)
	d.b = append(d.b, sty[1]...)
}

// flush moves the buffer to the writer once it is large.
func (d *DecodeWriter) flush(force bool) error {
	if len(d.b) < flushSize && !force {
		return nil
	}
	_, err := d.w.Write(d.b)
	d.b = d.b[:0]
	if force && err == nil {
		err = d.w.Flush()
	}
	return err
}

// Header starts the output.
func (d *DecodeWriter) Header(in DecodeInput) error {
	d.v = in.Version
	d.specs = in.Version.Specs()
	typesWanted := map[string]bool{}
	for _, t := range d.o.Types {
		typesWanted[strings.ToLower(t)] = true
	}
	for t := range 256 {
		s := d.v.Spec(format.EventType(t))
		if s == nil {
			continue
		}
		d.show[t] = len(typesWanted) == 0 || typesWanted[strings.ToLower(s.Name)]
		d.nameWidth = max(d.nameWidth, len(s.Name))
	}
	for t := range 256 {
		name := d.v.EventName(format.EventType(t))
		d.names[t] = d.value[0] + name + d.value[1]
		d.namePad[t] = max(d.nameWidth-len(name), 0)
		if s := d.v.Spec(format.EventType(t)); s != nil {
			for _, a := range s.Args {
				l := format.ArgLabel(a)
				d.args[t] = append(d.args[t], argFormat{
					text:     " " + d.label[0] + l + "=" + d.label[1],
					json:     `"` + l + `":`,
					jsonText: `,"` + l + `_text":`,
					kind:     format.ArgKindOf(a),
					status:   statusNames[a],
				})
			}
		}
	}
	if d.o.Mode == JSON {
		d.b = append(d.b, `{"schema":"`+DecodeSchema+`","kind":"header","file":`...)
		d.b = appendJSONString(d.b, in.File)
		d.b = append(d.b, `,"version":"`...)
		d.b = append(d.b, in.Version.String()...)
		d.b = append(d.b, `","size":`...)
		d.b = appendIntOrNull(d.b, in.Size)
		d.b = append(d.b, `,"generations":`...)
		d.b = appendIntOrNull(d.b, int64(in.Generations))
		d.b = append(d.b, "}\n"...)
		return d.flush(false)
	}
	d.styled(d.title, in.File)
	d.b = append(d.b, ": "...)
	d.b = append(d.b, in.Version.String()...)
	d.b = append(d.b, " trace"...)
	if in.Size >= 0 {
		d.b = append(d.b, ", "...)
		d.b = strconv.AppendInt(d.b, in.Size, 10)
		d.b = append(d.b, " bytes"...)
	}
	if in.Generations >= 0 && !d.o.Summary {
		d.b = append(d.b, ", "...)
		d.b = strconv.AppendInt(d.b, int64(in.Generations), 10)
		d.b = append(d.b, plural(in.Generations, " generation", " generations")...)
	}
	d.b = append(d.b, '\n')
	return d.flush(false)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// maxDenseID bounds the ID tables: IDs above it are looked up in the maps.
const maxDenseID = 1 << 20

// index builds the dense ID tables for g.
func (d *DecodeWriter) index(g *decode.Generation) {
	d.gen = g
	clear(d.strs)
	clear(d.hasStr)
	clear(d.stks)
	d.strs, d.hasStr, d.stks = d.strs[:0], d.hasStr[:0], d.stks[:0]
	for id, s := range g.Strings {
		if id < maxDenseID && id < uint64(8*len(g.Strings)+64) {
			for uint64(len(d.strs)) <= id {
				d.strs = append(d.strs, "")
				d.hasStr = append(d.hasStr, false)
			}
			d.strs[id], d.hasStr[id] = s, true
		}
	}
	for id, st := range g.Stacks {
		if id < maxDenseID && id < uint64(8*len(g.Stacks)+64) {
			for uint64(len(d.stks)) <= id {
				d.stks = append(d.stks, nil)
			}
			d.stks[id] = st
		}
	}
}

// str looks up a string of the current generation.
func (d *DecodeWriter) str(id uint64) (string, bool) {
	if id < uint64(len(d.strs)) {
		return d.strs[id], d.hasStr[id]
	}
	s, ok := d.gen.Strings[id]
	return s, ok
}

// stack looks up a stack of the current generation.
func (d *DecodeWriter) stack(id uint64) *decode.Stack {
	if id < uint64(len(d.stks)) {
		return d.stks[id]
	}
	return d.gen.Stacks[id]
}

// EventSource calls fn with each event of batch i of the generation being
// rendered, in order, and stops at fn's first error
// (decode.Reader.EachEvent); nil means Batch.Events. The event is only
// read during the call.
type EventSource func(i int, fn func(*decode.Event) error) error

// eachEvent calls fn with each event of batch i through src.
func eachEvent(g *decode.Generation, src EventSource, i int, fn func(*decode.Event) error) error {
	if src != nil {
		return src(i, fn)
	}
	evs := g.Batches[i].Events
	for k := range evs {
		if err := fn(&evs[k]); err != nil {
			return err
		}
	}
	return nil
}

// Generation renders one generation. A generation decoded with
// decode.Frames has no event count (Events -1), and is shown without one.
func (d *DecodeWriter) Generation(g *decode.Generation, events EventSource) error {
	d.index(g)
	if d.o.Mode == JSON {
		return d.jsonGeneration(g, events)
	}
	if d.o.Summary {
		d.sum = append(d.sum, summaryRow{
			gen: g.Num, offset: g.Offset, bytes: g.End - g.Offset, batches: len(g.Batches), events: g.Events,
			dur: g.Duration(), strings: len(g.Strings), stacks: len(g.Stacks), cpu: len(g.CPUSamples), freq: g.Frequency,
			minNs: g.Nanos(g.MinTime), maxNs: g.Nanos(g.MaxTime),
		})
		return nil
	}
	d.b = append(d.b, '\n')
	d.styled(d.heading, "generation "+strconv.FormatUint(g.Num, 10))
	d.b = append(d.b, "  offset 0x"...)
	d.b = strconv.AppendInt(d.b, g.Offset, 16)
	d.b = append(d.b, "  "...)
	d.b = strconv.AppendInt(d.b, g.End-g.Offset, 10)
	d.b = append(d.b, " bytes  "...)
	d.b = strconv.AppendInt(d.b, int64(len(g.Batches)), 10)
	d.b = append(d.b, plural(len(g.Batches), " batch  ", " batches  ")...)
	d.b = strconv.AppendInt(d.b, int64(g.Events), 10)
	d.b = append(d.b, plural(g.Events, " event  ", " events  ")...)
	d.b = append(d.b, g.Duration().Round(time.Microsecond).String()...)
	d.b = append(d.b, '\n')
	if d.o.Tables {
		d.textTables(g)
	}
	if err := d.flush(false); err != nil {
		return err
	}
	if d.o.Events {
		return d.textEvents(g, events)
	}
	return nil
}

func (d *DecodeWriter) tableHead(name string, n int) {
	d.b = append(d.b, "  "...)
	d.styled(d.label, name)
	d.b = append(d.b, strings.Repeat(" ", max(14-len(name), 1))...)
	d.b = strconv.AppendInt(d.b, int64(n), 10)
	d.b = append(d.b, '\n')
}

// digits is the number of decimal digits of v.
func digits(v uint64) int {
	// bits.Len64 × log10(2), then one comparison to round.
	t := (bits.Len64(v|1) * 1233) >> 12
	if v < pow10[t] {
		return max(t, 1) // 0 has one digit
	}
	return t + 1
}

var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

func (d *DecodeWriter) pad(n int) {
	for ; n > 0; n-- {
		d.b = append(d.b, ' ')
	}
}

func (d *DecodeWriter) uintRight(v uint64, width int) {
	d.pad(width - digits(v))
	d.b = appendUint(d.b, v)
}

// none renders a thread, processor or goroutine ID, "-" for all ones.
func (d *DecodeWriter) none(v uint64) {
	if v == format.NoThread {
		d.b = append(d.b, '-')
		return
	}
	d.b = strconv.AppendUint(d.b, v, 10)
}

// kv appends label, then v in decimal.
func (d *DecodeWriter) kv(label string, v uint64) {
	d.b = append(d.b, label...)
	d.b = appendUint(d.b, v)
}

func (d *DecodeWriter) textTables(g *decode.Generation) {
	d.b = append(d.b, "  "...)
	d.styled(d.label, "frequency")
	d.b = append(d.b, "     "...)
	d.b = strconv.AppendUint(d.b, g.Frequency, 10)
	d.b = append(d.b, " ticks/s\n"...)
	if c := g.Clock; c != nil {
		d.b = append(d.b, "  "...)
		d.styled(d.label, "clock")
		d.kv("         time ", c.Time)
		d.kv("  mono ", c.Mono)
		d.b = append(d.b, "ns  wall "...)
		if c.Sec <= 1<<40 && c.Nsec < 1e9 {
			d.b = time.Unix(int64(c.Sec), int64(c.Nsec)).UTC().AppendFormat(d.b, time.RFC3339Nano)
		} else {
			d.b = strconv.AppendUint(d.b, c.Sec, 10)
			d.b = append(d.b, "s+"...)
			d.b = strconv.AppendUint(d.b, c.Nsec, 10)
			d.b = append(d.b, "ns"...)
		}
		d.b = append(d.b, '\n')
	}

	ids := sortedKeys(g.Strings)
	d.tableHead("strings", len(ids))
	w := idWidth(ids)
	for _, id := range ids {
		d.pad(6)
		d.uintRight(id, w)
		d.b = append(d.b, "  "...)
		d.b = strconv.AppendQuote(d.b, g.Strings[id])
		d.b = append(d.b, '\n')
	}

	sids := sortedKeys(g.Stacks)
	d.tableHead("stacks", len(sids))
	w = idWidth(sids)
	for _, id := range sids {
		st := g.Stacks[id]
		d.pad(6)
		d.uintRight(id, w)
		d.b = append(d.b, "  "...)
		d.b = strconv.AppendInt(d.b, int64(len(st.Frames)), 10)
		d.b = append(d.b, plural(len(st.Frames), " frame\n", " frames\n")...)
		for _, f := range st.Frames {
			d.pad(8 + w)
			d.frame(f)
		}
	}

	if len(g.Types) > 0 {
		d.tableHead("types", len(g.Types))
		w = 0
		for _, t := range g.Types {
			w = max(w, digits(t.ID))
		}
		for _, t := range g.Types {
			d.pad(6)
			d.uintRight(t.ID, w)
			d.kv("  size ", t.Size)
			d.kv("  ptrbytes ", t.PtrBytes)
			d.b = append(d.b, "  addr 0x"...)
			d.b = appendHex(d.b, t.Addr, 0)
			d.b = append(d.b, "  "...)
			d.b = append(d.b, t.Name...)
			d.b = append(d.b, '\n')
		}
	}
	if in := g.AllocFreeInfo; in != nil {
		d.b = append(d.b, "  "...)
		d.styled(d.label, "allocfree")
		d.b = append(d.b, "     min heap addr 0x"...)
		d.b = appendHex(d.b, in.MinHeapAddr, 0)
		d.kv("  page size ", in.PageSize)
		d.kv("  min heap align ", in.MinHeapAlign)
		d.kv("  min stack align ", in.MinStackAlign)
		d.b = append(d.b, '\n')
	}

	d.tableHead("cpu samples", len(g.CPUSamples))
	if len(g.CPUSamples) > 0 {
		w = digits(g.MaxTime)
		for _, s := range g.CPUSamples {
			w = max(w, digits(s.Time))
		}
		d.pad(6 + w - 4)
		d.styled(d.dim, "time  m  p  g  stack")
		d.b = append(d.b, '\n')
		for _, s := range g.CPUSamples {
			d.pad(6)
			d.uintRight(s.Time, w)
			d.b = append(d.b, "  "...)
			d.none(s.M)
			d.b = append(d.b, "  "...)
			d.none(s.P)
			d.b = append(d.b, "  "...)
			d.none(s.G)
			d.b = append(d.b, "  "...)
			d.b = strconv.AppendUint(d.b, s.Stack, 10)
			if st := g.Stacks[s.Stack]; st != nil && len(st.Frames) > 0 {
				d.b = append(d.b, " ["...)
				d.b = append(d.b, st.Summary()...)
				d.b = append(d.b, ']')
			}
			d.b = append(d.b, '\n')
		}
	}
}

func (d *DecodeWriter) frame(f decode.Frame) {
	d.b = append(d.b, "0x"...)
	d.b = appendHex(d.b, f.PC, 0)
	d.b = append(d.b, "  "...)
	d.b = append(d.b, f.Func...)
	d.b = append(d.b, "  "...)
	d.b = append(d.b, f.File...)
	d.b = append(d.b, ':')
	d.b = appendUint(d.b, f.Line)
	d.b = append(d.b, '\n')
}

// textEvents renders the batches of g and their events as aligned columns:
// offset, time, name, arguments.
func (d *DecodeWriter) textEvents(g *decode.Generation, src EventSource) error {
	offW := len(strconv.FormatInt(g.End, 16))
	timeW := digits(g.MaxTime)
	filtered := len(d.o.Types) > 0
	for bi := range g.Batches {
		bt := &g.Batches[bi]
		// Under --type a batch shows only when one of its events does:
		// its header waits for the first.
		headed, body := false, true
		if !filtered {
			headed, body = true, d.batchHead(bi, bt)
		}
		err := eachEvent(g, src, bi, func(ev *decode.Event) error {
			if !d.show[ev.Type] {
				return nil
			}
			if !headed {
				headed, body = true, d.batchHead(bi, bt)
			}
			if !body {
				return nil
			}
			d.event(g, ev, offW, timeW)
			return d.flush(false)
		})
		if err != nil {
			return err
		}
	}
	return d.flush(false)
}

// batchHead renders a batch's header line (and an experimental batch's
// data size). It reports whether the batch's events follow: the in-band
// EndOfGeneration is its header alone.
func (d *DecodeWriter) batchHead(bi int, bt *decode.Batch) bool {
	d.b = append(d.b, "\n  "...)
	switch bt.Header {
	case format.EvEndOfGeneration:
		d.styled(d.heading, "EndOfGeneration")
		d.b = append(d.b, "  offset 0x"...)
		d.b = strconv.AppendInt(d.b, bt.Offset, 16)
		d.b = append(d.b, '\n')
		return false
	case format.EvExperimentalBatch:
		d.styled(d.heading, "batch "+strconv.Itoa(bi))
		d.b = append(d.b, "  ExperimentalBatch "...)
		d.b = append(d.b, bt.Exp.String()...)
	default:
		d.styled(d.heading, "batch "+strconv.Itoa(bi))
		d.b = append(d.b, "  EventBatch"...)
	}
	d.b = append(d.b, "  offset 0x"...)
	d.b = strconv.AppendInt(d.b, bt.Offset, 16)
	d.b = append(d.b, "  m "...)
	d.none(bt.M)
	d.b = append(d.b, "  time "...)
	d.b = strconv.AppendUint(d.b, bt.Time, 10)
	d.b = append(d.b, "  "...)
	d.b = strconv.AppendInt(d.b, int64(bt.Size), 10)
	d.b = append(d.b, " bytes\n"...)
	if bt.Header == format.EvExperimentalBatch {
		d.b = append(d.b, "    data: "...)
		d.b = strconv.AppendInt(d.b, int64(len(bt.Data)), 10)
		d.b = append(d.b, " bytes"...)
		if len(bt.Data) > 0 && bt.Exp == format.AllocFree {
			switch bt.Data[0] {
			case format.AllocFreeTypesBatch:
				d.b = append(d.b, " of AllocFree types"...)
			case format.AllocFreeInfoBatch:
				d.b = append(d.b, " of AllocFree heap parameters"...)
			}
		}
		d.b = append(d.b, '\n')
	}
	return true
}

func (d *DecodeWriter) event(g *decode.Generation, ev *decode.Event, offW, timeW int) {
	s := &d.specs[ev.Type]
	d.b = append(d.b, "    "...)
	d.b = append(d.b, d.dim[0]...)
	d.b = append(d.b, "0x"...)
	d.b = appendHex(d.b, uint64(ev.Offset), offW)
	d.b = append(d.b, d.dim[1]...)
	d.b = append(d.b, "  "...)
	if s.IsTimed {
		d.uintRight(ev.Time, timeW)
	} else {
		d.pad(timeW)
	}
	d.b = append(d.b, "  "...)
	d.b = append(d.b, d.names[ev.Type]...)
	first := 0
	if s.IsTimed {
		first = 1 // the time column shows dt applied
	}
	if first < len(s.Args) || s.HasData {
		d.pad(d.namePad[ev.Type])
	}
	af := d.args[ev.Type]
	for i := first; i < len(af) && i < len(ev.Args); i++ {
		d.b = append(d.b, af[i].text...)
		d.b = appendUint(d.b, ev.Args[i])
		switch af[i].kind {
		case format.ArgString:
			if str, ok := d.str(ev.Args[i]); ok {
				d.b = append(d.b, ' ')
				d.b = strconv.AppendQuote(d.b, str)
			}
		case format.ArgStack:
			if ev.Args[i] != 0 {
				if st := d.stack(ev.Args[i]); st != nil && len(st.Frames) > 0 {
					d.b = append(d.b, " ["...)
					d.b = append(d.b, st.Summary()...)
					d.b = append(d.b, ']')
				}
			}
		}
		if af[i].status != nil {
			d.b = append(d.b, " ("...)
			d.b = append(d.b, af[i].status(ev.Args[i])...)
			d.b = append(d.b, ')')
		}
	}
	if s.HasData {
		d.b = append(d.b, ' ')
		d.b = strconv.AppendQuote(d.b, unsafe.String(unsafe.SliceData(ev.Data), len(ev.Data))) // N.B. read only, not kept
	}
	d.b = append(d.b, '\n')
	if s.IsStack {
		fr := ev.Args[len(s.Args):]
		for f := 0; f+3 < len(fr); f += 4 {
			d.pad(4 + 2 + offW + 2 + timeW + 2 + 2)
			fn, _ := d.str(fr[f+1])
			file, _ := d.str(fr[f+2])
			d.frame(decode.Frame{PC: fr[f], Func: fn, File: file, Line: fr[f+3]})
		}
	}
}

// appendUint appends v in decimal, like strconv.AppendUint but writing
// the digits in place, two at a time: it is called for every number of
// every event.
func appendUint(b []byte, v uint64) []byte {
	if v < 10 {
		return append(b, byte('0'+v))
	}
	n := digits(v)
	l := len(b)
	if cap(b)-l < n {
		b = append(b, make([]byte, n)...)[:l]
	}
	b = b[:l+n]
	i := l + n
	for v >= 100 {
		q := v / 100
		r := v - q*100
		i -= 2
		b[i], b[i+1] = pairs[2*r], pairs[2*r+1]
		v = q
	}
	if v >= 10 {
		i -= 2
		b[i], b[i+1] = pairs[2*v], pairs[2*v+1]
	} else {
		i--
		b[i] = byte('0' + v)
	}
	return b
}

const pairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// appendHex appends v in lower-case hex, zero-padded to width digits.
func appendHex(b []byte, v uint64, width int) []byte {
	const digits = "0123456789abcdef"
	var buf [16]byte
	i := len(buf)
	for v != 0 || i == len(buf) {
		i--
		buf[i] = digits[v&0xf]
		v >>= 4
	}
	for n := len(buf) - i; n < width; n++ {
		b = append(b, '0')
	}
	return append(b, buf[i:]...)
}

// End finishes the output: the totals for --summary, and the end object in
// JSON. It flushes everything written.
func (d *DecodeWriter) End(e DecodeEnd) error {
	if d.o.Mode == JSON {
		d.b = append(d.b, `{"kind":"end","generations":`...)
		d.b = strconv.AppendInt(d.b, int64(e.Generations), 10)
		d.b = append(d.b, `,"batches":`...)
		d.b = strconv.AppendInt(d.b, int64(e.Batches), 10)
		d.b = append(d.b, `,"events":`...)
		d.b = appendIntOrNull(d.b, e.Events)
		d.b = append(d.b, `,"bytes":`...)
		d.b = strconv.AppendInt(d.b, e.Bytes, 10)
		d.b = append(d.b, `,"size":`...)
		d.b = strconv.AppendInt(d.b, e.Size, 10)
		d.b = append(d.b, `,"complete":`...)
		d.b = strconv.AppendBool(d.b, e.Err == nil)
		d.b = append(d.b, `,"lost_bytes":`...)
		d.b = strconv.AppendInt(d.b, e.Lost(), 10)
		d.b = append(d.b, `,"error":`...)
		if e.Err != nil {
			d.b = appendJSONString(d.b, e.Err.Error())
		} else {
			d.b = append(d.b, "null"...)
		}
		d.b = append(d.b, "}\n"...)
		return d.flush(true)
	}
	if d.o.Summary {
		d.summaryTable(e)
	}
	return d.flush(true)
}

func (d *DecodeWriter) summaryTable(e DecodeEnd) {
	counted := e.Events >= 0 // generations read with decode.Frames have no event count
	type column struct {
		head string
		left bool
		cell func(r *summaryRow) string
	}
	cols := []column{
		{"gen", false, func(r *summaryRow) string { return strconv.FormatUint(r.gen, 10) }},
		{"offset", true, func(r *summaryRow) string { return "0x" + strconv.FormatInt(r.offset, 16) }},
		{"bytes", false, func(r *summaryRow) string { return strconv.FormatInt(r.bytes, 10) }},
		{"batches", false, func(r *summaryRow) string { return strconv.Itoa(r.batches) }},
	}
	if counted {
		cols = append(cols, column{"events", false, func(r *summaryRow) string { return strconv.Itoa(r.events) }})
	}
	cols = append(cols,
		column{"duration", true, func(r *summaryRow) string { return r.dur.Round(time.Microsecond).String() }},
		column{"frequency", false, func(r *summaryRow) string { return strconv.FormatUint(r.freq, 10) }},
		column{"strings", false, func(r *summaryRow) string { return strconv.Itoa(r.strings) }},
		column{"stacks", false, func(r *summaryRow) string { return strconv.Itoa(r.stacks) }},
		column{"cpu samples", false, func(r *summaryRow) string { return strconv.Itoa(r.cpu) }},
	)
	var dur time.Duration
	if n := len(d.sum); n > 0 && d.sum[n-1].maxNs > d.sum[0].minNs {
		dur = time.Duration(d.sum[n-1].maxNs - d.sum[0].minNs)
	}
	head := make([]string, len(cols))
	widths := make([]int, len(cols))
	for i, c := range cols {
		head[i], widths[i] = c.head, len(c.head)
	}
	rows := make([][]string, len(d.sum))
	for k := range d.sum {
		for i, c := range cols {
			cell := c.cell(&d.sum[k])
			rows[k] = append(rows[k], cell)
			widths[i] = max(widths[i], len(cell))
		}
	}
	line := func(cells []string, sty [2]string) {
		for i, c := range cells {
			if i > 0 {
				d.b = append(d.b, "  "...)
			}
			d.b = append(d.b, sty[0]...)
			if !cols[i].left {
				d.pad(widths[i] - len(c))
			}
			d.b = append(d.b, c...)
			if cols[i].left && i < len(cells)-1 {
				d.pad(widths[i] - len(c))
			}
			d.b = append(d.b, sty[1]...)
		}
		d.b = append(d.b, '\n')
	}
	line(head, d.label)
	for _, r := range rows {
		line(r, [2]string{})
	}
	d.styled(d.heading, "total")
	d.b = append(d.b, ": "...)
	d.b = strconv.AppendInt(d.b, int64(e.Generations), 10)
	d.b = append(d.b, plural(e.Generations, " generation, ", " generations, ")...)
	d.b = strconv.AppendInt(d.b, int64(e.Batches), 10)
	d.b = append(d.b, plural(e.Batches, " batch, ", " batches, ")...)
	if counted {
		d.b = strconv.AppendInt(d.b, e.Events, 10)
		d.b = append(d.b, plural(int(e.Events), " event, ", " events, ")...)
	}
	d.b = strconv.AppendInt(d.b, e.Bytes, 10)
	d.b = append(d.b, " bytes decoded, "...)
	d.b = append(d.b, dur.Round(time.Microsecond).String()...)
	d.b = append(d.b, '\n')
}

// idWidth is the width of the largest of the sorted IDs.
func idWidth(sorted []uint64) int {
	if len(sorted) == 0 {
		return 0
	}
	return digits(sorted[len(sorted)-1])
}

func sortedKeys[V any](m map[uint64]V) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
