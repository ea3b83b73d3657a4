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

// readDrill runs read, one of the drill-down answers, over the trace file,
// interruptible and under the timeline's memory limit. It returns what read
// found, the damage to report after writing it (holds says what the output
// holds: "the list holds"), and an error that ends the command at once.
func readDrill[T any](s *Streams, file, holds string, read func(context.Context, io.Reader) (T, error)) (v T, damage, err error) {
	in, err := openTrace(file)
	if err != nil {
		return v, nil, err
	}
	defer in.Close()
	err = drillRun(s, func(ctx context.Context) (err error) {
		v, err = read(ctx, bufio.NewReaderSize(in, 1<<20))
		return err
	})
	switch {
	case err == nil:
		return v, nil, nil
	case errors.Is(err, context.Canceled):
		return v, nil, err
	case errors.Is(err, timeline.ErrDamaged):
		return v, fmt.Errorf("%w: %s: %s; %s the complete generations before it",
			timeline.ErrDamaged, file, strings.TrimPrefix(err.Error(), timeline.ErrDamaged.Error()+": "), holds), nil
	}
	return v, nil, fmt.Errorf("%s: %w", file, err)
}

// readIndexed runs read, a drill-down answer that reads only the
// generations it needs, over the trace file and its index (drawn with the
// goroutines and tasks in each generation), interruptible and under the
// timeline's memory limit. Damage after the complete generations the
// index holds is returned to report after the answer; an answer not found
// in a damaged trace says it looked only before the damage.
func readIndexed[T any](s *Streams, file string, read func(context.Context, io.ReaderAt, *drill.Index) (T, error)) (v T, damage, err error) {
	var ix *drill.Index
	err = drillRun(s, func(ctx context.Context) error {
		in, x, err := openIndexed(file, drill.IndexOptions{Actors: true})
		if err != nil {
			return err
		}
		defer in.Close()
		ix = x
		if v, err = read(ctx, in, ix); err != nil {
			return annotate(file, ix, err)
		}
		return nil
	})
	switch {
	case err != nil:
		return v, nil, err
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
	return fmt.Errorf("%s: %w", file, err)
}

// drillRun runs fn interruptibly and under the timeline's memory limit.
func drillRun(s *Streams, fn func(context.Context) error) error {
	ctx, stop := onInterrupt()
	defer stop()
	defer softMemoryLimit(s, timelineMemoryLimit)()
	err := fn(ctx)
	if ctx.Err() != nil {
		return interrupted("nothing written")
	}
	return err
}
