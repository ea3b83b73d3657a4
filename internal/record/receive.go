package record

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// maxFrame bounds one frame on the data pipe. The runtime hands the tracer's
// writer at most a buffer at a time (64 KiB); anything far larger is not the
// shim talking.
const maxFrame = 64 << 20

// Trace is one trace file a recording wrote.
type Trace struct {
	// Path is where the trace is.
	Path string
	// Size is its length in bytes.
	Size int64
	// CutShort is set when the program ended without stopping the tracer
	// (a panic, a signal that killed it): the file holds the complete
	// generations only, and Received says how much had arrived.
	CutShort bool
	Received int64
}

// receiver reads the shim's frames from the data pipe and writes the trace
// files.
type receiver struct {
	in      *bufio.Reader
	dest    string // where the trace goes; flight snapshots are numbered after it
	flight  bool
	log     func(string)
	written func(Trace) // nil, or told of each file as it is complete

	bytes atomic.Int64 // trace bytes received, for progress
	gens  *genCounter  // nil unless progress is shown

	stopOnce sync.Once
	stopped  chan struct{} // closed when the tracer is stopped for good or the pipe ends

	// direct is the file the program writes itself, when it does (see
	// adopt); followed is how much of it progress has read, by Run's
	// goroutine only.
	direct   *outputFile
	followed int64

	// Written by the receiving goroutine, read after done is closed.
	cur      *outputFile
	snapshot int
	traces   []Trace
	err      error // the first error writing a trace
	done     chan struct{}
}

func newReceiver(r io.Reader, dest string, flight bool, log func(string), countGens bool) *receiver {
	rc := &receiver{
		in:      bufio.NewReaderSize(r, 1<<20), // as large as the pipe
		dest:    dest,
		flight:  flight,
		log:     log,
		stopped: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if countGens {
		rc.gens = new(genCounter)
	}
	return rc
}

func (rc *receiver) stop() { rc.stopOnce.Do(func() { close(rc.stopped) }) }

// adopt makes f, which the program writes directly, the current file: the
// stream then carries only the frames that say how it went. Call it before
// run.
func (rc *receiver) adopt(f *outputFile) {
	rc.cur, rc.direct = f, f
}

// size is how long f is: what the program wrote, when it writes directly.
func (rc *receiver) size(f *outputFile) int64 {
	if f == rc.direct {
		if n, err := f.Size(); err == nil {
			return n
		}
	}
	return f.Len()
}

// progress returns the trace bytes and generations so far. Where the
// program writes the file itself, it reads what was added since the last
// call, for the generations.
func (rc *receiver) progress() (bytes int64, gens int) {
	if rc.direct == nil {
		if rc.gens != nil {
			gens = rc.gens.count()
		}
		return rc.bytes.Load(), gens
	}
	size, err := rc.direct.Size()
	if err != nil { // committed and closed
		size = rc.followed
	}
	if rc.gens != nil {
		buf := make([]byte, 64<<10)
		for rc.followed < size {
			// Batch bodies need not be read: only their headers count.
			if k := rc.gens.skipAhead(uint64(size - rc.followed)); k > 0 {
				rc.followed += int64(k)
				continue
			}
			n, err := rc.direct.ReadAt(buf[:min(int64(len(buf)), size-rc.followed)], rc.followed)
			rc.gens.Write(buf[:n])
			rc.followed += int64(n)
			if err != nil {
				break
			}
		}
		gens = rc.gens.count()
	}
	return size, gens
}

// run receives until the pipe ends.
func (rc *receiver) run() {
	defer close(rc.done)
	defer rc.stop()
	for {
		kind, err := rc.in.ReadByte()
		if err != nil {
			rc.endOfStream()
			return
		}
		n, err := binary.ReadUvarint(rc.in)
		if err != nil || n > maxFrame {
			rc.log("the trace stream is damaged: a frame header is unreadable")
			rc.endOfStream()
			return
		}
		switch kind {
		case frameData:
			if err := rc.data(int64(n)); err != nil {
				rc.endOfStream()
				return
			}
		case frameEnd:
			rc.commit()
		case frameError, frameWrite:
			msg := make([]byte, n)
			if _, err := io.ReadFull(rc.in, msg); err != nil {
				rc.endOfStream()
				return
			}
			if kind == frameError {
				rc.log("the program's tracer failed: " + string(msg))
				break
			}
			path := rc.dest
			if rc.cur != nil {
				path = rc.cur.Path()
			}
			rc.fail(&os.PathError{Op: "write", Path: path, Err: errors.New(string(msg))})
		case frameDone:
			rc.stop()
		default:
			rc.log(fmt.Sprintf("the trace stream is damaged: unknown frame %q", kind))
			rc.endOfStream()
			return
		}
	}
}

// data copies n bytes of trace into the current file, opening it first.
// After a write error it keeps reading, so the program never blocks on a
// full pipe, and drops what it reads.
func (rc *receiver) data(n int64) error {
	if rc.err == nil && rc.cur == nil {
		rc.open()
	}
	for n > 0 {
		// N.B. The bytes are written from the reader's own buffer, as
		// they came from the pipe: no copy in between.
		if rc.in.Buffered() == 0 {
			if _, err := rc.in.Peek(1); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		chunk, _ := rc.in.Peek(int(min(n, int64(rc.in.Buffered()))))
		rc.bytes.Add(int64(len(chunk)))
		if rc.gens != nil {
			rc.gens.Write(chunk)
		}
		if rc.cur != nil {
			if _, werr := rc.cur.Write(chunk); werr != nil {
				rc.fail(werr)
			}
		}
		rc.in.Discard(len(chunk))
		n -= int64(len(chunk))
	}
	return nil
}

func (rc *receiver) open() {
	path := rc.dest
	if rc.flight {
		rc.snapshot++
		path = numbered(rc.dest, rc.snapshot)
	}
	f, err := createOutput(path)
	if err != nil {
		rc.fail(err)
		return
	}
	rc.cur = f
}

func (rc *receiver) fail(err error) {
	if rc.cur != nil {
		rc.cur.Abort()
		rc.cur = nil
	}
	if rc.err == nil {
		rc.err = writeError(err)
	}
}

// WriteError is a trace that could not be written: the disk is full, the
// file system failed. Nothing is left at the destination (a device or a
// pipe keeps what reached it).
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

func writeError(err error) *WriteError {
	return &WriteError{fmt.Errorf("writing the trace: %w", err)}
}

// commit ends the current file: the shim said it is complete.
func (rc *receiver) commit() {
	if rc.cur == nil {
		return
	}
	f := rc.cur
	rc.cur = nil
	size := rc.size(f)
	if err := f.Commit(); err != nil {
		rc.fail(err)
		return
	}
	rc.add(Trace{Path: f.Path(), Size: size})
}

// add notes a finished file, and tells of it at once: a flight recorder
// snapshot is news while the program goes on.
func (rc *receiver) add(t Trace) {
	rc.traces = append(rc.traces, t)
	if rc.written != nil {
		rc.written(t)
	}
}

// endOfStream handles the pipe ending: a file still open was cut short.
func (rc *receiver) endOfStream() {
	if rc.cur == nil {
		return
	}
	f := rc.cur
	rc.cur = nil
	received := rc.size(f)
	if f == rc.direct && received == 0 {
		f.Abort() // the tracer never started: nothing to keep
		return
	}
	if f.InPlace() {
		f.Commit()
		rc.log(fmt.Sprintf("the trace was cut short: the program ended without stopping the tracer; %s is not a regular file, so it has all %d bytes received, the last generation incomplete", f.Path(), received))
		rc.add(Trace{Path: f.Path(), Size: received, CutShort: true, Received: received})
		return
	}
	kept, gens, err := f.salvage()
	if err != nil {
		switch {
		case rc.err != nil:
		case errors.Is(err, errNothingComplete):
			rc.err = fmt.Errorf("the trace was cut short: the program ended without stopping the tracer before any generation was complete; %d bytes traced, %s not written", received, f.Path())
		default:
			rc.err = &WriteError{fmt.Errorf("the trace was cut short, and cutting %s back to its complete generations failed: %w; %d bytes traced, not written", f.Path(), err, received)}
		}
		return
	}
	rc.log(describeCut(f.Path(), kept, gens, received))
	rc.add(Trace{Path: f.Path(), Size: kept, CutShort: true, Received: received})
}

// numbered names the n-th flight recorder snapshot: prog.trace → prog.1.trace.
func numbered(dest string, n int) string {
	if base, ok := strings.CutSuffix(dest, ".trace"); ok {
		return base + "." + strconv.Itoa(n) + ".trace"
	}
	return dest + "." + strconv.Itoa(n)
}

// genCounter follows the batch headers of a trace stream to count its
// generations for the progress line. It reads headers only and gives up
// quietly on anything it does not understand.
type genCounter struct {
	mu      sync.Mutex
	header  int    // header bytes still to skip
	skip    uint64 // batch bytes still to skip
	pending []byte // an incomplete batch header
	broken  bool
	first   uint64
	last    uint64
	seen    bool
	started bool
}

func (c *genCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	if !c.started {
		c.started = true
		c.header = format.HeaderSize
	}
	for len(p) > 0 && !c.broken {
		if c.header > 0 {
			k := min(c.header, len(p))
			c.header -= k
			p = p[k:]
			continue
		}
		if c.skip > 0 {
			k := min(c.skip, uint64(len(p)))
			c.skip -= k
			p = p[k:]
			continue
		}
		c.pending = append(c.pending, p[0])
		p = p[1:]
		c.parse()
	}
	return n, nil
}

// parse looks at the pending header bytes and, once they make a whole
// batch header, notes its generation and skips its data.
func (c *genCounter) parse() {
	b := c.pending
	var nargs, genArg int
	switch format.EventType(b[0]) {
	case format.EvEndOfGeneration:
		c.pending = c.pending[:0]
		return
	case format.EvEventBatch:
		nargs, genArg = 4, 0 // gen, m, time, size
	case format.EvExperimentalBatch:
		nargs, genArg = 5, 1 // exp, gen, m, time, size
	default:
		c.broken = true
		return
	}
	var args [5]uint64
	off := 1
	for i := range nargs {
		v, k := format.Uvarint(b[off:])
		if k == 0 {
			if len(b) > 1+nargs*format.MaxVarintLen {
				c.broken = true
			}
			return // need more bytes
		}
		if k < 0 {
			c.broken = true
			return
		}
		args[i] = v
		off += k
	}
	gen := args[genArg]
	if !c.seen || gen < c.first {
		c.first = gen
	}
	if !c.seen || gen > c.last {
		c.last = gen
	}
	c.seen = true
	c.skip = args[nargs-1]
	c.pending = c.pending[:0]
}

// skipAhead passes over up to max bytes of a batch body without their
// being written, and returns how many; 0 when a header comes next.
func (c *genCounter) skipAhead(max uint64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started || c.broken {
		return 0
	}
	k := min(c.skip, max)
	c.skip -= k
	return k
}

// count returns the number of generations seen so far.
func (c *genCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.seen {
		return 0
	}
	return int(c.last-c.first) + 1
}
