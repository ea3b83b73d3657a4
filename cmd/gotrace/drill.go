package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// buffered reads a trace file in large reads.
func buffered(r io.Reader) io.Reader { return bufio.NewReaderSize(r, 1<<20) }

// readDrill runs read, one of the drill-down answers, over the trace file,
// interruptible and under the timeline's memory limit. It returns what read
// found, the damage to report after writing it (holds says what the output
// holds: "the list holds"), and an error that ends the command at once.
func readDrill[T any](s *Streams, file, holds string, read func(context.Context, io.ReadSeeker) (T, error)) (v T, damage, err error) {
	in, err := openTrace(file)
	if err != nil {
		return v, nil, err
	}
	defer in.Close()
	ctx, stop := onInterrupt()
	defer stop()
	defer softMemoryLimit(s, timelineMemoryLimit)()
	v, err = read(ctx, in)
	switch {
	case ctx.Err() != nil:
		return v, nil, interrupted("nothing written")
	case err == nil:
		return v, nil, nil
	case errors.Is(err, timeline.ErrDamaged):
		return v, fmt.Errorf("%w: %s: %s; %s the complete generations before it",
			timeline.ErrDamaged, file, strings.TrimPrefix(err.Error(), timeline.ErrDamaged.Error()+": "), holds), nil
	}
	return v, nil, fmt.Errorf("%s: %w", file, err)
}
