package format

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Encoder writes trace bytes for one version. It checks every event against
// the version's table, so what it writes always frames correctly; whether the
// events make sense together (sequence numbers, states) is the caller's
// business, which lets tests build deliberately broken traces too.
type Encoder struct {
	v   Version
	buf []byte
	err error
}

// NewEncoder returns an Encoder that has written the header for v.
func NewEncoder(v Version) *Encoder {
	e := &Encoder{v: v, buf: AppendHeader(nil, v)}
	if !v.IsV2() {
		e.err = fmt.Errorf("encoder: %v is not a v2 trace version", v)
	}
	return e
}

// Version returns the version being written.
func (e *Encoder) Version() Version { return e.v }

// Bytes returns the trace written so far and the first error, if any.
func (e *Encoder) Bytes() ([]byte, error) { return e.buf, e.err }

// Raw appends bytes as they are, for tests that need a corrupt trace.
func (e *Encoder) Raw(b ...byte) { e.buf = append(e.buf, b...) }

// Event appends one event: its type byte, its arguments, then (for stack
// entries) frames of four values each, and (for events with data) data.
// Batch headers are events too; Batch is usually the easier way to write
// them, since it computes the size.
func (e *Encoder) Event(t EventType, args []uint64, data []byte) {
	if e.err != nil {
		return
	}
	s := e.v.Spec(t)
	if s == nil {
		e.err = fmt.Errorf("encoder: %v has no event type %d", e.v, t)
		return
	}
	want := len(s.Args)
	if s.IsStack && len(args) >= 2 {
		want += 4 * int(args[1])
	}
	if len(args) != want {
		e.err = fmt.Errorf("encoder: %s: want %d args, have %d", s.Name, want, len(args))
		return
	}
	if data != nil && !s.HasData {
		e.err = fmt.Errorf("encoder: %s carries no data", s.Name)
		return
	}
	e.buf = append(e.buf, byte(t))
	for i, a := range args {
		if t == EvExperimentalBatch && i == 0 {
			e.buf = append(e.buf, byte(a)) // N.B. the experiment ID is a byte, not a uvarint
			continue
		}
		e.buf = AppendUvarint(e.buf, a)
	}
	if s.HasData {
		e.buf = AppendUvarint(e.buf, uint64(len(data)))
		e.buf = append(e.buf, data...)
	}
}

// Batch appends an EvEventBatch header for generation gen, thread m and base
// time ts, then the events fill writes into it, with the size filled in.
func (e *Encoder) Batch(gen, m, ts uint64, fill func(b *Encoder)) {
	if e.err != nil {
		return
	}
	inner := &Encoder{v: e.v}
	fill(inner)
	if inner.err != nil {
		e.err = inner.err
		return
	}
	e.Event(EvEventBatch, []uint64{gen, m, ts, uint64(len(inner.buf))}, nil)
	e.buf = append(e.buf, inner.buf...)
}

// NoThread is the M value of batches not written by any thread.
const NoThread = ^uint64(0)

// Assemble turns the text form of a trace into bytes. The text form is the
// one go tool trace -d=wire prints and the Go tree's trace tests use:
//
//	Trace Go1.25
//	EventBatch gen=1 m=18446744073709551615 time=9 size=16
//	Sync
//	Frequency freq=1000000000
//	Stack id=4 nframes=1
//		pc=4816080 func=30 file=31 line=45
//	String id=3
//		data="main.main"
//
// Blank lines and text after '#' are ignored. Values are written exactly as
// given, sizes included, so a fixture can be broken on purpose.
func Assemble(text []byte) ([]byte, error) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	lineNo := 0
	next := func() (string, bool) {
		for sc.Scan() {
			lineNo++
			l := sc.Text()
			if i := strings.IndexByte(l, '#'); i >= 0 && !strings.Contains(l, "data=") {
				l = l[:i]
			}
			if strings.TrimSpace(l) != "" {
				return l, true
			}
		}
		return "", false
	}
	l, ok := next()
	if !ok {
		return nil, fmt.Errorf("assemble: empty text")
	}
	f := strings.Fields(l)
	if len(f) != 2 || f[0] != "Trace" || !strings.HasPrefix(f[1], "Go1.") {
		return nil, fmt.Errorf("assemble: line %d: want \"Trace Go1.NN\", have %q", lineNo, l)
	}
	n, err := strconv.ParseUint(f[1][len("Go1."):], 10, 32)
	if err != nil || !Version(n).IsV2() {
		return nil, fmt.Errorf("assemble: line %d: unsupported version %q", lineNo, f[1])
	}
	v := Version(n)
	names := make(map[string]EventType)
	for t := range 256 {
		if s := v.Spec(EventType(t)); s != nil {
			names[s.Name] = EventType(t)
		}
	}
	e := NewEncoder(v)
	for {
		l, ok := next()
		if !ok {
			break
		}
		f := strings.Fields(l)
		t, ok := names[f[0]]
		if !ok {
			return nil, fmt.Errorf("assemble: line %d: unknown event %q", lineNo, f[0])
		}
		s := v.Spec(t)
		args, err := parseArgs(f[1:], s.Args)
		if err != nil {
			return nil, fmt.Errorf("assemble: line %d: %s: %v", lineNo, s.Name, err)
		}
		if s.IsStack {
			for range args[1] {
				l, ok := next()
				if !ok {
					return nil, fmt.Errorf("assemble: line %d: %s: input ends inside the frames", lineNo, s.Name)
				}
				fr, err := parseArgs(strings.Fields(l), frameFields)
				if err != nil {
					return nil, fmt.Errorf("assemble: line %d: frame: %v", lineNo, err)
				}
				args = append(args, fr...)
			}
		}
		var data []byte
		if s.HasData {
			l, ok := next()
			k, q, found := strings.Cut(strings.TrimSpace(l), "=")
			if !ok || !found || k != "data" {
				return nil, fmt.Errorf("assemble: line %d: %s: want data=\"...\"", lineNo, s.Name)
			}
			str, err := strconv.Unquote(q)
			if err != nil {
				return nil, fmt.Errorf("assemble: line %d: data: %v", lineNo, err)
			}
			data = []byte(str)
		}
		e.Event(t, args, data)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("assemble: %v", err)
	}
	return e.Bytes()
}

// FrameFields names the four values of a stack frame, in wire order.
var frameFields = []string{"pc", "func", "file", "line"}

// FrameFields returns the names of a stack frame's four values.
func FrameFields() []string { return frameFields }

func parseArgs(fields []string, names []string) ([]uint64, error) {
	if len(fields) != len(names) {
		return nil, fmt.Errorf("want %d args %v, have %d", len(names), names, len(fields))
	}
	out := make([]uint64, len(names))
	for i, f := range fields {
		k, val, ok := strings.Cut(f, "=")
		if !ok || k != names[i] {
			return nil, fmt.Errorf("arg %d: want %s=N, have %q", i, names[i], f)
		}
		n, err := strconv.ParseUint(val, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("arg %s: %v", k, err)
		}
		out[i] = n
	}
	return out, nil
}
