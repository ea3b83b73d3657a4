package export

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"
)

// chromeWriter writes the Chrome JSON trace event format: one object,
//
//	{"displayTimeUnit":"ns","traceEvents":[ ... ]}
//
// whose events are written as they come. Every track is a thread of one
// process (pid 1), named by a thread_name metadata event and ordered by
// thread_sort_index; timestamps are microseconds with nanosecond decimals.
// Slices are B/E pairs, instants "i" with thread scope, counters "C" named
// after their track, and flows "s" (from the instant that starts them) to
// "f" (bound to the next slice on the target thread).
type chromeWriter struct {
	w    *bufio.Writer
	err  error
	buf  []byte
	tids map[uint64]int
	// counters names counter tracks: a Chrome counter is named, not placed.
	counters map[uint64]string
	n        int // events written
	nextTid  int
}

func newChromeWriter(w io.Writer) *chromeWriter {
	c := &chromeWriter{w: bufio.NewWriterSize(w, 256<<10), tids: make(map[uint64]int), counters: make(map[uint64]string)}
	c.write([]byte(`{"displayTimeUnit":"ns","traceEvents":[`))
	return c
}

func (c *chromeWriter) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

// start begins one event object of phase ph on the track's thread.
func (c *chromeWriter) start(ph string, track uint64) []byte {
	b := c.buf[:0]
	if c.n > 0 {
		b = append(b, ",\n"...)
	} else {
		b = append(b, '\n')
	}
	c.n++
	b = append(b, `{"ph":"`...)
	b = append(b, ph...)
	b = append(b, `","pid":1`...)
	if track != processTrack {
		b = append(b, `,"tid":`...)
		b = strconv.AppendInt(b, int64(c.tids[track]), 10)
	}
	return b
}

func (c *chromeWriter) finish(b []byte) {
	b = append(b, '}')
	c.buf = b
	c.write(b)
}

// appendTS appends ,"ts": in microseconds with three decimals.
func appendTS(b []byte, ns int64) []byte {
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ns/1000, 10)
	frac := ns % 1000
	if frac != 0 {
		b = append(b, '.')
		b = append(b, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	}
	return b
}

func (c *chromeWriter) process(name string) {
	b := c.start("M", processTrack)
	b = append(b, `,"name":"process_name","args":{"name":`...)
	b = appendJSONString(b, name)
	b = append(b, '}')
	c.finish(b)
}

// sortIndex orders tracks in viewers: global tracks, then Ps, goroutines
// and tasks, each child right after its parent.
func sortIndex(t *trackInfo) int64 {
	id := int64(uuidID(t.uuid))
	switch uuidKind(t.uuid) {
	case kindProc:
		return 1_000 + 2*id
	case kindProcRng:
		return 1_000 + 2*id + 1
	case kindG:
		return 1_000_000 + 2*id
	case kindGAnn:
		return 1_000_000 + 2*id + 1
	case kindTask:
		return 1<<40 + id
	}
	return id
}

func (c *chromeWriter) track(t *trackInfo) {
	if t.counter {
		c.counters[t.uuid] = t.name
		return
	}
	if id := uuidID(t.uuid); uuidKind(t.uuid) == kindGlobal && (id == trackProcs || id == trackGoroutines || id == trackTasks) {
		return // groups have no events
	}
	c.nextTid++
	c.tids[t.uuid] = c.nextTid
	b := c.start("M", t.uuid)
	b = append(b, `,"name":"thread_name","args":{"name":`...)
	b = appendJSONString(b, t.name)
	b = append(b, '}')
	c.finish(b)
	b = c.start("M", t.uuid)
	b = append(b, `,"name":"thread_sort_index","args":{"sort_index":`...)
	b = strconv.AppendInt(b, sortIndex(t), 10)
	b = append(b, '}')
	c.finish(b)
}

func (c *chromeWriter) named(ph string, e *event) []byte {
	b := c.start(ph, e.track)
	b = appendTS(b, e.ts)
	if e.name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, e.name)
	}
	if e.cat != "" {
		b = append(b, `,"cat":`...)
		b = appendJSONString(b, e.cat)
	}
	return b
}

func (c *chromeWriter) args(b []byte, e *event) []byte {
	if len(e.args) == 0 && len(e.stack) == 0 {
		return b
	}
	b = append(b, `,"args":{`...)
	for i, a := range e.args {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, a.name)
		b = append(b, ':')
		if a.isNum {
			b = strconv.AppendInt(b, a.num, 10)
		} else {
			b = appendJSONString(b, a.str)
		}
	}
	if len(e.stack) > 0 {
		if len(e.args) > 0 {
			b = append(b, ',')
		}
		// Innermost first, as Go prints stacks.
		b = append(b, `"stack":[`...)
		for i := len(e.stack) - 1; i >= 0; i-- {
			f := e.stack[i]
			if i < len(e.stack)-1 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.fn+" "+f.file+":"+strconv.FormatUint(f.line, 10))
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (c *chromeWriter) flow(ph string, id uint64, e *event) {
	b := c.start(ph, e.track)
	b = appendTS(b, e.ts)
	b = append(b, `,"name":"flow","cat":"flow","id":`...)
	b = strconv.AppendUint(b, id, 10)
	c.finish(b)
}

func (c *chromeWriter) begin(e *event) {
	for _, id := range e.flowsIn {
		c.flow("f", id, e)
	}
	c.finish(c.args(c.named("B", e), e))
}

func (c *chromeWriter) end(e *event) {
	b := c.start("E", e.track)
	c.finish(appendTS(b, e.ts))
}

func (c *chromeWriter) instant(e *event) {
	b := c.named("i", e)
	b = append(b, `,"s":"t"`...)
	c.finish(c.args(b, e))
	for _, id := range e.flowsOut {
		c.flow("s", id, e)
	}
}

func (c *chromeWriter) counter(e *event) {
	b := c.start("C", processTrack)
	b = appendTS(b, e.ts)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, c.counters[e.track])
	b = append(b, `,"args":{"bytes":`...)
	b = strconv.AppendInt(b, e.value, 10)
	b = append(b, '}')
	c.finish(b)
}

func (c *chromeWriter) forget(track uint64) { delete(c.tids, track) }

func (c *chromeWriter) reset() {}

func (c *chromeWriter) close() error {
	c.write([]byte("\n]}\n"))
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
