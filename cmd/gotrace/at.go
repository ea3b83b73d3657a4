package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/spf13/cobra"
)

type atOptions struct {
	IO *Streams

	File       string
	T          string
	Top        int
	Lookback   int
	JSON       bool
	Markdown   bool
	Stacks     int
	FullStacks bool
}

func newAtCmd(io *Streams, runF func(*atOptions) error) *cobra.Command {
	opts := &atOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "at [flags] FILE T",
		Short: "Show the world at one instant: what each P ran, where every goroutine was",
		Long: strings.TrimSpace(`
at shows the state of the program at instant T of its trace: the goroutine
each P was running (or idle), the goroutines runnable and for how long
already, those blocked, on what (the runtime's reason, its category, the
stack) and since when, those in system calls, and whether a GC mark phase
or a stop-the-world pause was on.

T is a duration from the trace's start (350ms, 1.5s), or a time on the
wall clock where the trace has a clock snapshot (Go 1.25 and later):
2026-12-07T05:18:19.123Z, or a time of day in UTC on the trace's date,
05:18:19.123.

gotrace maps the trace by its batch headers, then reads only the
generation holding T, and, for the goroutines already in their state when
it began, up to --lookback generations before it (1 by default, about a
second of the program's life): where each entered its state, since when,
and why it waits. A state older than the generations read is shown as
since at most the earliest one's start (≤+1.00s) and for at least that
long (≥350ms), its reason unknown. --top bounds the goroutines the text
shows in each state; --json (schema gotrace.at/v1) has them all.`),
		Example: `  gotrace at app.trace 500ms
  gotrace at --top 0 --full-stacks app.trace 500ms
  gotrace at --json app.trace 500ms | jq '.blocked[] | select(.category == "mutex") | .id'`,
		Args: twoArgs("at needs a trace file and an instant: gotrace at FILE T"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File, opts.T = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return runAt(opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Top, "top", 20, "goroutines to show in each state (`N`; 0 for all); JSON has them all")
	f.IntVar(&opts.Lookback, "lookback", 1, "read up to `N` generations before T's to find since when and why goroutines were in their state")
	f.BoolVar(&opts.JSON, "json", false, "write JSON (schema gotrace.at/v1)")
	f.BoolVar(&opts.Markdown, "markdown", false, "write Markdown, for a pull request")
	stackFlags(cmd, &opts.Stacks, &opts.FullStacks)
	return cmd
}

// instant is a T argument: a duration from the trace's start, or a time on
// the wall clock (with a date, or a time of day on the trace's date).
type instant struct {
	offset    time.Duration
	wall      time.Time
	isWall    bool
	timeOfDay bool
}

// wallLayouts are the wall-clock forms T takes, and whether each is a
// time of day.
var wallLayouts = []struct {
	layout    string
	timeOfDay bool
}{
	{time.RFC3339Nano, false},
	{"2006-01-02T15:04:05.999999999", false},
	{"15:04:05.999999999", true},
	{"15:04", true},
}

func parseInstant(s string) (instant, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return instant{offset: d}, nil
	}
	for _, l := range wallLayouts {
		if t, err := time.Parse(l.layout, s); err == nil {
			return instant{wall: t.UTC(), isWall: true, timeOfDay: l.timeOfDay}, nil
		}
	}
	return instant{}, usagef("instant %q: want a duration from the trace's start (350ms) or a wall-clock time (2026-12-07T05:18:19.123Z, or 05:18:19.123 in UTC)", s)
}

func runAt(opts *atOptions) error {
	mode, err := outputMode(opts.IO, opts.JSON, opts.Markdown)
	if err != nil {
		return err
	}
	if opts.Top < 0 {
		return usagef("--top %d: want 0 (all) or more", opts.Top)
	}
	if opts.Stacks < 0 {
		return usagef("--stacks %d: want 0 or more", opts.Stacks)
	}
	if opts.Lookback < 0 {
		return usagef("--lookback %d: want 0 or more", opts.Lookback)
	}
	at, err := parseInstant(opts.T)
	if err != nil {
		return err
	}
	in, ix, err := openIndexed(opts.File, drill.IndexOptions{})
	if err != nil {
		return err
	}
	defer in.Close()
	ctx, stop := onInterrupt()
	defer stop()
	defer softMemoryLimit(opts.IO, drillMemoryLimit)()
	if len(ix.Gens) == 0 {
		if ix.Err != nil {
			return fmt.Errorf("%s: %w", opts.File, ix.Err)
		}
		return fmt.Errorf("%s: the trace holds no generation, only its header", opts.File)
	}
	t := at.offset
	if at.isWall {
		c, freq := ix.Clock()
		if c == nil {
			return fmt.Errorf("%s: instant %s: the trace has no clock snapshot (Go 1.25 and later write one); give T as a duration from its start", opts.File, opts.T)
		}
		w := at.wall
		if at.timeOfDay {
			day := drill.WallClock(c, freq, ix.Start())
			w = time.Date(day.Year(), day.Month(), day.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
		}
		t = time.Duration(drill.TraceTime(c, freq, w) - ix.Start())
		if t < 0 || t > ix.Duration() {
			// N.B. Said on the clock it was asked on.
			err := fmt.Errorf("instant %s: %w, which runs from %s to %s", opts.T, drill.ErrOutside,
				drill.WallClock(c, freq, ix.Start()).Format(drill.WallLayout), drill.WallClock(c, freq, ix.End()).Format(drill.WallLayout))
			if ix.Err != nil {
				return damagedIndex(opts.File, ix.Err, err)
			}
			return fmt.Errorf("%s: %w", opts.File, err)
		}
	}
	world, err := drill.At(ctx, in, ix, t, opts.Lookback)
	if ctx.Err() != nil {
		return interrupted("nothing written")
	}
	if err != nil {
		if errors.Is(err, drill.ErrOutside) && ix.Err != nil {
			return damagedIndex(opts.File, ix.Err, err)
		}
		return fmt.Errorf("%s: %w", opts.File, err)
	}
	if err := report.At(opts.IO.Out, opts.File, opts.T, world, opts.Top, report.Options{Mode: mode, Width: opts.IO.Width},
		report.StackOptions{Frames: opts.Stacks, Full: opts.FullStacks}); err != nil {
		return err
	}
	if ix.Err != nil {
		return damagedIndex(opts.File, ix.Err, nil)
	}
	return nil
}
