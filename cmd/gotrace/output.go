package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/outfile"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// window is a --time FROM-TO flag: durations from the trace's start.
// To == 0 means the end of the trace.
type window struct{ From, To time.Duration }

// parseWindow reads FROM-TO, where either side may be empty: "100ms-2s",
// "1s-", "-500ms".
func parseWindow(s string) (window, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok || from == "" && to == "" {
		return window{}, usagef("--time %q: want FROM-TO, durations from the trace's start such as 100ms-2s", s)
	}
	var w window
	var err error
	if from != "" {
		if w.From, err = time.ParseDuration(from); err != nil || w.From < 0 {
			return window{}, usagef("--time %q: bad start %q: want a duration such as 100ms", s, from)
		}
	}
	if to != "" {
		if w.To, err = time.ParseDuration(to); err != nil || w.To <= 0 {
			return window{}, usagef("--time %q: bad end %q: want a positive duration such as 2s", s, to)
		}
		if w.To <= w.From {
			return window{}, usagef("--time %q: the end is not after the start", s)
		}
	}
	return w, nil
}

// genRange is a --gen N-M flag: generation numbers, inclusive. Last == 0
// means no upper bound.
type genRange struct{ First, Last uint64 }

// parseGenRange reads "N", "N-M", "N-" or "-M".
func parseGenRange(s string) (genRange, error) {
	bad := usagef("--gen %q: want N, N-M, N- or -M (generation numbers, from 1)", s)
	from, to, isRange := strings.Cut(s, "-")
	if !isRange {
		to = from
	}
	var g genRange
	var err error
	if from != "" {
		if g.First, err = strconv.ParseUint(from, 10, 64); err != nil || g.First == 0 {
			return genRange{}, bad
		}
	}
	if to != "" {
		if g.Last, err = strconv.ParseUint(to, 10, 64); err != nil || g.Last == 0 {
			return genRange{}, bad
		}
	}
	if from == "" && to == "" || g.Last != 0 && g.Last < g.First {
		return genRange{}, bad
	}
	return g, nil
}

// output is where a command writes its result: stdout, or a file written to
// a temporary name beside it and renamed into place on Commit, so a reader
// never sees half a file (devices and pipes, e.g. -o /dev/null, are written
// in place: see outfile).
type output struct {
	io.Writer
	file *outfile.File // nil for stdout
}

// createOutput opens path for writing ("" or "-": stdout). Binary output is
// refused when stdout is a terminal, and a path that names in, the trace
// being read (nil for stdin), before anything is written over it.
func createOutput(streams *Streams, path string, binary bool, in *os.File) (*output, error) {
	if path == "" || path == "-" {
		if binary && streams.OutTTY {
			return nil, usagef("refusing to write binary output to a terminal: use -o FILE or redirect stdout")
		}
		return &output{Writer: streams.Out}, nil
	}
	if in != nil {
		ofi, oerr := os.Stat(path)
		ifi, ierr := in.Stat()
		if oerr == nil && ierr == nil && os.SameFile(ofi, ifi) {
			return nil, fmt.Errorf("%s: is the trace being read: write the output elsewhere", path)
		}
	}
	f, err := outfile.Create(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	return &output{Writer: f, file: f}, nil
}

// Commit finishes the output: closes the file and renames it into place.
func (o *output) Commit() error {
	if o.file == nil {
		return nil
	}
	return o.file.Commit()
}

// Abort discards a file not committed; it is safe after Commit.
func (o *output) Abort() {
	if o.file != nil {
		o.file.Abort()
	}
}

// onInterrupt returns a context that SIGINT or SIGTERM cancels, for a
// command that reads a trace through interruptible: the read then fails, the
// command returns, and what it had not finished writing is removed by its
// deferred Abort.
var onInterrupt = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// interruptible reads from r (and seeks in it, if it can) until ctx is done.
type interruptible struct {
	ctx context.Context
	r   io.Reader
}

func (r interruptible) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// ReadAt lets an analysis read the file's generations on several
// goroutines.
func (r interruptible) ReadAt(p []byte, off int64) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	ra, ok := r.r.(io.ReaderAt)
	if !ok {
		return 0, errors.New("not seekable")
	}
	return ra.ReadAt(p, off)
}

func (r interruptible) Seek(offset int64, whence int) (int64, error) {
	s, ok := r.r.(io.Seeker)
	if !ok {
		return 0, errors.New("not seekable")
	}
	return s.Seek(offset, whence)
}

// interrupted is the error of a command stopped by a signal: exit status
// 130 (it is a context.Canceled), and a line saying what was written.
func interrupted(written string) error { return interruptError(written) }

type interruptError string

func (e interruptError) Error() string { return "interrupted; " + string(e) }
func (e interruptError) Unwrap() error { return context.Canceled }

// openTrace opens a trace file named on the command line, with an error that
// names it.
func openTrace(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory, want a trace file", path)
	}
	return f, nil
}

// regular reports whether f is a regular file. A named pipe, a terminal
// or a device cannot be read at offsets: the commands that stream read it
// as they read -, the others refuse it (notRegular).
func regular(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

// notRegular refuses path, which is not a regular file, saying why the
// command needs one.
func notRegular(path, why string) error {
	return fmt.Errorf("%s: not a regular file: %s", path, why)
}

// pathError says what went wrong with path in one line: "PATH: reason".
func pathError(path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", path, pe.Err)
	}
	return fmt.Errorf("%s: %v", path, err)
}

// describeDamage says what is wrong with the trace at path, which err, from
// golang.org/x/exp/trace, failed to read: where the wire decoder finds the
// damage, or else err, saying so when the trace just ends early.
func describeDamage(path string, err error) error {
	if where := locateDamage(path); where != nil {
		return where
	}
	return timeline.OldFormatError(err)
}

// locateDamage reads the trace at path with the wire decoder to say where it
// is damaged: the decoder's error names the byte offset, the generation and
// the batch, where golang.org/x/exp/trace's does not. It returns nil when the
// decoder finds nothing wrong.
func locateDamage(path string) error {
	if path == "-" {
		return nil // read once, and gone
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	r, err := decode.NewReader(bufio.NewReaderSize(f, 1<<20))
	if errors.Is(err, decode.ErrOldFormat) {
		return nil // N.B. the wire decoder reads no further: the reader's error stands
	}
	if err != nil {
		return err
	}
	r.SetDetail(decode.Counts)
	for {
		if _, err := r.Next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// progress shows how much of a file has been read, on one line of stderr
// that is rewritten as the percentage changes and cleared at the end; only
// when stderr is a terminal.
type progress struct {
	r      io.Reader
	out    io.Writer
	what   string
	size   int64
	n      int64
	shown  int64 // percentage last shown, -1 for none
	pass   int   // how many times the file was started over
	active bool
	mu     sync.Mutex // for ReadAt
}

// newProgress wraps f, whose size is known, for streams.
func newProgress(streams *Streams, what string, f *os.File) *progress {
	p := &progress{r: f, out: streams.ErrOut, what: what, shown: -1}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		p.size = fi.Size()
		p.active = streams.ErrTTY
	}
	return p
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.count(n)
	return n, err
}

func (p *progress) count(n int) {
	p.n += int64(n)
	if p.active {
		// N.B. Read by generations (ReadAt), each byte is read twice:
		// once to frame, once for the events.
		if pct := min(100*p.n/p.size, 100); pct != p.shown {
			p.shown = pct
			if p.pass > 0 {
				fmt.Fprintf(p.out, "\r\x1b[Kgotrace: %s (pass %d): %d%%", p.what, p.pass+1, pct)
			} else {
				fmt.Fprintf(p.out, "\r\x1b[Kgotrace: %s: %d%%", p.what, pct)
			}
		}
	}
}

// ReadAt reads at off, from any goroutine, and counts what it reads.
func (p *progress) ReadAt(b []byte, off int64) (int, error) {
	ra, ok := p.r.(io.ReaderAt)
	if !ok {
		return 0, errors.New("progress: not seekable")
	}
	n, err := ra.ReadAt(b, off)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count(n)
	return n, err
}

// reached shows that the file has been read to byte n, for a reader that
// does not read it through the progress.
func (p *progress) reached(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count(int(n - p.n))
}

// Seek lets a reader that reads the file twice start over; the count does
// too.
func (p *progress) Seek(offset int64, whence int) (int64, error) {
	s, ok := p.r.(io.Seeker)
	if !ok {
		return 0, errors.New("progress: not seekable")
	}
	off, err := s.Seek(offset, whence)
	p.n, p.shown = off, -1
	p.pass++
	return off, err
}

// done clears the line.
func (p *progress) done() {
	if p.active && p.shown >= 0 {
		fmt.Fprint(p.out, "\r\x1b[K")
	}
}
