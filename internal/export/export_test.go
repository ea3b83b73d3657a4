package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/exp/trace"
	"google.golang.org/protobuf/encoding/protowire"
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
}

// timelineOut is an export read back: its events in file order and its
// tracks' names.
type timelineOut struct {
	events []tevent
	tracks map[string]bool
}

// readPerfetto decodes Perfetto protobuf with protowire, checking the
// structure a reader relies on: every packet on the one sequence, the first
// clearing incremental state, interned names defined before use, tracks
// (and their parents) declared before their events.
func readPerfetto(t *testing.T, b []byte) timelineOut {
	t.Helper()
	out := timelineOut{tracks: make(map[string]bool)}
	// valid holds what the sequence's interning state defines now (cleared
	// with it); ever holds every definition, which may never change.
	valid := map[protowire.Number]map[uint64]string{}
	ever := map[protowire.Number]map[uint64]string{}
	stacks := map[uint64]int{} // callstack iid: frames
	define := func(table protowire.Number, iid uint64, value string) {
		if iid == 0 {
			t.Fatalf("interned data: table %d entry with iid 0", table)
		}
		if ever[table] == nil {
			ever[table], valid[table] = map[uint64]string{}, map[uint64]string{}
		}
		if old, ok := ever[table][iid]; ok && old != value {
			t.Fatalf("interned table %d: iid %d redefined: %q then %q", table, iid, old, value)
		}
		ever[table][iid] = value
		valid[table][iid] = value
	}
	use := func(table protowire.Number, iid uint64) string {
		v, ok := valid[table][iid]
		if !ok {
			t.Fatalf("interned table %d: iid %d used but not defined since the last clear", table, iid)
		}
		return v
	}
	intern := func(data []byte) {
		eachField(t, data, func(table protowire.Number, _ uint64, entry []byte) {
			var iid uint64
			var value []byte
			var frames []uint64
			eachField(t, entry, func(f protowire.Number, v uint64, d []byte) {
				switch {
				case f == fInternIID:
					iid = v
				case table == fInternFrame && f == fFrameFunction:
					use(fInternFunction, v)
					value = fmt.Appendf(value, "fn%d ", v)
				case table == fInternFrame && f == fFrameSourcePath:
					use(fInternSourcePath, v)
					value = fmt.Appendf(value, "file%d ", v)
				case table == fInternFrame && f == fFrameLine:
					value = fmt.Appendf(value, "line%d", v)
				case table == fInternCallstack && f == fCallstackFrame:
					use(fInternFrame, v)
					frames = append(frames, v)
					value = fmt.Appendf(value, "%d ", v)
				case f == fInternString:
					value = d
				}
			})
			switch table {
			case fInternName, fInternCategory, fInternDebug, fInternFunction, fInternSourcePath, fInternFrame:
			case fInternCallstack:
				if len(frames) == 0 {
					t.Fatalf("callstack %d has no frames", iid)
				}
				stacks[iid] = len(frames)
			default:
				t.Fatalf("interned data: unexpected table %d", table)
			}
			define(table, iid, string(value))
		})
	}
	tracks := map[uint64]string{}
	first := true
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != fTracePacket || typ != protowire.BytesType {
			t.Fatalf("Trace: field %d type %d, want packets (field 1, bytes): %v", num, typ, protowire.ParseError(n))
		}
		b = b[n:]
		pkt, n := protowire.ConsumeBytes(b)
		if n < 0 {
			t.Fatalf("TracePacket: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var (
			ts, seq, flags   uint64
			hasTS            bool
			te, td, interned []byte
		)
		eachField(t, pkt, func(num protowire.Number, v uint64, data []byte) {
			switch num {
			case fPacketTimestamp:
				ts, hasTS = v, true
			case fPacketSequenceID:
				seq = v
			case fPacketSequenceFlags:
				flags = v
			case fPacketTrackEvent:
				te = data
			case fPacketTrackDescriptor:
				td = data
			case fPacketInternedData:
				interned = data
			default:
				t.Fatalf("TracePacket: unexpected field %d", num)
			}
		})
		if seq != sequenceID {
			t.Fatalf("packet on sequence %d, want %d", seq, sequenceID)
		}
		if first && flags&seqIncrementalStateCleared == 0 {
			t.Fatal("first packet does not clear incremental state")
		}
		first = false
		if flags&seqIncrementalStateCleared != 0 {
			for _, m := range valid {
				clear(m)
			}
		}
		if interned != nil {
			if flags&seqNeedsIncrementalState == 0 {
				t.Fatal("packet defines interned data without SEQ_NEEDS_INCREMENTAL_STATE")
			}
			intern(interned)
		}
		switch {
		case td != nil:
			var id, parent uint64
			var name string
			var process bool
			eachField(t, td, func(num protowire.Number, v uint64, d []byte) {
				switch num {
				case fTrackUUID:
					id = v
				case fTrackParent:
					parent = v
				case fTrackName:
					name = string(d)
				case fTrackProcess:
					process = true
					name = "process"
				}
			})
			if _, dup := tracks[id]; dup || id == 0 {
				t.Fatalf("track %d (%q) declared twice or with no uuid", id, name)
			}
			if !process {
				if _, ok := tracks[parent]; !ok {
					t.Fatalf("track %q: parent %d not declared before it", name, parent)
				}
			}
			tracks[id] = name
			out.tracks[name] = true
		case te != nil:
			if !hasTS {
				t.Fatal("track event without a timestamp")
			}
			e := tevent{ts: int64(ts)}
			var track uint64
			eachField(t, te, func(num protowire.Number, v uint64, d []byte) {
				switch num {
				case fEventType:
					e.ph = map[uint64]byte{typeSliceBegin: 'B', typeSliceEnd: 'E', typeInstant: 'i', typeCounter: 'C'}[v]
				case fEventTrack:
					track = v
				case fEventNameIID:
					if flags&seqNeedsIncrementalState == 0 {
						t.Fatalf("packet uses interned name %d without SEQ_NEEDS_INCREMENTAL_STATE", v)
					}
					e.name = use(fInternName, v)
				case fEventCategory:
					e.cat = use(fInternCategory, v)
				case fEventFlow:
					e.flowsOut = append(e.flowsOut, v)
				case fEventFlowEnd:
					e.flowsIn = append(e.flowsIn, v)
				case fEventStackIID:
					use(fInternCallstack, v)
					e.frames = stacks[v]
				case fEventDebug:
					eachField(t, d, func(f protowire.Number, v uint64, _ []byte) {
						if f == fDebugNameIID {
							use(fInternDebug, v)
						}
					})
				}
			})
			name, ok := tracks[track]
			if !ok {
				t.Fatalf("event %q on track %d, not declared before it", e.name, track)
			}
			if e.ph == 0 {
				t.Fatalf("event %q with no type", e.name)
			}
			e.track = name
			out.events = append(out.events, e)
		default:
			t.Fatal("packet with neither a track event nor a track descriptor")
		}
	}
	return out
}

// eachField calls f for every field of a message: varints and fixed64 as v,
// length-delimited fields as data.
func eachField(t *testing.T, b []byte, f func(num protowire.Number, v uint64, data []byte)) {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v uint64
		var data []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			data, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("field %d: unexpected wire type %d", num, typ)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		f(num, v, data)
	}
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
		if e.Ph == "C" {
			track = e.Name
			out.tracks[track] = true
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
		te := tevent{ph: e.Ph[0], track: track, name: e.Name, cat: e.Cat, ts: ts}
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
			if strings.HasPrefix(ev.Metric().Name, "/memory/classes/heap/objects") {
				c.heapMetrics++
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
	sum, err := Export(bytes.NewReader(data), &buf, opts)
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
	goroutineTrack = regexp.MustCompile(`^G[0-9]+( [^ ]+)?$`)
	procTrack      = regexp.MustCompile(`^P[0-9]+$`)
)

// TestExport exports every committed trace in both formats, reads the output
// back with a parser of the format, and checks its structure and its counts
// against what x/exp/trace finds in the trace.
func TestExport(t *testing.T) {
	files, err := filepath.Glob("../../testdata/traces/*.trace")
	if err != nil || len(files) == 0 {
		t.Fatalf("no traces: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c := takeCensus(t, data)
		for _, f := range []Format{Perfetto, Chrome} {
			t.Run(filepath.Base(file)+"/"+string(f), func(t *testing.T) {
				b, sum := exportBytes(t, data, Options{Format: f, Name: filepath.Base(file)})
				tl := read(t, f, b)
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
				if c.heapMetrics > 0 && count(tl, func(e tevent) bool { return e.ph == 'C' && e.track == "Heap in use" }) == 0 {
					t.Error("no heap counter values")
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
	if _, err := Export(strings.NewReader("not a trace"), io.Discard, Options{Format: Perfetto}); err == nil {
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
		sum, err := Export(bytes.NewReader(data[:len(data)-200]), &buf, Options{Format: f})
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
	if _, err := Export(bytes.NewReader(data), io.Discard, Options{Format: Chrome, From: time.Hour}); !errors.Is(err, ErrEmptyWindow) {
		t.Errorf("window past the end: err %v, want ErrEmptyWindow", err)
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
