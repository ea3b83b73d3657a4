package export

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/klauspost/compress/zlib"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of Perfetto's trace format, from its published schema
// (protos/perfetto/trace/trace.proto, trace_packet.proto,
// track_event/track_event.proto, track_descriptor.proto,
// counter_descriptor.proto, process_descriptor.proto, debug_annotation.proto,
// interned_data/interned_data.proto). Only the fields written here.
//
//	message                  field                          number  wire
//	Trace                    packet (TracePacket)            1      bytes
//	TracePacket              clock_snapshot (ClockSnapshot)  6      bytes
//	                         timestamp                       8      varint
//	                         trusted_packet_sequence_id     10      varint
//	                         track_event (TrackEvent)       11      bytes
//	                         interned_data (InternedData)   12      bytes
//	                         sequence_flags                 13      varint
//	                         compressed_packets             50      bytes (zlib)
//	                         timestamp_clock_id             58      varint
//	                         trace_packet_defaults          59      bytes
//	                         track_descriptor               60      bytes
//	TracePacketDefaults      timestamp_clock_id             58      varint
//	ClockSnapshot            clocks (Clock)                  1      bytes
//	ClockSnapshot.Clock      clock_id                        1      varint
//	                         timestamp                       2      varint
//	                         is_incremental                  3      varint (bool)
//	TrackDescriptor          uuid                            1      varint
//	                         name                            2      bytes
//	                         process (ProcessDescriptor)     3      bytes
//	                         parent_uuid                     5      varint
//	                         counter (CounterDescriptor)     8      bytes
//	                         child_ordering (EXPLICIT = 3)  11      varint
//	                         sibling_order_rank             12      varint (int32)
//	                         sibling_merge_behavior         15      varint
//	                           (SIBLING_MERGE_BEHAVIOR_NONE = 2)
//	ProcessDescriptor        pid                             1      varint
//	                         process_name                    6      bytes
//	CounterDescriptor        unit (UNIT_SIZE_BYTES = 3)      3      varint
//	TrackEvent               category_iids                   3      varint
//	                         debug_annotations               4      bytes
//	                         type                            9      varint
//	                         name_iid                       10      varint
//	                         track_uuid                     11      varint
//	                         counter_value                  30      varint
//	                         flow_ids                       47      fixed64
//	                         terminating_flow_ids           48      fixed64
//	                         callstack_iid                  56      varint
//	DebugAnnotation          name_iid                        1      varint
//	                         int_value                       4      varint
//	                         string_value                    6      bytes
//	InternedData             event_categories                1      bytes
//	                         event_names                     2      bytes
//	                         debug_annotation_names          3      bytes
//	                         function_names (InternedString) 5      bytes
//	                         frames (Frame)                  6      bytes
//	                         callstacks (Callstack)          7      bytes
//	                         source_paths (InternedString)  18      bytes
//	EventCategory, EventName, DebugAnnotationName, InternedString:
//	                         iid                             1      varint
//	                         name (str: bytes)               2      bytes
//	Frame (profile_common)   iid                             1      varint
//	                         function_name_id                2      varint
//	                         source_path_iid                 5      varint
//	                         line_number                     6      varint
//	Callstack (profile_common) iid                           1      varint
//	                         frame_ids (outermost first)     2      varint, repeated
const (
	fTracePacket = 1

	fPacketClockSnapshot   = 6
	fPacketTimestamp       = 8
	fPacketSequenceID      = 10
	fPacketTrackEvent      = 11
	fPacketInternedData    = 12
	fPacketSequenceFlags   = 13
	fPacketCompressed      = 50
	fPacketClockID         = 58
	fPacketDefaults        = 59
	fPacketTrackDescriptor = 60

	fDefaultsClockID  = 58
	fSnapshotClock    = 1
	fClockID          = 1
	fClockTimestamp   = 2
	fClockIncremental = 3

	// Timestamps are deltas on clockDelta, a sequence-scoped incremental
	// clock that each clock snapshot pins to BOOTTIME, the trace's clock.
	// The rare event earlier than the one before it is written on
	// BOOTTIME itself.
	clockBoottime = 6
	clockDelta    = 64

	fTrackUUID    = 1
	fTrackName    = 2
	fTrackProcess = 3
	fTrackParent  = 5
	fTrackCounter = 8
	fTrackOrder   = 11
	fTrackRank    = 12
	fTrackMerge   = 15
	orderExplicit = 3
	mergeNone     = 2

	fProcessPID  = 1
	fProcessName = 6

	fCounterUnit   = 3
	unitSizeBytes  = 3
	fEventCategory = 3
	fEventDebug    = 4
	fEventType     = 9
	fEventNameIID  = 10
	fEventTrack    = 11
	fEventCounter  = 30
	fEventFlow     = 47
	fEventFlowEnd  = 48
	fEventStackIID = 56

	fDebugNameIID     = 1
	fDebugInt         = 4
	fDebugString      = 6
	fInternCategory   = 1
	fInternName       = 2
	fInternDebug      = 3
	fInternFunction   = 5
	fInternFrame      = 6
	fInternCallstack  = 7
	fInternSourcePath = 18
	fInternIID        = 1
	fInternString     = 2
	fFrameIID         = 1
	fFrameFunction    = 2
	fFrameSourcePath  = 5
	fFrameLine        = 6
	fCallstackIID     = 1
	fCallstackFrame   = 2

	typeSliceBegin = 1
	typeSliceEnd   = 2
	typeInstant    = 3
	typeCounter    = 4

	// Sequence flags: the first packet clears the interning state, every
	// packet that uses interned names needs it.
	seqIncrementalStateCleared = 1
	seqNeedsIncrementalState   = 2

	sequenceID = 1 // every packet is on one sequence
	pid        = 1 // the one process, in the viewer
)

// perfettoWriter writes Perfetto's protobuf format: a Trace is a stream of
// length-delimited TracePacket fields, so each packet goes out as it is made.
// Event names, categories, argument names and CPU sample stacks (function
// names, files, frames, callstacks) are interned: each is written once, with
// the first packet that uses it, and referred to by number after.
// Timestamps are deltas from the packet before, on an incremental clock.
// At each generation the sequence's incremental state is cleared, so the
// tables hold what one generation uses, not the whole trace, and the
// defaults and the clock are stated again.
//
// Packets are gathered in bundles of about bundleSize bytes, each written
// zlib-compressed as one packet's compressed_packets, which Perfetto
// expands in place; a second goroutine compresses one bundle while the next
// is filled.
type perfettoWriter struct {
	err error

	cleared bool  // the next packet clears the incremental state
	lastTS  int64 // the incremental clock's value: the last delta's end
	tables  [fInternSourcePath + 1]internTable
	recent  [fInternDebug + 1]recentIDs // names, categories, argument names

	pkt, msg, sub, intern, state []byte // scratch buffers, reused
	entry, key                   []byte
	frameIDs                     []uint64

	bundle []byte // packets not yet compressed
	z      *compressor
}

// bundleSize is about how many bytes of packets are compressed together.
const bundleSize = 256 << 10

// internTable is one interning index. IDs keep growing across clears: an ID
// may not name two values in one trace, even after a clear.
type internTable struct {
	ids  map[string]uint64
	next uint64
}

func newPerfettoWriter(w io.Writer) *perfettoWriter {
	p := &perfettoWriter{cleared: true, z: newCompressor(w), bundle: make([]byte, 0, bundleSize+64<<10)}
	for i := range p.tables {
		p.tables[i].ids = make(map[string]uint64)
	}
	return p
}

// reset clears the interning state: the next packet says so, and every
// value is interned again when next used.
func (p *perfettoWriter) reset() {
	for i := range p.tables {
		clear(p.tables[i].ids)
	}
	clear(p.recent[:])
	p.cleared = true
}

// clearState writes the packet that clears the sequence's incremental
// state and sets it up again: timestamps default to the incremental clock,
// which a clock snapshot starts at the last time written, on BOOTTIME.
// N.B. it comes before the timestamp of the packet that follows is taken,
// and uses buffers of its own.
func (p *perfettoWriter) clearState() {
	p.cleared = false
	var defaults, snap, clk [32]byte
	b := appendVarint(p.state[:0], fPacketSequenceID, sequenceID)
	b = appendVarint(b, fPacketSequenceFlags, seqIncrementalStateCleared)
	b = appendBytes(b, fPacketDefaults, appendVarint(defaults[:0], fDefaultsClockID, clockDelta))
	s := snap[:0]
	c := appendVarint(clk[:0], fClockID, clockDelta)
	c = appendVarint(c, fClockTimestamp, uint64(p.lastTS))
	c = appendVarint(c, fClockIncremental, 1)
	s = appendBytes(s, fSnapshotClock, c)
	c = appendVarint(clk[:0], fClockID, clockBoottime)
	c = appendVarint(c, fClockTimestamp, uint64(p.lastTS))
	s = appendBytes(s, fSnapshotClock, c)
	p.state = appendBytes(b, fPacketClockSnapshot, s)
	p.add(p.state)
}

// packet writes one TracePacket whose body is in p.pkt. needs says whether
// the packet uses the sequence's incremental state: interned data or a
// timestamp on the incremental clock.
func (p *perfettoWriter) packet(needs bool) {
	if p.err != nil {
		return
	}
	if p.cleared {
		p.clearState() // N.B. descriptors: events clear it before their timestamp
	}
	p.pkt = appendVarint(p.pkt, fPacketSequenceID, sequenceID)
	if needs {
		p.pkt = appendVarint(p.pkt, fPacketSequenceFlags, seqNeedsIncrementalState)
	}
	p.add(p.pkt)
}

// add appends a packet to the bundle, handing the bundle to the compressor
// when it is full.
func (p *perfettoWriter) add(pkt []byte) {
	p.bundle = appendBytes(p.bundle, fTracePacket, pkt)
	if len(p.bundle) >= bundleSize {
		p.flush()
	}
}

func (p *perfettoWriter) flush() {
	if len(p.bundle) == 0 {
		return
	}
	var err error
	p.bundle, err = p.z.compress(p.bundle)
	if err != nil {
		p.err = err
	}
}

// timestamp appends the packet's timestamp for ts: the delta from the last
// one on the incremental clock, or, for an event earlier than that, ts on
// BOOTTIME, leaving the incremental clock where it was.
func (p *perfettoWriter) timestamp(b []byte, ts int64) []byte {
	if p.cleared {
		p.clearState()
	}
	if ts < p.lastTS {
		b = appendVarint(b, fPacketTimestamp, uint64(ts))
		return appendVarint(b, fPacketClockID, clockBoottime)
	}
	b = appendVarint(b, fPacketTimestamp, uint64(ts-p.lastTS))
	p.lastTS = ts
	return b
}

// compressor zlib-compresses bundles of packets and writes each as a
// packet of its own, in a goroutine started with the first bundle. Three
// buffers go round: one filled, one waiting, one compressed.
type compressor struct {
	w      io.Writer
	work   chan []byte
	free   chan []byte
	done   chan struct{}
	failed atomic.Bool
	err    error // set before done is closed
}

func newCompressor(w io.Writer) *compressor {
	return &compressor{w: w}
}

// compress hands a full bundle over and returns an empty one to fill.
func (c *compressor) compress(b []byte) ([]byte, error) {
	if c.work == nil {
		c.work = make(chan []byte, 1)
		c.free = make(chan []byte, 2)
		c.done = make(chan struct{})
		c.free <- make([]byte, 0, cap(b))
		go c.run()
	}
	if c.failed.Load() {
		return b[:0], errBundleWrite
	}
	c.work <- b
	return <-c.free, nil
}

// errBundleWrite stops the writer once a bundle could not be written; close
// then returns the error the write gave.
var errBundleWrite = errors.New("writing a compressed bundle failed")

func (c *compressor) run() {
	defer close(c.done)
	var out bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&out, zlib.BestSpeed)
	var hdr []byte
	for b := range c.work {
		if c.err == nil {
			out.Reset()
			zw.Reset(&out)
			zw.Write(b) // N.B. writes to a bytes.Buffer do not fail
			zw.Close()
			n := out.Len()
			hdr = protowire.AppendTag(hdr[:0], fTracePacket, protowire.BytesType)
			hdr = protowire.AppendVarint(hdr, uint64(protowire.SizeTag(fPacketCompressed)+protowire.SizeBytes(n)))
			hdr = protowire.AppendTag(hdr, fPacketCompressed, protowire.BytesType)
			hdr = protowire.AppendVarint(hdr, uint64(n))
			if _, err := c.w.Write(hdr); err != nil {
				c.err = err
			} else if _, err := c.w.Write(out.Bytes()); err != nil {
				c.err = err
			}
			if c.err != nil {
				c.failed.Store(true)
			}
		}
		c.free <- b[:0]
	}
}

// close waits for the bundles handed over to be written.
func (c *compressor) close() error {
	if c.work == nil {
		return nil
	}
	close(c.work)
	<-c.done
	return c.err
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// N.B. Most fields written have a number below 16 and a value or a length
// below 128: a byte each, appended without a call.

func appendVarint(b []byte, field protowire.Number, v uint64) []byte {
	if field < 16 && v < 0x80 {
		return append(b, byte(field)<<3|byte(protowire.VarintType), byte(v))
	}
	b = protowire.AppendTag(b, field, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendBytes(b []byte, field protowire.Number, v []byte) []byte {
	if field < 16 && len(v) < 0x80 {
		return append(append(b, byte(field)<<3|byte(protowire.BytesType), byte(len(v))), v...)
	}
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func (p *perfettoWriter) process(name string) {
	p.sub = appendVarint(p.sub[:0], fProcessPID, pid)
	p.sub = appendString(p.sub, fProcessName, name)
	p.msg = appendVarint(p.msg[:0], fTrackUUID, uuidProcess)
	p.msg = appendBytes(p.msg, fTrackProcess, p.sub)
	p.pkt = appendBytes(p.pkt[:0], fPacketTrackDescriptor, p.msg)
	p.packet(false)
}

// uuidProcess is the process track's uuid.
var uuidProcess = uuid(kindProcess, 0)

func (p *perfettoWriter) track(t *trackInfo) {
	p.msg = appendVarint(p.msg[:0], fTrackUUID, t.uuid)
	parent := t.parent
	if parent == processTrack {
		parent = uuidProcess
	}
	p.msg = appendVarint(p.msg, fTrackParent, parent)
	p.msg = appendString(p.msg, fTrackName, t.name)
	// Children in the order of their rank (P and goroutine numbers), and
	// never merged with a sibling of the same name.
	p.msg = appendVarint(p.msg, fTrackOrder, orderExplicit)
	if t.sort > 0 && t.sort <= math.MaxInt32 {
		p.msg = appendVarint(p.msg, fTrackRank, uint64(t.sort))
	}
	p.msg = appendVarint(p.msg, fTrackMerge, mergeNone)
	if t.counter {
		p.sub = appendVarint(p.sub[:0], fCounterUnit, unitSizeBytes)
		p.msg = appendBytes(p.msg, fTrackCounter, p.sub)
	}
	p.pkt = appendBytes(p.pkt[:0], fPacketTrackDescriptor, p.msg)
	p.packet(false)
}

// lookup returns the interning ID of key in the table of field, and whether
// it is new: then the caller adds its entry to the packet's interned data.
func (p *perfettoWriter) lookup(field protowire.Number, key string) (uint64, bool) {
	t := &p.tables[field]
	if id, ok := t.ids[key]; ok {
		return id, false
	}
	t.next++
	t.ids[key] = t.next
	return t.next, true
}

// recentIDs remembers the interning IDs of strings looked up lately, by
// where their bytes lie and their length: most events name one of a few
// strings, each held once (a constant, or an entry of a string table), which
// this finds without reading them. A string held twice is only looked up
// again.
type recentIDs [1024]struct {
	s  string
	id uint64
}

// iid returns the interning ID of the string s in the table of field, adding
// an entry {iid, name or str} the first time.
func (p *perfettoWriter) iid(field protowire.Number, s string) uint64 {
	var e *struct {
		s  string
		id uint64
	}
	if int(field) < len(p.recent) && s != "" {
		at := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		e = &p.recent[field][(at>>3^at>>13^uintptr(len(s)))&1023]
		if e.id != 0 && e.s == s {
			return e.id
		}
	}
	id, isNew := p.lookup(field, s)
	if e != nil {
		e.s, e.id = s, id
	}
	if isNew {
		p.entry = appendVarint(p.entry[:0], fInternIID, id)
		p.entry = appendString(p.entry, fInternString, s)
		p.intern = appendBytes(p.intern, field, p.entry)
	}
	return id
}

// callstack returns the interning ID of a stack, outermost frame first,
// interning its frames, function names and files on the way.
func (p *perfettoWriter) callstack(stack []frame) uint64 {
	p.frameIDs = p.frameIDs[:0]
	for _, f := range stack {
		fn := p.iid(fInternFunction, f.fn)
		file := p.iid(fInternSourcePath, f.file)
		p.key = binary.AppendUvarint(p.key[:0], fn)
		p.key = binary.AppendUvarint(p.key, file)
		p.key = binary.AppendUvarint(p.key, f.line)
		id, isNew := p.lookup(fInternFrame, string(p.key))
		if isNew {
			p.entry = appendVarint(p.entry[:0], fFrameIID, id)
			p.entry = appendVarint(p.entry, fFrameFunction, fn)
			p.entry = appendVarint(p.entry, fFrameSourcePath, file)
			p.entry = appendVarint(p.entry, fFrameLine, f.line)
			p.intern = appendBytes(p.intern, fInternFrame, p.entry)
		}
		p.frameIDs = append(p.frameIDs, id)
	}
	p.key = p.key[:0]
	for _, id := range p.frameIDs {
		p.key = binary.AppendUvarint(p.key, id)
	}
	id, isNew := p.lookup(fInternCallstack, string(p.key))
	if isNew {
		p.entry = appendVarint(p.entry[:0], fCallstackIID, id)
		for _, f := range p.frameIDs {
			p.entry = appendVarint(p.entry, fCallstackFrame, f)
		}
		p.intern = appendBytes(p.intern, fInternCallstack, p.entry)
	}
	return id
}

// trackEvent writes e as a TrackEvent of type typ, with the interned data
// it introduces.
func (p *perfettoWriter) trackEvent(e *event, typ uint64) {
	p.intern = p.intern[:0]
	var name, cat uint64
	if e.name != "" {
		name = p.iid(fInternName, e.name)
	}
	if e.cat != "" {
		cat = p.iid(fInternCategory, e.cat)
	}
	// N.B. A number argument's name interned here, before the choice:
	// interning adds to p.intern.
	var argName uint64
	plainArgs := len(e.args) == 0
	if len(e.args) == 1 && e.args[0].isNum {
		argName, plainArgs = p.iid(fInternDebug, e.args[0].name), true
	}
	if plainArgs && len(e.flowsOut) == 0 && len(e.flowsIn) <= 1 && len(e.stack) == 0 &&
		len(p.intern) == 0 && typ != typeCounter && !p.cleared && e.ts >= p.lastTS && p.err == nil {
		p.plainEvent(e, typ, name, cat, argName)
		return
	}
	m := appendVarint(p.msg[:0], fEventType, typ)
	m = appendVarint(m, fEventTrack, e.track)
	if name != 0 {
		m = appendVarint(m, fEventNameIID, name)
	}
	if cat != 0 {
		m = appendVarint(m, fEventCategory, cat)
	}
	if typ == typeCounter {
		m = appendVarint(m, fEventCounter, uint64(e.value))
	}
	for i, a := range e.args {
		id := argName
		if i > 0 || id == 0 {
			id = p.iid(fInternDebug, a.name)
		}
		d := appendVarint(p.sub[:0], fDebugNameIID, id)
		if a.isNum {
			d = appendVarint(d, fDebugInt, uint64(a.num))
		} else {
			d = appendString(d, fDebugString, a.str)
		}
		p.sub = d
		m = appendBytes(m, fEventDebug, d)
	}
	for _, id := range e.flowsOut {
		m = protowire.AppendTag(m, fEventFlow, protowire.Fixed64Type)
		m = protowire.AppendFixed64(m, id)
	}
	for _, id := range e.flowsIn {
		m = protowire.AppendTag(m, fEventFlowEnd, protowire.Fixed64Type)
		m = protowire.AppendFixed64(m, id)
	}
	if len(e.stack) > 0 {
		m = appendVarint(m, fEventStackIID, p.callstack(e.stack))
	}
	p.msg = m
	if p.err != nil {
		return
	}
	// N.B. Written straight into the bundle, the fields in the order
	// packet writes them: its length first.
	var tsBuf [24]byte
	ts := p.timestamp(tsBuf[:0], e.ts)
	n := len(ts) + protowire.SizeTag(fPacketTrackEvent) + protowire.SizeBytes(len(m)) + seqFieldsSize
	if len(p.intern) > 0 {
		n += protowire.SizeTag(fPacketInternedData) + protowire.SizeBytes(len(p.intern))
	}
	b := protowire.AppendTag(p.bundle, fTracePacket, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	b = append(b, ts...)
	if len(p.intern) > 0 {
		b = appendBytes(b, fPacketInternedData, p.intern)
	}
	b = appendBytes(b, fPacketTrackEvent, m)
	b = appendVarint(b, fPacketSequenceID, sequenceID)
	p.bundle = appendVarint(b, fPacketSequenceFlags, seqNeedsIncrementalState)
	if len(p.bundle) >= bundleSize {
		p.flush()
	}
}

// plainEvent writes the packet of e, an event of type typ with at most a
// name and a category (interned before, as name and cat), one number
// argument (its name interned before, as argName), one ending flow and a
// timestamp on the incremental clock: most events. It writes what
// trackEvent would, byte for byte, assembled in place in one step.
func (p *perfettoWriter) plainEvent(e *event, typ, name, cat, argName uint64) {
	// N.B. Every length here is below 128, so each is one byte, set
	// once what it measures is written: the packet's at 1, the
	// TrackEvent's at body-1. Written in place, past the bundle's end:
	// flushed at bundleSize, it has room to spare.
	n := len(p.bundle)
	if cap(p.bundle)-n < plainMax {
		p.bundle = slices.Grow(p.bundle, plainMax)
	}
	b := (*[plainMax]byte)(p.bundle[n : n+plainMax])
	b[0] = fTracePacket<<3 | 2
	i := 2
	b[i] = fPacketTimestamp << 3
	i = putUvarint(b, i+1, uint64(e.ts-p.lastTS))
	p.lastTS = e.ts
	b[i] = fPacketTrackEvent<<3 | 2
	i += 2
	body := i
	b[i], b[i+1] = fEventType<<3, byte(typ)
	b[i+2] = fEventTrack << 3
	i = putUvarint(b, i+3, e.track)
	if name != 0 {
		b[i] = fEventNameIID << 3
		i = putUvarint(b, i+1, name)
	}
	if cat != 0 {
		b[i] = fEventCategory << 3
		i = putUvarint(b, i+1, cat)
	}
	if len(e.args) == 1 {
		b[i] = fEventDebug<<3 | 2
		at := i + 1
		b[i+2] = fDebugNameIID << 3
		i = putUvarint(b, i+3, argName)
		b[i] = fDebugInt << 3
		i = putUvarint(b, i+1, uint64(e.args[0].num))
		b[at] = byte(i - at - 1)
	}
	if len(e.flowsIn) == 1 {
		const tag = fEventFlowEnd<<3 | 1 // N.B. fixed64: wire type 1; two bytes
		b[i], b[i+1] = byte(tag&0x7f|0x80), byte(tag>>7)
		binary.LittleEndian.PutUint64(b[i+2:], e.flowsIn[0])
		i += 10
	}
	b[body-1] = byte(i - body)
	b[i], b[i+1] = fPacketSequenceID<<3, sequenceID
	b[i+2], b[i+3] = fPacketSequenceFlags<<3, seqNeedsIncrementalState
	i += 4
	b[1] = byte(i - 2)
	p.bundle = p.bundle[:n+i]
	if len(p.bundle) >= bundleSize {
		p.flush()
	}
}

// plainMax bounds a plain event's packet: its fixed bytes, six varints
// and a flow.
const plainMax = 112

// putUvarint writes v as a varint at b[i:] and returns where it ends.
func putUvarint(b *[plainMax]byte, i int, v uint64) int {
	for v >= 0x80 {
		b[i] = byte(v) | 0x80
		v >>= 7
		i++
	}
	b[i] = byte(v)
	return i + 1
}

// seqFieldsSize is the size of a packet's sequence ID and flags.
var seqFieldsSize = protowire.SizeTag(fPacketSequenceID) + protowire.SizeVarint(sequenceID) +
	protowire.SizeTag(fPacketSequenceFlags) + protowire.SizeVarint(seqNeedsIncrementalState)

func (p *perfettoWriter) begin(e *event)   { p.trackEvent(e, typeSliceBegin) }
func (p *perfettoWriter) end(e *event)     { p.trackEvent(e, typeSliceEnd) }
func (p *perfettoWriter) instant(e *event) { p.trackEvent(e, typeInstant) }
func (p *perfettoWriter) counter(e *event) { p.trackEvent(e, typeCounter) }

func (p *perfettoWriter) forget(uint64) {}

func (p *perfettoWriter) close() error {
	if p.err == nil {
		p.flush()
	}
	if err := p.z.close(); err != nil {
		return err
	}
	return p.err
}
