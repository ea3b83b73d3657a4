package export

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"

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
//	TracePacket              timestamp                       8      varint (ns)
//	                         trusted_packet_sequence_id     10      varint
//	                         track_event (TrackEvent)       11      bytes
//	                         interned_data (InternedData)   12      bytes
//	                         sequence_flags                 13      varint
//	                         track_descriptor               60      bytes
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

	fPacketTimestamp       = 8
	fPacketSequenceID      = 10
	fPacketTrackEvent      = 11
	fPacketInternedData    = 12
	fPacketSequenceFlags   = 13
	fPacketTrackDescriptor = 60

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
// the first packet that uses it, and referred to by number after. At each
// generation the interning state is cleared, so the tables hold what one
// generation uses, not the whole trace.
type perfettoWriter struct {
	w   *bufio.Writer
	err error

	cleared bool // the next packet clears the interning state
	tables  [fInternSourcePath + 1]internTable

	pkt, msg, sub, intern, hdr []byte // scratch buffers, reused
	entry, key                 []byte
	frameIDs                   []uint64
}

// internTable is one interning index. IDs keep growing across clears: an ID
// may not name two values in one trace, even after a clear.
type internTable struct {
	ids  map[string]uint64
	next uint64
}

func newPerfettoWriter(w io.Writer) *perfettoWriter {
	p := &perfettoWriter{w: bufio.NewWriterSize(w, 256<<10), cleared: true}
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
	p.cleared = true
}

// packet writes one TracePacket whose body is in p.pkt. interned says
// whether the packet defines or uses interned data, and so needs the
// sequence's incremental state.
func (p *perfettoWriter) packet(interned bool) {
	if p.err != nil {
		return
	}
	var flags uint64
	if interned {
		flags = seqNeedsIncrementalState
	}
	if p.cleared {
		flags |= seqIncrementalStateCleared | seqNeedsIncrementalState
		p.cleared = false
	}
	p.pkt = protowire.AppendTag(p.pkt, fPacketSequenceID, protowire.VarintType)
	p.pkt = protowire.AppendVarint(p.pkt, sequenceID)
	if flags != 0 {
		p.pkt = protowire.AppendTag(p.pkt, fPacketSequenceFlags, protowire.VarintType)
		p.pkt = protowire.AppendVarint(p.pkt, flags)
	}
	p.hdr = protowire.AppendTag(p.hdr[:0], fTracePacket, protowire.BytesType)
	p.hdr = protowire.AppendVarint(p.hdr, uint64(len(p.pkt)))
	if _, err := p.w.Write(p.hdr); err != nil {
		p.err = err
		return
	}
	if _, err := p.w.Write(p.pkt); err != nil {
		p.err = err
	}
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarint(b []byte, field protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, field, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendBytes(b []byte, field protowire.Number, v []byte) []byte {
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

// iid returns the interning ID of the string s in the table of field, adding
// an entry {iid, name or str} the first time.
func (p *perfettoWriter) iid(field protowire.Number, s string) uint64 {
	id, isNew := p.lookup(field, s)
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
	m := appendVarint(p.msg[:0], fEventType, typ)
	m = appendVarint(m, fEventTrack, e.track)
	if e.name != "" {
		m = appendVarint(m, fEventNameIID, p.iid(fInternName, e.name))
	}
	if e.cat != "" {
		m = appendVarint(m, fEventCategory, p.iid(fInternCategory, e.cat))
	}
	if typ == typeCounter {
		m = appendVarint(m, fEventCounter, uint64(e.value))
	}
	for _, a := range e.args {
		d := appendVarint(p.sub[:0], fDebugNameIID, p.iid(fInternDebug, a.name))
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
	p.pkt = appendVarint(p.pkt[:0], fPacketTimestamp, uint64(e.ts))
	if len(p.intern) > 0 {
		p.pkt = appendBytes(p.pkt, fPacketInternedData, p.intern)
	}
	p.pkt = appendBytes(p.pkt, fPacketTrackEvent, m)
	p.packet(e.name != "" || e.cat != "" || len(e.args) > 0 || len(e.stack) > 0)
}

func (p *perfettoWriter) begin(e *event)   { p.trackEvent(e, typeSliceBegin) }
func (p *perfettoWriter) end(e *event)     { p.trackEvent(e, typeSliceEnd) }
func (p *perfettoWriter) instant(e *event) { p.trackEvent(e, typeInstant) }
func (p *perfettoWriter) counter(e *event) { p.trackEvent(e, typeCounter) }

func (p *perfettoWriter) forget(uint64) {}

func (p *perfettoWriter) close() error {
	if p.err != nil {
		return p.err
	}
	return p.w.Flush()
}
