package record

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gotrace-cli/gotrace/internal/decode"
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
	defer rc.gens.endFile(true)
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
			if rc.direct == nil {
				rc.gens.endFile(false) // a flight recorder's next snapshot is a trace of its own
			}
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

// genCounter counts the generations of the trace stream for the progress
// line, as its bytes arrive. It frames them with decode.Framer, so it counts
// what every reader of the trace will: a generation from its first batch
// on, and nothing from the first damage on (a generation number that jumps
// or goes back, bytes that are no batch), where it stops quietly. It reads
// headers only: batch bodies are dropped as they arrive, and skipAhead
// passes over them without their being read at all. A flight recorder
// writes one trace after another: endFile ends one, and the count goes on
// with the next, until the last.
type genCounter struct {
	mu      sync.Mutex
	before  int        // generations of the traces ended
	damaged bool       // one of them stopped at damage
	cur     *genFramer // the trace being written, nil before its first byte
	closed  bool
}

func (c *genCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return len(p), nil
	}
	if c.cur == nil {
		c.cur = newGenFramer()
	}
	c.cur.write(p)
	return len(p), nil
}

// skipAhead passes over up to max bytes of a batch body without their
// being written, and returns how many; 0 when a header comes next.
func (c *genCounter) skipAhead(max uint64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.cur == nil || c.cur.stopped {
		return 0
	}
	k := min(c.cur.skip, max)
	c.cur.skip -= k
	return k
}

// count returns the number of generations seen so far.
func (c *genCounter) count() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.before
	if c.cur != nil {
		n += c.cur.gens
	}
	return n
}

// broken says the count stopped at damage, in this trace or one before.
func (c *genCounter) broken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.damaged || c.cur != nil && c.cur.broken
}

// endFile ends the trace being written: what comes next is another one,
// or nothing at all when the stream is over (last).
func (c *genCounter) endFile(last bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil {
		c.cur.end()
		c.before += c.cur.gens
		c.damaged = c.damaged || c.cur.broken
		c.cur = nil
	}
	c.closed = c.closed || last
}

// genFramer frames one trace for a genCounter. The decode.Framer runs as a
// coroutine that write resumes: it is the decode.FrameSource, and when it
// wants bytes that have not arrived, it waits for the next write.
type genFramer struct {
	buf  []byte // bytes arrived and not consumed: buf[r:]
	r    int
	skip uint64 // bytes to drop as they arrive, the rest of a batch body
	eof  bool

	gens int    // generations seen
	last uint64 // number of the last

	// stopped: the framer ended, at the end of the trace or at damage
	// (broken), and nothing more is counted.
	stopped, broken bool

	yield  func(struct{}) bool
	resume func() (struct{}, bool)
	stop   func()
}

func newGenFramer() *genFramer {
	g := new(genFramer)
	g.resume, g.stop = iter.Pull(g.frame)
	return g
}

// frame is the coroutine.
func (g *genFramer) frame(yield func(struct{}) bool) {
	g.yield = yield
	defer func() { g.stopped = true }()
	fr, _ := framer(g)
	if fr == nil {
		g.broken = true
		return
	}
	for {
		if _, err := fr.Next(g.batch); err != nil {
			g.broken = err != io.EOF
			return
		}
	}
}

func (g *genFramer) batch(b *decode.FramedBatch) {
	if b.Header == format.EvEndOfGeneration {
		return
	}
	if g.gens == 0 || b.Gen != g.last {
		g.gens++
		g.last = b.Gen
	}
}

// errNoMore is what Peek gives the framer when the count is ended before
// the trace is.
var errNoMore = errors.New("the count ended")

// Peek returns the next n bytes, waiting for them to arrive.
func (g *genFramer) Peek(n int) ([]byte, error) {
	for len(g.buf)-g.r < n && !g.eof {
		if !g.yield(struct{}{}) {
			return g.buf[g.r:], errNoMore
		}
	}
	if len(g.buf)-g.r < n {
		return g.buf[g.r:], io.EOF
	}
	return g.buf[g.r : g.r+n], nil
}

// Discard consumes n bytes: those that have arrived at once, the others
// as they arrive. N.B. So it says it discarded all of them, and a body cut
// short is found only at the end of the trace, as no more bytes.
func (g *genFramer) Discard(n int) (int, error) {
	k := min(n, len(g.buf)-g.r)
	g.r += k
	g.skip += uint64(n - k)
	return n, nil
}

// write hands p to the framer, a piece at a time, and lets it frame all it
// can.
func (g *genFramer) write(p []byte) {
	for len(p) > 0 && !g.stopped {
		k := min(g.skip, uint64(len(p)))
		g.skip -= k
		p = p[k:]
		n := min(len(p), framePiece)
		if n == 0 {
			return
		}
		// N.B. The framer has consumed all but the start of a header.
		g.buf = append(g.buf[:copy(g.buf, g.buf[g.r:])], p[:n]...)
		g.r = 0
		p = p[n:]
		g.resume()
	}
}

// framePiece is the most write copies for the framer at once: it keeps
// headers, not bodies.
const framePiece = 4 << 10

// end tells the framer the trace ends here, lets it count what it can, and
// releases it.
func (g *genFramer) end() {
	if !g.stopped {
		g.eof = true
		g.resume()
	}
	g.stop()
}
