// Package split cuts an execution trace into smaller traces that stand on
// their own. A generation carries everything needed to read it (its own
// frequency, clock, string and stack tables, and the state of every goroutine
// and P at its start), so a trace header followed by whole generations,
// copied byte for byte, is a valid trace.
package split

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// Options choose which generations to keep and how to group them in files.
type Options struct {
	// FirstGen and LastGen keep generations whose number is in
	// [FirstGen, LastGen]. Zero means no bound on that side.
	FirstGen, LastGen uint64
	// From and To keep generations that overlap the window, as durations
	// from the start of the trace's first generation. To == 0 means no end.
	From, To time.Duration
	// MaxSize, when positive, starts a new file before a generation would
	// make the current one larger than MaxSize bytes. A generation larger
	// than MaxSize on its own goes in a file by itself.
	MaxSize int64
	// PerGeneration puts every kept generation in its own file. Otherwise,
	// without MaxSize, every kept generation goes in one file.
	PerGeneration bool
}

// Part describes one file written.
type Part struct {
	Index             int    // 1-based, in order
	FirstGen, LastGen uint64 // generation numbers inside
	Generations       int    // how many generations
	Size              int64  // bytes, header included
	// Start and End are the part's first and last timestamps, as durations
	// from the start of the input's first generation.
	Start, End time.Duration
	// Oversized is set when the part is one generation larger than MaxSize.
	Oversized bool
}

// Sink receives the output: Create opens file number index (1-based) for
// writing, and the returned Commit makes it final. Abort discards it.
type Sink interface {
	Create(index int) (w io.Writer, commit func() error, abort func(), err error)
}

// Split reads the trace from r (decoding generation boundaries) and copies
// kept generations' bytes from src, which must read the same bytes as r.
// It returns the parts written; on damage in the input, it returns the parts
// holding every whole generation before the damage together with the error.
// A trace without generations gives no parts and ErrNoGenerations.
func Split(r io.Reader, src io.ReaderAt, opts Options, sink Sink) ([]Part, error) {
	dr, err := decode.NewReader(r)
	if err != nil {
		return nil, err
	}
	dr.SetDetail(decode.Counts)
	header := format.AppendHeader(nil, dr.Version())

	var (
		parts  []Part
		cur    *Part
		w      io.Writer
		commit func() error
		abort  func()
		start  int64 = -1 // nanoseconds of the first generation's first timestamp
		seen   bool       // a generation was read
	)
	closeCur := func() error {
		if cur == nil {
			return nil
		}
		c := commit
		cur, w, commit, abort = nil, nil, nil, nil
		return c()
	}
	defer func() {
		if abort != nil {
			abort()
		}
	}()
	for {
		g, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if cerr := closeCur(); cerr != nil {
				return parts, cerr
			}
			return parts, err
		}
		seen = true
		if start < 0 {
			start = g.Nanos(g.MinTime)
		}
		gStart := time.Duration(g.Nanos(g.MinTime) - start)
		gEnd := time.Duration(g.Nanos(g.MaxTime) - start)
		if !opts.keep(g.Num, gStart, gEnd) {
			continue
		}
		size := g.End - g.Offset
		if cur != nil && (opts.PerGeneration || opts.MaxSize > 0 && cur.Size+size > opts.MaxSize) {
			if err := closeCur(); err != nil {
				return parts, err
			}
		}
		if cur == nil {
			parts = append(parts, Part{Index: len(parts) + 1, FirstGen: g.Num, Size: int64(len(header)), Start: gStart})
			cur = &parts[len(parts)-1]
			if w, commit, abort, err = sink.Create(cur.Index); err != nil {
				parts = parts[:len(parts)-1]
				cur = nil
				return parts, err
			}
			if _, err := w.Write(header); err != nil {
				return parts, err
			}
		}
		if _, err := io.Copy(w, io.NewSectionReader(src, g.Offset, size)); err != nil {
			return parts, fmt.Errorf("copying generation %d (bytes %d-%d): %w", g.Num, g.Offset, g.End, err)
		}
		cur.LastGen = g.Num
		cur.Generations++
		cur.Size += size
		cur.End = gEnd
		cur.Oversized = opts.MaxSize > 0 && cur.Size > opts.MaxSize
	}
	if err := closeCur(); err != nil {
		return parts, err
	}
	switch {
	case len(parts) > 0:
		return parts, nil
	case !seen:
		return nil, ErrNoGenerations
	}
	return nil, ErrNothingKept
}

var (
	// ErrNothingKept means the options selected no generation.
	ErrNothingKept = errors.New("no generation matches")
	// ErrNoGenerations means the trace holds none: a header alone. It
	// wraps ErrNothingKept, as no generation matches either.
	ErrNoGenerations = fmt.Errorf("the trace holds no generation, only its header: %w", ErrNothingKept)
)

func (o Options) keep(num uint64, start, end time.Duration) bool {
	if num < o.FirstGen || o.LastGen != 0 && num > o.LastGen {
		return false
	}
	if o.To > 0 && start > o.To || end < o.From {
		return false
	}
	return true
}
