package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// readDrill runs read, one of the drill-down answers, over the trace file
// (r reads it from its start, at at its offsets), interruptible and under
// the soft memory limit of the readings a generation per core. It
// returns what read found, the damage to report after writing it (holds
// says what the output holds: "the list holds"), and an error that ends
// the command at once.
func readDrill[T any](s *Streams, file, holds string, read func(ctx context.Context, r io.Reader, at io.ReaderAt) (T, error)) (v T, damage, err error) {
	in, err := openTrace(file)
	if err != nil {
		return v, nil, err
	}
	defer in.Close()
	var at io.ReaderAt = in
	if !regular(in) {
		at = nil // N.B. a pipe streams: read in one ordered pass
	}
	err = drillRun(s, partsMemoryLimit, func(ctx context.Context) (err error) {
		v, err = read(ctx, bufio.NewReaderSize(in, 1<<20), at)
		return err
	})
	switch {
	case err == nil:
		return v, nil, nil
	case errors.Is(err, context.Canceled):
		return v, nil, err
	case errors.Is(err, timeline.ErrDamaged):
		return v, damagedRead(file, err, "; "+holds+" the complete generations before it"), nil
	}
	return v, nil, fmt.Errorf("%s: %w", file, err)
}

// readIndexed runs read, a drill-down answer that reads one generation at
// a time or only those it needs, over the trace file and its index (drawn,
// with actors, with the goroutines and tasks in each generation; a trace
// in the old format, which has no generations, is read whole instead),
// interruptible and under the soft memory limit of the commands that hold
// one generation at a time. Damage after the complete
// generations the index holds is returned to report after the answer; an
// answer not found in a damaged trace says it looked only before the
// damage.
func readIndexed[T any](s *Streams, file string, actors bool, read func(context.Context, drill.TraceFile) (*T, error)) (v *T, damage, err error) {
	ix := &drill.Index{}
	err = drillRun(s, drillMemoryLimit, func(ctx context.Context) error {
		in, x, err := openIndexed(file, drill.IndexOptions{Actors: actors})
		var tf drill.TraceFile
		switch {
		case errors.Is(err, drill.ErrNotIndexable):
			if in, err = openTrace(file); err != nil {
				return err
			}
			fi, err := in.Stat()
			if err != nil {
				in.Close()
				return pathError(file, err)
			}
			tf = drill.TraceFile{R: in, Size: fi.Size()}
		case err != nil:
			return err
		default:
			ix, tf = x, drill.TraceFile{R: in, Size: x.Size, Index: x}
		}
		defer in.Close()
		v, err = read(ctx, tf)
		switch {
		case err == nil:
		case errors.Is(err, timeline.ErrDamaged) && v != nil:
			// Damage inside a generation the index took for whole:
			// the answer holds the generations read before it.
			damage = damagedRead(file, err, "; the answer holds the complete generations before it")
		default:
			return annotate(file, ix, err)
		}
		return nil
	})
	switch {
	case err != nil:
		return v, nil, err
	case damage != nil:
		return v, damage, nil
	case ix.Err != nil:
		return v, damagedIndex(file, ix.Err, nil), nil
	}
	return v, nil, nil
}

// annotate is err, from reading the trace file that ix maps, in one line:
// an answer not found in a damaged trace says it looked only before the
// damage.
func annotate(file string, ix *drill.Index, err error) error {
	if ix.Err != nil && (errors.Is(err, drill.ErrNotFound) || errors.Is(err, drill.ErrNoMatch)) {
		return damagedIndex(file, ix.Err, err)
	}
	if errors.Is(err, timeline.ErrDamaged) {
		return damagedRead(file, err, "")
	}
	return fmt.Errorf("%s: %w", file, err)
}

// damagedRead is err, damage found reading the trace file (wrapped in
// timeline.ErrDamaged), said as every command says it: that the trace is
// damaged, the file, where and what, then tail.
func damagedRead(file string, err error, tail string) error {
	return fmt.Errorf("%w: %s: %s%s", timeline.ErrDamaged, file, strings.TrimPrefix(err.Error(), timeline.ErrDamaged.Error()+": "), tail)
}

// drillRun runs fn interruptibly and under the soft memory limit given.
func drillRun(s *Streams, limit int64, fn func(context.Context) error) error {
	ctx, stop := onInterrupt()
	defer stop()
	defer softMemoryLimit(s, limit)()
	err := fn(ctx)
	if ctx.Err() != nil {
		return interrupted("nothing written")
	}
	return err
}
