package export

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/gotrace-cli/gotrace/internal/timeline/timelinetest"
	"golang.org/x/exp/trace"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// tevent is one event read back from an export, whatever its format.
type tevent struct {
	ph       byte // 'B', 'E', 'i', 'C'
	track    string
	name     string
	cat      string
	ts       int64 // ns
	flowsOut []uint64
	flowsIn  []uint64
	frames   int
	value    int64 // counters
}

// timelineOut is an export read back: its events in file order and its
// tracks' names.
type timelineOut struct {
	events []tevent
	tracks map[string]bool
}

// perfettoSchema compiles testdata/perfetto_trace.proto, the part of
// Perfetto's published schema that the export writes, and returns its Trace
// message.
var perfettoSchema = sync.OnceValues(func() (protoreflect.MessageDescriptor, error) {
	c := protocompile.Compiler{Resolver: &protocompile.SourceResolver{ImportPaths: []string{"testdata"}}}
	files, err := c.Compile(context.Background(), "perfetto_trace.proto")
	if err != nil {
		return nil, err
	}
	// N.B. The compiler's descriptors work out each field's features
	// whenever they are asked; the same file built again by protodesc
	// answers at once, which makes reading the exports several times
	// faster.
	fd, err := protodesc.NewFile(protodesc.ToFileDescriptorProto(files[0]), new(protoregistry.Files))
	if err != nil {
		return nil, err
	}
	return fd.Messages().ByName("Trace"), nil
})

// pmsg reads a message decoded with the schema by its fields' names.
type pmsg struct {
	t *testing.T
	m protoreflect.Message
}

func (m pmsg) field(name string) protoreflect.FieldDescriptor {
	fd := m.m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		m.t.Fatalf("the schema's %s has no field %s", m.m.Descriptor().Name(), name)
	}
	return fd
}

func (m pmsg) has(name string) bool    { return m.m.Has(m.field(name)) }
func (m pmsg) uint(name string) uint64 { return m.m.Get(m.field(name)).Uint() }
func (m pmsg) int(name string) int64   { return m.m.Get(m.field(name)).Int() }
func (m pmsg) str(name string) string {
	fd := m.field(name)
	if fd.Kind() == protoreflect.BytesKind {
		return string(m.m.Get(fd).Bytes())
	}
	return m.m.Get(fd).String()
}
func (m pmsg) msg(name string) pmsg { return pmsg{m.t, m.m.Get(m.field(name)).Message()} }

// enum returns the name of an enum field's value, as the schema spells it.
func (m pmsg) enum(name string) string {
	fd := m.field(name)
	v := fd.Enum().Values().ByNumber(m.m.Get(fd).Enum())
	if v == nil {
		m.t.Fatalf("%s.%s: value %d is not in the schema", m.m.Descriptor().Name(), name, m.m.Get(fd).Enum())
	}
	return string(v.Name())
}

func (m pmsg) list(name string) []pmsg {
	l := m.m.Get(m.field(name)).List()
	out := make([]pmsg, l.Len())
	for i := range out {
		out[i] = pmsg{m.t, l.Get(i).Message()}
	}
	return out
}

func (m pmsg) uints(name string) []uint64 {
	l := m.m.Get(m.field(name)).List()
	out := make([]uint64, l.Len())
	for i := range out {
		out[i] = l.Get(i).Uint()
	}
	return out
}

// noUnknown fails if any message holds a field the schema does not know:
// one written under a wrong number or wire type.
func noUnknown(t *testing.T, m protoreflect.Message, path string) {
	t.Helper()
	if u := m.GetUnknown(); len(u) > 0 {
		num, typ, _ := protowire.ConsumeTag(u)
		t.Fatalf("%s: field %d (wire type %d) is not in Perfetto's schema", path, num, typ)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		p := path + "." + string(fd.Name())
		if fd.IsList() {
			for i := range v.List().Len() {
				noUnknown(t, v.List().Get(i).Message(), p)
			}
		} else {
			noUnknown(t, v.Message(), p)
		}
		return true
	})
}

// decodeTrace decodes a Trace message with the schema, failing on a field
// the schema does not know.
func decodeTrace(t *testing.T, md protoreflect.MessageDescriptor, b []byte, path string) pmsg {
	t.Helper()
	m := dynamicpb.NewMessage(md)
	// N.B. The schema has no required fields, so nothing is left to
	// check once a message is read.
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(b, m); err != nil {
		t.Fatalf("%s: decoding with Perfetto's schema: %v", path, err)
	}
	noUnknown(t, m, path)
	return pmsg{t, m}
}

// readPerfetto decodes Perfetto protobuf with a protobuf parser and the
// schema, expanding zlib-compressed bundles of packets in place, and checks
// the structure a reader relies on: every packet on one sequence, the first
// clearing incremental state, the trace packet defaults and the clock
// snapshot stated again after each clear, interned names defined before use
// and never redefined, timestamps on the incremental clock only in packets
// that need the incremental state, tracks (and their parents) declared
// before their events. Timestamps come back absolute, in nanoseconds.
func readPerfetto(t *testing.T, b []byte) timelineOut {
	t.Helper()
	md, err := perfettoSchema()
	if err != nil {
		t.Fatalf("compiling the Perfetto schema: %v", err)
	}
	root := decodeTrace(t, md, b, "Trace")
	flagValues := md.ParentFile().Messages().ByName("TracePacket").Enums().ByName("SequenceFlags").Values()
	cleared := uint64(flagValues.ByName("SEQ_INCREMENTAL_STATE_CLEARED").Number())
	needs := uint64(flagValues.ByName("SEQ_NEEDS_INCREMENTAL_STATE").Number())

	// Bundles: a packet holding compressed_packets holds nothing else, and
	// its packets are read in its place.
	var packets []pmsg
	for _, p := range root.list("packet") {
		if !p.has("compressed_packets") {
			packets = append(packets, p)
			continue
		}
		fields := 0
		p.m.Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool { fields++; return true })
		if fields != 1 {
			t.Fatalf("a packet with compressed_packets has %d fields, want it alone", fields)
		}
		zr, err := zlib.NewReader(strings.NewReader(p.str("compressed_packets")))
		if err != nil {
			t.Fatalf("compressed_packets: %v", err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("compressed_packets: %v", err)
		}
		for _, q := range decodeTrace(t, md, raw, "Trace.packet.compressed_packets").list("packet") {
			if q.has("compressed_packets") {
				t.Fatal("compressed packets inside compressed packets")
			}
			packets = append(packets, q)
		}
	}

	out := timelineOut{tracks: make(map[string]bool)}
	// valid holds what the sequence's interning state defines now (cleared
	// with it); ever holds every definition, which may never change.
	valid := map[string]map[uint64]string{}
	ever := map[string]map[uint64]string{}
	stacks := map[uint64]int{} // callstack iid: frames
	define := func(table string, iid uint64, value string) {
		if iid == 0 {
			t.Fatalf("interned %s: an entry with iid 0", table)
		}
		if ever[table] == nil {
			ever[table], valid[table] = map[uint64]string{}, map[uint64]string{}
		}
		if old, ok := ever[table][iid]; ok && old != value {
			t.Fatalf("interned %s: iid %d redefined: %q then %q", table, iid, old, value)
		}
		ever[table][iid] = value
		valid[table][iid] = value
	}
	use := func(table string, iid uint64) string {
		v, ok := valid[table][iid]
		if !ok {
			t.Fatalf("interned %s: iid %d used but not defined since the last clear", table, iid)
		}
		return v
	}
	intern := func(d pmsg) {
		// N.B. in dependency order: frames name functions and files,
		// callstacks name frames.
		for _, table := range []string{"event_categories", "event_names", "debug_annotation_names"} {
			for _, e := range d.list(table) {
				define(table, e.uint("iid"), e.str("name"))
			}
		}
		for _, table := range []string{"function_names", "source_paths"} {
			for _, e := range d.list(table) {
				define(table, e.uint("iid"), e.str("str"))
			}
		}
		for _, e := range d.list("frames") {
			use("function_names", e.uint("function_name_id"))
			use("source_paths", e.uint("source_path_iid"))
			define("frames", e.uint("iid"), fmt.Sprintf("fn%d file%d line%d", e.uint("function_name_id"), e.uint("source_path_iid"), e.uint("line_number")))
		}
		for _, e := range d.list("callstacks") {
			frames := e.uints("frame_ids")
			if len(frames) == 0 {
				t.Fatalf("callstack %d has no frames", e.uint("iid"))
			}
			for _, f := range frames {
				use("frames", f)
			}
			define("callstacks", e.uint("iid"), fmt.Sprint(frames))
			stacks[e.uint("iid")] = len(frames)
		}
	}
	tracks := map[uint64]string{}
	var seq uint64
	// The clocks: the sequence's default clock (0 when cleared and not
	// stated again), and the incremental clock's value and its offset to
	// BOOTTIME, from the last clock snapshot since the last clear.
	const boottime, incremental = 6, 64
	var defaultClock, deltaValue, deltaOffset uint64
	snapshot := false
	for i, p := range packets {
		flags := p.uint("sequence_flags")
		if i == 0 {
			seq = p.uint("trusted_packet_sequence_id")
			if flags&cleared == 0 {
				t.Fatal("first packet does not clear incremental state")
			}
		}
		if id := p.uint("trusted_packet_sequence_id"); id != seq || id == 0 {
			t.Fatalf("packet %d on sequence %d, want all on %d", i, id, seq)
		}
		if flags&cleared != 0 {
			for _, m := range valid {
				clear(m)
			}
			defaultClock, snapshot = 0, false
		}
		if p.has("trace_packet_defaults") {
			defaultClock = p.msg("trace_packet_defaults").uint("timestamp_clock_id")
		}
		var ts uint64
		if p.has("timestamp") {
			clock := defaultClock
			if p.has("timestamp_clock_id") {
				clock = p.uint("timestamp_clock_id")
			}
			switch clock {
			case incremental:
				if !snapshot {
					t.Fatalf("packet %d: a timestamp on clock %d before a snapshot of it since the last clear", i, clock)
				}
				if flags&needs == 0 {
					t.Fatalf("packet %d: a timestamp on the incremental clock without SEQ_NEEDS_INCREMENTAL_STATE", i)
				}
				deltaValue += p.uint("timestamp")
				ts = deltaValue + deltaOffset
			case boottime:
				ts = p.uint("timestamp")
			default:
				t.Fatalf("packet %d: timestamp on clock %d", i, clock)
			}
		}
		if p.has("interned_data") {
			if flags&needs == 0 {
				t.Fatal("packet defines interned data without SEQ_NEEDS_INCREMENTAL_STATE")
			}
			intern(p.msg("interned_data"))
		}
		switch {
		case p.has("clock_snapshot"):
			var boot, delta *pmsg
			for _, c := range p.msg("clock_snapshot").list("clocks") {
				switch c.uint("clock_id") {
				case boottime:
					boot = &c
				case incremental:
					delta = &c
				}
			}
			if boot == nil || delta == nil || !delta.m.Get(delta.field("is_incremental")).Bool() || delta.uint("unit_multiplier_ns") > 1 {
				t.Fatalf("packet %d: a clock snapshot without BOOTTIME and an incremental clock %d in ns", i, incremental)
			}
			deltaValue, deltaOffset = delta.uint("timestamp"), boot.uint("timestamp")-delta.uint("timestamp")
			snapshot = true
		case p.has("track_descriptor"):
			td := p.msg("track_descriptor")
			id, name := td.uint("uuid"), td.str("name")
			if td.has("process") {
				name = "process"
				if td.msg("process").str("process_name") == "" {
					t.Error("process track with no name")
				}
			} else if _, ok := tracks[td.uint("parent_uuid")]; !ok {
				t.Fatalf("track %q: parent %d not declared before it", name, td.uint("parent_uuid"))
			}
			if _, dup := tracks[id]; dup || id == 0 {
				t.Fatalf("track %d (%q) declared twice or with no uuid", id, name)
			}
			if td.has("counter") && td.msg("counter").enum("unit") != "UNIT_SIZE_BYTES" {
				t.Errorf("counter track %q: unit %s", name, td.msg("counter").enum("unit"))
			}
			tracks[id] = name
			out.tracks[name] = true
		case p.has("track_event"):
			if !p.has("timestamp") {
				t.Fatal("track event without a timestamp")
			}
			te := p.msg("track_event")
			e := tevent{ts: int64(ts)}
			e.ph = eventPhases[te.enum("type")]
			if e.ph == 0 {
				t.Fatalf("event of type %s", te.enum("type"))
			}
			if te.has("name_iid") {
				if flags&needs == 0 {
					t.Fatalf("packet uses interned name %d without SEQ_NEEDS_INCREMENTAL_STATE", te.uint("name_iid"))
				}
				e.name = use("event_names", te.uint("name_iid"))
			}
			for _, c := range te.uints("category_iids") {
				e.cat = use("event_categories", c)
			}
			e.flowsOut = te.uints("flow_ids")
			e.flowsIn = te.uints("terminating_flow_ids")
			if te.has("callstack_iid") {
				use("callstacks", te.uint("callstack_iid"))
				e.frames = stacks[te.uint("callstack_iid")]
			}
			for _, a := range te.list("debug_annotations") {
				use("debug_annotation_names", a.uint("name_iid"))
			}
			if e.ph == 'C' {
				e.value = te.int("counter_value")
			}
			name, ok := tracks[te.uint("track_uuid")]
			if !ok {
				t.Fatalf("event %q on track %d, not declared before it", e.name, te.uint("track_uuid"))
			}
			e.track = name
			out.events = append(out.events, e)
		default:
			t.Fatal("packet with neither a track event, a track descriptor nor a clock snapshot")
		}
	}
	return out
}

// chromeFile is the documented structure of the Chrome JSON output.
type chromeFile struct {
	DisplayTimeUnit string `json:"displayTimeUnit"`
	TraceEvents     []struct {
		Ph   string         `json:"ph"`
		Pid  int            `json:"pid"`
		Tid  *int           `json:"tid"`
		Ts   *float64       `json:"ts"`
		Name string         `json:"name"`
		Cat  string         `json:"cat"`
		ID   uint64         `json:"id"`
		S    string         `json:"s"`
		Args map[string]any `json:"args"`
	} `json:"traceEvents"`
}

func readChrome(t *testing.T, b []byte) timelineOut {
	t.Helper()
	var f chromeFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("chrome JSON: %v", err)
	}
	if f.DisplayTimeUnit != "ns" {
		t.Errorf("displayTimeUnit %q", f.DisplayTimeUnit)
	}
	out := timelineOut{tracks: make(map[string]bool)}
	threads := map[int]string{}
	var pendingIn []uint64
	for _, e := range f.TraceEvents {
		if e.Pid != 1 {
			t.Fatalf("event %+v: pid %d", e, e.Pid)
		}
		tid := -1
		if e.Tid != nil {
			tid = *e.Tid
		}
		if e.Ph == "M" {
			if e.Name == "thread_name" {
				name, _ := e.Args["name"].(string)
				threads[tid] = name
				out.tracks[name] = true
			}
			continue
		}
		if e.Ts == nil {
			t.Fatalf("event %+v without ts", e)
		}
		ts := int64(*e.Ts*1000 + 0.5)
		track := threads[tid]
		var value int64
		if e.Ph == "C" {
			track = e.Name
			out.tracks[track] = true
			v, ok := e.Args["bytes"].(float64)
			if !ok {
				t.Fatalf("counter %+v without a value in bytes", e)
			}
			value = int64(v)
		} else if _, ok := threads[tid]; !ok {
			t.Fatalf("event %+v on thread %d, not named before it", e, tid)
		}
		switch e.Ph {
		case "s":
			last := &out.events[len(out.events)-1]
			if last.ph != 'i' || last.ts != ts || last.track != track {
				t.Fatalf("flow start %d not right after its instant", e.ID)
			}
			last.flowsOut = append(last.flowsOut, e.ID)
			continue
		case "f":
			pendingIn = append(pendingIn, e.ID)
			continue
		}
		te := tevent{ph: e.Ph[0], track: track, name: e.Name, cat: e.Cat, ts: ts, value: value}
		if e.Ph == "B" {
			te.flowsIn, pendingIn = pendingIn, nil
		} else if len(pendingIn) > 0 {
			t.Fatalf("flow end not followed by a slice begin: %+v", e)
		}
		if e.Ph == "i" && e.S != "t" {
			t.Fatalf("instant with scope %q", e.S)
		}
		if st, ok := e.Args["stack"].([]any); ok {
			te.frames = len(st)
		}
		out.events = append(out.events, te)
	}
	return out
}

// census counts, with x/exp/trace, what an export must show.
type census struct {
	goroutines  map[trace.GoID]bool
	procs       map[trace.ProcID]bool
	gcs         int
	regions     int
	tasks       int
	samples     int
	logs        int
	heapMetrics int
	// the last heap in use and heap goal values
	heapLast, goalLast int64
	syscalls           int // goroutines entering a system call
}

func takeCensus(t *testing.T, data []byte) census {
	t.Helper()
	r, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := census{goroutines: map[trace.GoID]bool{}, procs: map[trace.ProcID]bool{}}
	gcOpen := false
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			return c
		}
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind() {
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind == trace.ResourceGoroutine {
				if from, to := st.Goroutine(); from != to && to != trace.GoNotExist {
					c.goroutines[st.Resource.Goroutine()] = true
					if to == trace.GoRunning && ev.Proc() != trace.NoProc {
						c.procs[ev.Proc()] = true
					}
					if to == trace.GoSyscall {
						c.syscalls++
					}
				}
			}
		case trace.EventRangeBegin, trace.EventRangeActive:
			if ev.Range().Name == "GC concurrent mark phase" && !gcOpen {
				c.gcs++
				gcOpen = true
			}
		case trace.EventRangeEnd:
			if ev.Range().Name == "GC concurrent mark phase" {
				gcOpen = false
			}
		case trace.EventRegionBegin:
			c.regions++
		case trace.EventTaskBegin:
			c.tasks++
		case trace.EventStackSample:
			c.samples++
		case trace.EventLog:
			c.logs++
		case trace.EventMetric:
			switch m := ev.Metric(); m.Name {
			case "/memory/classes/heap/objects:bytes":
				c.heapMetrics++
				c.heapLast = int64(m.Value.Uint64())
			case "/gc/heap/goal:bytes":
				c.goalLast = int64(m.Value.Uint64())
			}
		}
	}
}

// checkNesting checks that slices nest on every track and time never runs
// backwards on a track, and that every flow starts once and ends once.
func checkNesting(t *testing.T, tl timelineOut) {
	t.Helper()
	depth := map[string]int{}
	last := map[string]int64{}
	starts, ends := map[uint64]int{}, map[uint64]int{}
	for _, e := range tl.events {
		if e.ts < last[e.track] {
			t.Fatalf("track %q: time runs backwards at %q (%d < %d)", e.track, e.name, e.ts, last[e.track])
		}
		last[e.track] = e.ts
		switch e.ph {
		case 'B':
			depth[e.track]++
		case 'E':
			if depth[e.track]--; depth[e.track] < 0 {
				t.Fatalf("track %q: slice end with no slice open at %d", e.track, e.ts)
			}
		}
		for _, id := range e.flowsOut {
			starts[id]++
		}
		for _, id := range e.flowsIn {
			ends[id]++
		}
	}
	for track, d := range depth {
		if d != 0 {
			t.Errorf("track %q: %d slices left open", track, d)
		}
	}
	for id, n := range starts {
		if n != 1 || ends[id] > 1 {
			t.Errorf("flow %d starts %d times, ends %d times", id, n, ends[id])
		}
	}
	for id := range ends {
		if starts[id] != 1 {
			t.Errorf("flow %d ends but never starts", id)
		}
	}
}

func count(tl timelineOut, keep func(e tevent) bool) int {
	n := 0
	for _, e := range tl.events {
		if keep(e) {
			n++
		}
	}
	return n
}

func exportBytes(t *testing.T, data []byte, opts Options) ([]byte, Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := Export(context.Background(), bytes.NewReader(data), &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum
}

func read(t *testing.T, f Format, b []byte) timelineOut {
	if f == Perfetto {
		return readPerfetto(t, b)
	}
	return readChrome(t, b)
}

var (
	goroutineTrack = newTrackMatch(`^G[0-9]+( [^ ]+)?$`)
	procTrack      = newTrackMatch(`^P[0-9]+$`)
)

// trackMatch tells the tracks whose names match a regular expression,
// each name matched once: the checks ask for every event.
type trackMatch struct {
	re   *regexp.Regexp
	mu   sync.Mutex
	seen map[string]bool
}

func newTrackMatch(re string) *trackMatch {
	return &trackMatch{re: regexp.MustCompile(re), seen: make(map[string]bool)}
}

func (m *trackMatch) MatchString(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ok, known := m.seen[name]
	if !known {
		ok = m.re.MatchString(name)
		m.seen[name] = ok
	}
	return ok
}

// eventPhases are Chrome's phases of Perfetto's track event types.
var eventPhases = map[string]byte{"TYPE_SLICE_BEGIN": 'B', "TYPE_SLICE_END": 'E', "TYPE_INSTANT": 'i', "TYPE_COUNTER": 'C'}

// TestExport exports every committed trace in both formats, reads the output
// back with a parser of the format, and checks its structure and its counts
// against what x/exp/trace finds in the trace, and the two formats against
// each other, event by event.
func TestExport(t *testing.T) {
	for _, tr := range committedTraces(t) {
		file, data := tr.file, tr.data
		if raceEnabled && len(data) > 500<<10 {
			// The parts' concurrency is tested under the race detector
			// on the smaller traces; these take it minutes.
			continue
		}
		c := takeCensus(t, data)
		both := map[Format]timelineOut{}
		formats := []Format{Perfetto, Chrome}
		if len(data) > 500<<10 {
			// N.B. Chrome's format, the same writer's other encoding, is
			// read back and compared with Perfetto's on the smaller
			// traces; reading half a million events back in both takes
			// seconds each.
			formats = formats[:1]
		}
		for _, f := range formats {
			t.Run(filepath.Base(file)+"/"+string(f), func(t *testing.T) {
				b, sum := exportBytes(t, data, Options{Format: f, Name: filepath.Base(file)})
				tl := read(t, f, b)
				both[f] = tl
				checkNesting(t, tl)

				gTracks := 0
				for name := range tl.tracks {
					if goroutineTrack.MatchString(name) && !strings.HasSuffix(name, " annotations") {
						gTracks++
					}
				}
				if gTracks != len(c.goroutines) {
					t.Errorf("%d goroutine tracks, x/exp/trace sees %d goroutines", gTracks, len(c.goroutines))
				}
				for p := range c.procs {
					if !tl.tracks[fmt.Sprintf("P%d", p)] {
						t.Errorf("no track for P%d", p)
					}
				}
				if got := count(tl, func(e tevent) bool { return e.ph == 'B' && e.track == "GC" && e.name == "GC" }); got != c.gcs {
					t.Errorf("%d GC slices, x/exp/trace sees %d collections", got, c.gcs)
				}
				if got := count(tl, func(e tevent) bool { return e.ph == 'B' && e.cat == "region" }); got != c.regions {
					t.Errorf("%d region slices, x/exp/trace sees %d regions", got, c.regions)
				}
				if got := count(tl, func(e tevent) bool { return e.ph == 'B' && e.cat == "task" }); got != c.tasks {
					t.Errorf("%d task slices, x/exp/trace sees %d tasks", got, c.tasks)
				}
				if got := count(tl, func(e tevent) bool { return e.ph == 'i' && e.cat == "cpu" && e.frames > 0 }); got != c.samples || sum.Samples != c.samples {
					t.Errorf("%d CPU samples with stacks (summary %d), x/exp/trace sees %d", got, sum.Samples, c.samples)
				}
				if got := count(tl, func(e tevent) bool { return e.ph == 'i' && e.cat == "log" }); got != c.logs {
					t.Errorf("%d logs, x/exp/trace sees %d", got, c.logs)
				}
				// The counters end at the trace's last values.
				for track, want := range map[string]int64{"Heap in use": c.heapLast, "Heap goal": c.goalLast} {
					var last int64
					for _, e := range tl.events {
						if e.ph == 'C' && e.track == track {
							last = e.value
						}
					}
					if last != want {
						t.Errorf("%s: last counter value %d, x/exp/trace's last metric %d", track, last, want)
					}
				}
				// Goroutine tracks show every state, P tracks what runs.
				if got := count(tl, func(e tevent) bool { return e.ph == 'B' && e.name == "syscall" && goroutineTrack.MatchString(e.track) }); got != c.syscalls {
					t.Errorf("%d syscall slices, x/exp/trace sees %d system calls", got, c.syscalls)
				}
				for _, state := range []string{"running", "runnable"} {
					if count(tl, func(e tevent) bool { return e.ph == 'B' && e.name == state && goroutineTrack.MatchString(e.track) }) == 0 {
						t.Errorf("no %s slices on goroutine tracks", state)
					}
				}
				if count(tl, func(e tevent) bool { return e.ph == 'B' && e.cat == "running" && procTrack.MatchString(e.track) }) == 0 {
					t.Error("no goroutine runs on a P track")
				}
				// Creation and unblocking both start flows.
				for _, what := range []string{"go", "unblock"} {
					if count(tl, func(e tevent) bool { return e.ph == 'i' && e.name == what && len(e.flowsOut) == 1 }) == 0 {
						t.Errorf("no %q flow", what)
					}
				}
				if got := count(tl, func(e tevent) bool { return len(e.flowsIn) > 0 }); got == 0 || got != sum.Flows {
					t.Errorf("%d flows end on a slice, summary says %d begun", got, sum.Flows)
				}
				if got := count(tl, func(e tevent) bool { return e.ph == 'B' }); got != sum.Slices {
					t.Errorf("%d slices, summary says %d", got, sum.Slices)
				}
				if got := count(tl, func(e tevent) bool { return e.ph == 'B' && strings.HasPrefix(e.name, "blocked") }); got == 0 {
					t.Error("no blocked slices")
				}
				// A P runs one goroutine at a time and a goroutine is in one
				// state at a time: their tracks never nest slices.
				depth := map[string]int{}
				for _, e := range tl.events {
					if !procTrack.MatchString(e.track) && !(goroutineTrack.MatchString(e.track) && !strings.HasSuffix(e.track, " annotations")) {
						continue
					}
					switch e.ph {
					case 'B':
						if depth[e.track]++; depth[e.track] > 1 {
							t.Fatalf("track %q: %q nested in another slice at %d", e.track, e.name, e.ts)
						}
					case 'E':
						depth[e.track]--
					}
				}
			})
		}
		p, okp := both[Perfetto]
		ch, okc := both[Chrome]
		if okp && okc {
			t.Run(filepath.Base(file)+"/same", func(t *testing.T) { samePerfettoChrome(t, p, ch, "whole trace") })
		}
	}
}

// TestWindow cuts a window: nothing outside it, slices crossing its edges
// cut at them, still nested.
func TestWindow(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/annotated.trace")
	if err != nil {
		t.Fatal(err)
	}
	from, to := 1100*time.Millisecond, 1200*time.Millisecond
	for _, f := range []Format{Perfetto, Chrome} {
		b, _ := exportBytes(t, data, Options{Format: f, From: from, To: to})
		tl := read(t, f, b)
		checkNesting(t, tl)
		if len(tl.events) == 0 {
			t.Fatalf("%s: empty window", f)
		}
		for _, e := range tl.events {
			if e.ts < int64(from) || e.ts > int64(to) {
				t.Fatalf("%s: event %q at %v, outside %v-%v", f, e.name, time.Duration(e.ts), from, to)
			}
		}
		// The idle region spans the window: it is cut at both edges.
		begins := count(tl, func(e tevent) bool { return e.ph == 'B' && e.name == "idle" && e.ts == int64(from) })
		if begins != 1 {
			t.Errorf("%s: idle region begun at the window's start %d times, want 1", f, begins)
		}
		full, _ := exportBytes(t, data, Options{Format: f})
		if len(b) >= len(full) {
			t.Errorf("%s: window export %d bytes, full %d", f, len(b), len(full))
		}
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Export(context.Background(), strings.NewReader("not a trace"), io.Discard, Options{Format: Perfetto}); err == nil {
		t.Error("garbage: no error")
	}
	data, err := os.ReadFile("../../testdata/traces/annotated.trace")
	if err != nil {
		t.Fatal(err)
	}
	// A trace cut inside its last generation: an error, and a whole file
	// holding the generations before the cut.
	for _, f := range []Format{Perfetto, Chrome} {
		var buf bytes.Buffer
		sum, err := Export(context.Background(), bytes.NewReader(data[:len(data)-200]), &buf, Options{Format: f})
		var de *DamageError
		if !errors.As(err, &de) {
			t.Fatalf("%s: truncated trace: err %v, want a DamageError", f, err)
		}
		tl := read(t, f, buf.Bytes())
		checkNesting(t, tl)
		if sum.Slices == 0 || count(tl, func(e tevent) bool { return e.ph == 'B' }) != sum.Slices {
			t.Errorf("%s: %d slices before the damage, summary %d", f, count(tl, func(e tevent) bool { return e.ph == 'B' }), sum.Slices)
		}
	}
	if _, err := Export(context.Background(), bytes.NewReader(data), io.Discard, Options{Format: Chrome, From: time.Hour}); !errors.Is(err, ErrEmptyWindow) {
		t.Errorf("window past the end: err %v, want ErrEmptyWindow", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Export(ctx, bytes.NewReader(data), io.Discard, Options{Format: Perfetto}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err %v, want context.Canceled", err)
	}
	if _, err := ParseFormat("svg"); err == nil {
		t.Error("ParseFormat(svg): no error")
	}
}

func TestJSONString(t *testing.T) {
	for _, s := range []string{"plain", `quo"te`, `back\slash`, "tab\tnew\nline\x01", "héllo, 世界", "bad\xffutf8"} {
		var got string
		if err := json.Unmarshal(appendJSONString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if got != want {
			t.Errorf("round trip of %q = %q", s, got)
		}
	}
}

// TestPerfettoMatchesChrome reads both exports of a window of every small
// committed trace back and compares them event by event: the Perfetto one,
// with its interned names resolved and its delta timestamps added up, must
// say what the Chrome JSON, which spells every name and time out, says.
// TestExport compares the exports of the whole traces.
func TestPerfettoMatchesChrome(t *testing.T) {
	files, err := filepath.Glob("../../testdata/traces/*.trace")
	if err != nil || len(files) == 0 {
		t.Fatalf("no traces: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > 500<<10 {
				// N.B. half a million events read back twice with dynamicpb
				// take most of a minute; TestExport reads it once.
				t.Skip("big trace")
			}
			// N.B. TestExport compares the whole traces.
			opts := Options{From: 100 * time.Microsecond, To: 600 * time.Microsecond}
			opts.Format = Perfetto
			pb, _ := exportBytes(t, data, opts)
			opts.Format = Chrome
			cb, _ := exportBytes(t, data, opts)
			samePerfettoChrome(t, readPerfetto(t, pb), readChrome(t, cb), fmt.Sprintf("window %v-%v", opts.From, opts.To))
		})
	}
}

// samePerfettoChrome checks that p and c, the same export in Perfetto's
// format and in Chrome's, hold the same events on the same tracks.
func samePerfettoChrome(t *testing.T, p, c timelineOut, what string) {
	t.Helper()
	if len(p.events) != len(c.events) || len(p.events) == 0 && what == "whole trace" {
		t.Fatalf("%s: %d events in Perfetto's format, %d in Chrome's", what, len(p.events), len(c.events))
	}
	for i := range p.events {
		pe, ce := p.events[i], c.events[i]
		switch pe.ph {
		case 'E':
			ce.name, ce.cat = "", "" // N.B. Perfetto's slice ends are anonymous
		case 'C':
			ce.name = "" // N.B. Chrome's counters are named by their track
		}
		if fmt.Sprint(pe) != fmt.Sprint(ce) {
			t.Fatalf("%s, event %d:\nperfetto %+v\nchrome   %+v", what, i, pe, ce)
		}
	}
	for name := range c.tracks {
		if !p.tracks[name] {
			t.Errorf("%s: track %q only in Chrome's format", what, name)
		}
	}
}

// TestPerfettoClock drives the writer directly with times that go back, as
// the timeline never does, across a generation's reset, and reads the times
// back: an earlier time is written on BOOTTIME and leaves the incremental
// clock where it was.
func TestPerfettoClock(t *testing.T) {
	var buf bytes.Buffer
	w := newPerfettoWriter(&buf)
	w.process("clock")
	tk := &trackInfo{uuid: uuid(kindGlobal, trackGC), name: "GC"}
	w.track(tk)
	times := []int64{0, 0, 1000, 999, 5000, 5000, 1 << 40, 3, 1<<40 + 1}
	for i, ts := range times {
		if i == 4 {
			w.reset()
		}
		w.instant(&event{ts: ts, track: tk.uuid, name: "tick", cat: "test"})
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	tl := readPerfetto(t, buf.Bytes())
	if len(tl.events) != len(times) {
		t.Fatalf("%d events back, wrote %d", len(tl.events), len(times))
	}
	for i, e := range tl.events {
		if e.ts != times[i] || e.name != "tick" || e.cat != "test" || e.track != "GC" {
			t.Errorf("event %d: %+v, wrote %q at %d", i, e, "tick", times[i])
		}
	}
}

// TestPartsMatchOrdered exports every committed trace both ways, a
// generation per worker (from a file or bytes in memory) and in one
// ordered pass (from a stream), and requires the same bytes: a generation
// read on its own is mended into what the trace read whole says.
func TestPartsMatchOrdered(t *testing.T) {
	traces := committedTraces(t)
	for _, tr := range traces {
		if filepath.Base(tr.file) == "overlap.trace" {
			// Its second generation begins halfway through the first:
			// a part that overlaps by far more than Merge mends.
			traces = append(traces, committedTrace{"overlapped.trace", timelinetest.Overlapped(t, tr.data)})
		}
	}
	for _, tr := range traces {
		file, data := tr.file, tr.data
		for _, f := range []Format{Perfetto, Chrome} {
			t.Run(filepath.Base(file)+"/"+string(f), func(t *testing.T) {
				if (testing.Short() || raceEnabled) && len(data) > 500<<10 {
					t.Skip("big trace")
				}
				var parts, ordered bytes.Buffer
				psum, perr := Export(context.Background(), bytes.NewReader(data), &parts, Options{Format: f})
				osum, oerr := Export(context.Background(), struct{ io.Reader }{bytes.NewReader(data)}, &ordered, Options{Format: f})
				if fmt.Sprint(perr) != fmt.Sprint(oerr) || psum != osum {
					t.Fatalf("in parts: %+v, %v; in order: %+v, %v", psum, perr, osum, oerr)
				}
				if !bytes.Equal(parts.Bytes(), ordered.Bytes()) {
					a, b := read(t, f, parts.Bytes()), read(t, f, ordered.Bytes())
					for i := range min(len(a.events), len(b.events)) {
						if fmt.Sprint(a.events[i]) != fmt.Sprint(b.events[i]) {
							t.Fatalf("event %d: in parts %+v, in order %+v", i, a.events[i], b.events[i])
						}
					}
					t.Fatalf("in parts %d bytes, %d events; in order %d bytes, %d events", parts.Len(), len(a.events), ordered.Len(), len(b.events))
				}
			})
		}
	}
}

// TestPartsDamage damages a byte inside the events of the annotated trace,
// at places spread over it, and requires the export a generation per
// worker to say what the ordered pass says of the damage, and to have
// written the same timeline before it.
func TestPartsDamage(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/annotated.trace")
	if err != nil {
		t.Fatal(err)
	}
	damaged := 0
	for i := 1; i < 24; i++ {
		bad := bytes.Clone(data)
		at := len(bad) * i / 24
		bad[at] ^= 0xff
		for _, f := range []Format{Perfetto, Chrome} {
			var parts, ordered bytes.Buffer
			psum, perr := Export(context.Background(), bytes.NewReader(bad), &parts, Options{Format: f})
			osum, oerr := Export(context.Background(), struct{ io.Reader }{bytes.NewReader(bad)}, &ordered, Options{Format: f})
			if fmt.Sprint(perr) != fmt.Sprint(oerr) || psum != osum || !bytes.Equal(parts.Bytes(), ordered.Bytes()) {
				t.Errorf("byte %#x damaged, %s: in parts %+v, %v (%d bytes); in order %+v, %v (%d bytes)",
					at, f, psum, perr, parts.Len(), osum, oerr, ordered.Len())
			}
			if oerr != nil {
				damaged++
			}
		}
	}
	if damaged == 0 {
		t.Error("no damage found: the test damages nothing")
	}
}

// committedTrace is a trace of testdata/traces and its bytes.
type committedTrace struct {
	file string
	data []byte
}

// committedTraces reads every trace of testdata/traces.
func committedTraces(t *testing.T) []committedTrace {
	t.Helper()
	files, err := filepath.Glob("../../testdata/traces/*.trace")
	if err != nil || len(files) == 0 {
		t.Fatalf("no traces: %v", err)
	}
	out := make([]committedTrace, len(files))
	for i, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = committedTrace{file, data}
	}
	return out
}
