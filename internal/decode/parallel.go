package decode

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"unsafe"

	"github.com/gotrace-cli/gotrace/internal/format"
)

// GenReader reads the events of the generation Parallel hands to one call
// of its function, as Reader.BatchEvents and Reader.EachEvent do for the
// generation Next returned. It is valid during that call only.
type GenReader struct {
	d *genDecoder // nil once the call returned
}

// BatchEvents is Reader.BatchEvents for g, the generation of this call.
func (gr *GenReader) BatchEvents(g *Generation, i int) ([]Event, error) {
	if gr.d == nil || g != &gr.d.g || i < 0 || i >= len(g.Batches) || i >= len(gr.d.batches) {
		return nil, fmt.Errorf("decode: BatchEvents(%d) of a generation that is not the current one", i)
	}
	return gr.d.batchEvents(i)
}

// EachEvent is Reader.EachEvent for g, the generation of this call.
func (gr *GenReader) EachEvent(g *Generation, i int, fn func(*Event) error) error {
	if gr.d == nil || g != &gr.d.g || i < 0 || i >= len(g.Batches) || i >= len(gr.d.batches) {
		return fmt.Errorf("decode: EachEvent(%d) of a generation that is not the current one", i)
	}
	return gr.d.eachEvent(i, fn)
}

// BatchData returns the bytes of batch i's events as the input holds them,
// and the input offset of the first, for a reader that walks them itself;
// nil for a batch whose events are decoded already (a table batch) or
// that has none (an experimental batch). They are valid during this call
// only, as the rest of g.
func (gr *GenReader) BatchData(g *Generation, i int) ([]byte, int64, error) {
	if gr.d == nil || g != &gr.d.g || i < 0 || i >= len(g.Batches) || i >= len(gr.d.batches) {
		return nil, 0, fmt.Errorf("decode: BatchData(%d) of a generation that is not the current one", i)
	}
	b := &g.Batches[i]
	if b.Events != nil || b.Header != format.EvEventBatch {
		return nil, 0, nil
	}
	bf := &gr.d.batches[i]
	return gr.d.buf[bf.lo:bf.hi], gr.d.base + int64(bf.lo), nil
}

// DropTables lets the decoder's tables of g go before the call returns,
// at Frames detail, for a caller that took what it needs of them and reads
// on in the batches' bytes (BatchData): afterwards g's Strings and Stacks
// are nil and its table batches have empty Events (not nil: they are
// still table batches). The decoder makes them anew for the next
// generation.
func (gr *GenReader) DropTables(g *Generation) {
	if gr.d == nil || g != &gr.d.g || gr.d.detail != Frames {
		return
	}
	d := gr.d
	for _, bi := range d.tableBatches {
		g.Batches[bi].Events = []Event{}
	}
	g.Strings, g.Stacks = nil, nil
	d.frames, d.stacks, d.stackEvents = nil, nil, nil
	d.cur.events, d.cur.args, d.cur.argChunk = nil, nil, nil
	d.sizedBy = 0
}

// Parallel reads the rest of the trace as a loop over Next would, with the
// Reader's Detail, decoding up to workers generations at once (GOMAXPROCS
// when workers < 1), and calls fn with each generation and a GenReader for
// its events.
//
// fn runs concurrently for different generations, on the workers'
// goroutines, so what it shares needs a lock or a slot per generation
// (Generation.Num); it must not call the Reader's methods. The Generation,
// the GenReader and everything they lend are valid until fn returns.
//
// The calling goroutine reads and frames generations while the workers
// decode them: at most one generation's bytes per worker are in memory at
// once, so memory grows with the largest generation and the number of
// workers, not with the file. When the input is a regular file (an
// *os.File, on Linux), the rest of it is mapped rather than read: each
// worker decodes its generation where it lies, and drops its pages once
// fn returned. The file must not shrink meanwhile; if it does, the bytes
// that went give an error wrapping io.ErrUnexpectedEOF.
//
// Parallel returns nil at a clean end of the input. Errors come as from a
// loop over Next: when a generation is damaged, or fn returns an error for
// it, Parallel returns that error once fn has returned for every generation
// before it. fn is never called for a generation after damage that Next
// would have reported, but it may already have been called, concurrently,
// for generations after one whose fn (or its EachEvent) fails. The Reader
// is done afterwards: Next returns io.EOF or the same error, and Offset
// says where such a loop would have stopped. When fn panics, Parallel
// panics with the same value once the workers stopped.
func (r *Reader) Parallel(workers int, fn func(gr *GenReader, g *Generation) error) error {
	if r.err != nil {
		if r.err == io.EOF {
			return nil
		}
		return r.err
	}
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &parallel{r: r, fn: fn, errSeq: -1}
	jobs := make(chan *genJob)
	p.free = make(chan *genDecoder, workers)
	for range workers {
		p.free <- &genDecoder{evTable: &r.evTable, detail: r.detail}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				p.run(j)
			}
		})
	}
	n, ferr := p.frameAll(jobs)
	close(jobs)
	wg.Wait()
	if p.mapping != nil {
		r.buf, r.end = nil, 0
		unmapFile(p.mapping)
	}
	if ferr != nil {
		p.record(n, ferr, false)
	}
	if p.panicked != nil {
		r.fail(errPanicked)
		panic(p.panicked.v)
	}
	err := p.err
	if err == nil {
		err = io.EOF
	}
	r.fail(err)
	if err == io.EOF {
		return nil
	}
	// Offset is the end of the last generation handed to fn, as after
	// a loop over Next, not of the last one framed.
	last := p.errSeq
	if !p.errHanded {
		last--
	}
	r.base, r.pos = p.start, 0
	if last >= 0 {
		r.base = p.ends[last]
	}
	return err
}

// parallel is the state of one call to Parallel.
type parallel struct {
	r    *Reader
	fn   func(*GenReader, *Generation) error
	free chan *genDecoder // decoders not in use, with the bytes of the generation they last held

	mu        sync.Mutex
	errSeq    int     // sequence number of the earliest generation that failed, -1 when none
	err       error   // its error
	errHanded bool    // whether that generation was handed to fn
	start     int64   // input offset where Parallel started
	ends      []int64 // input offset where each generation handed to a worker ends
	panicked  *panicValue

	// mapping maps the input file from input offset mapBase to the
	// file's end when Parallel reads it that way, else nil.
	mapping []byte
	mapBase int64
}

// panicValue is what a call of fn panicked with, passed on to the
// goroutine that called Parallel.
type panicValue struct{ v any }

var errPanicked = errors.New("decode: a function Parallel called panicked")

// genJob is one generation handed to a worker.
type genJob struct {
	seq   int    // 0 for the first generation Parallel frames
	gen   uint64 // its number
	d     *genDecoder
	prev  *genJob       // the generation before, nil for the first
	ready chan struct{} // closed once ok is known
	ok    bool          // this generation and every one before it decoded
}

// record keeps err if it is the earliest so far; handed says whether
// fn was called with its generation.
func (p *parallel) record(seq int, err error, handed bool) {
	p.mu.Lock()
	if p.errSeq < 0 || seq < p.errSeq {
		p.errSeq, p.err, p.errHanded = seq, err, handed
	}
	p.mu.Unlock()
}

// failedBefore reports whether a generation before seq (or seq itself)
// failed.
func (p *parallel) failedBefore(seq int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errSeq >= 0 && p.errSeq <= seq
}

// failed reports whether any generation failed.
func (p *parallel) failed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errSeq >= 0
}

// frameAll frames generation after generation and hands each to a free
// decoder. It returns the number of generations it handed over and the
// error that stopped it (nil at a clean end or when a worker failed).
//
// 1. The Reader frames into the buffer of a free decoder, as Next does
// into its own; waiting for a free decoder bounds the generations in
// memory to one per worker.
// 2. The buffer then holds the generation and the few bytes of input the
// last read brought after it (fill reads little past what it needs); those
// wait in carry for the next buffer.
// 3. A buffer smaller than the largest generation so far is replaced
// before use, so each buffer grows at most once or twice; the first one
// grows as Next's does (see fill), but doubling when it cannot know the
// input's size.
// 4. When the rest of the input is mapped (see mapRest), there are no
// buffers and no carry: the Reader frames over the mapping, and each
// decoder gets the generation's part of it.
func (p *parallel) frameAll(jobs chan<- *genJob) (seq int, err error) {
	r := p.r
	// The Reader's own buffer holds what it read past the last
	// generation Next returned.
	r.compact()
	p.start = r.base
	if p.mapRest() {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer p.faulted(&err)
	}
	var carry []byte
	if !r.mapped {
		carry = append([]byte(nil), r.buf[:r.end]...)
		r.buf = nil
		r.double = true
	}
	var prev *genJob
	var peek []byte
	largest := 0
	for ; ; seq++ {
		d := <-p.free
		if p.failed() {
			p.free <- d
			return seq, nil
		}
		if !r.mapped {
			if len(carry) == 0 && r.rerr == nil {
				// N.B. A little read first, into a small buffer of
				// its own: at the end of the input, a buffer for
				// another generation would be made, and its pages
				// touched, for nothing (a file of one generation, a
				// part).
				if peek == nil {
					peek = make([]byte, minBuffer)
				}
				r.buf, r.pos, r.end = peek, 0, 0
				r.fill(1)
				carry = append(carry[:0], r.buf[:r.end]...)
				r.buf, r.end = nil, 0
			}
			nb := d.buf[:cap(d.buf)]
			want := max(largest+largest/8+minRead, len(carry), minBuffer)
			if len(carry) == 0 && r.rerr != nil {
				want = 0 // nothing more to frame
			}
			if len(nb) < want {
				nb, d.buf = nil, nil // dropped before its successor is made
				nb = make([]byte, want)
			}
			r.buf, r.pos, r.end = nb, 0, copy(nb, carry)
		}
		end, err := r.frame()
		if err != nil || end < 0 {
			p.free <- d
			return seq, err
		}
		largest = max(largest, end)
		d.buf, d.base, d.detail = r.buf[:end], r.base, r.detail
		d.batches, r.gd.batches = r.gd.batches, d.batches[:0]
		if r.mapped {
			r.buf, r.base, r.end = r.buf[end:], r.base+int64(end), r.end-end
		} else {
			carry = append(carry[:0], r.buf[end:r.end]...)
			r.buf, r.base, r.end = nil, r.base+int64(end), 0
		}
		p.ends = append(p.ends, r.base)
		num, _ := d.genOf(0)
		j := &genJob{seq: seq, gen: num, d: d, prev: prev, ready: make(chan struct{})}
		jobs <- j
		prev = j
	}
}

// run decodes a job's generation and calls fn with it, once every
// generation before it decoded.
func (p *parallel) run(j *genJob) {
	d := j.d
	ready, handed := false, false
	if p.mapping != nil {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	}
	defer func() {
		if p.mapping != nil {
			dropPages(p.mapping, d.base-p.mapBase, d.base-p.mapBase+int64(len(d.buf)))
			d.buf = nil
		}
		p.free <- d
	}()
	defer func() {
		if v := recover(); v != nil {
			if off, ok := p.faultOffset(v); ok {
				p.record(j.seq, &Error{Offset: off, Gen: j.gen, Batch: -1, Err: errShrank}, handed)
			} else {
				p.mu.Lock()
				if p.panicked == nil {
					p.panicked = &panicValue{v}
				}
				p.mu.Unlock()
				p.record(j.seq, errPanicked, true) // stops the framing and later calls
			}
			if !ready {
				close(j.ready) // the next generation waits for it; ok is false
			}
		}
	}()
	g, err := d.decode()
	ok := err == nil
	if j.prev != nil {
		<-j.prev.ready
		ok = ok && j.prev.ok
	}
	j.ok, ready = ok, true
	close(j.ready)
	if err != nil {
		p.record(j.seq, err, false)
		return
	}
	if !j.ok || p.failedBefore(j.seq) {
		return
	}
	gr := &GenReader{d: d}
	defer func() { gr.d = nil }() // even when fn panics
	handed = true
	err = p.fn(gr, g)
	if err != nil {
		p.record(j.seq, err, true)
	}
}

// errShrank is a mapped input file that lost bytes while it was read.
var errShrank = fmt.Errorf("the file shrank while it was read: %w", io.ErrUnexpectedEOF)

// mapRest maps the rest of the input, when it is a regular file and the
// system can, so that frameAll frames the generations where they lie and
// hands each worker its part of the mapping: nothing is copied, and a page
// costs one touch. Workers drop their generation's pages from the resident
// set once done with it, so memory still grows with the largest
// generation, not the file.
func (p *parallel) mapRest() bool {
	r := p.r
	if r.file == nil || r.rerr != nil {
		return false
	}
	fi, err := r.file.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	from := r.origin + r.base // file offset of buf[0]
	size := fi.Size()
	if size <= from+int64(r.end) {
		return false // nothing left to read
	}
	at := from &^ (pageSize - 1)
	m, err := mapFile(r.file, at, size-at)
	if err != nil {
		return false
	}
	p.mapping, p.mapBase = m, at-r.origin
	r.buf = m[from-at:]
	r.pos, r.end, r.rerr, r.hint, r.mapped = 0, len(r.buf), io.EOF, 0, true
	return true
}

// faultOffset returns the input offset of a fault that v, a recovered
// panic value, reports inside the mapping: the file shrank under it.
func (p *parallel) faultOffset(v any) (int64, bool) {
	e, ok := v.(interface{ Addr() uintptr })
	if !ok || p.mapping == nil {
		return 0, false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(p.mapping)))
	a := e.Addr()
	if a < lo || a-lo >= uintptr(len(p.mapping)) {
		return 0, false
	}
	return p.mapBase + int64(a-lo), true
}

// faulted turns a fault in the mapping while frameAll frames into the
// error it returns; other panics go on.
func (p *parallel) faulted(err *error) {
	v := recover()
	if v == nil {
		return
	}
	off, ok := p.faultOffset(v)
	if !ok {
		panic(v)
	}
	*err = p.r.fail(&Error{Offset: off, Gen: p.r.fr.last + 1, Batch: -1, Err: errShrank})
}
