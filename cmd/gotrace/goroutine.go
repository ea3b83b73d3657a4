package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/spf13/cobra"
	"golang.org/x/exp/trace"
)

type goroutineOptions struct {
	IO *Streams

	File       string
	ID         string
	JSON       bool
	NDJSON     bool
	Markdown   bool
	Stacks     int
	FullStacks bool
}

func newGoroutineCmd(io *Streams, runF func(*goroutineOptions) error) *cobra.Command {
	opts := &goroutineOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "goroutine [flags] FILE ID[.N]",
		Short: "Show one goroutine's life: every state it was in, who woke it, what it did",
		Long: strings.TrimSpace(`
goroutine shows the life of one goroutine: its totals (as gotrace
goroutines has them, blocked time by category too), when and where its
creator created it, when it ended or the state it was in at the end; then
every interval of it in order, with its start (from the trace's start, and
on the wall clock where the trace has a clock snapshot, Go 1.25 and later),
its duration, state, the runtime's reason for a wait and the stack where it
entered the state; for each wait, the goroutine that made it runnable and
where that goroutine was. Then the regions and tasks it ran in, the logs it
wrote and the goroutines it created.

A goroutine ID the runtime reused names several goroutines, listed by
gotrace goroutines as ID, ID.1, ID.2: ID shows each of them, ID.N the one.
gotrace first maps the trace (one pass over its events, without
golang.org/x/exp/trace), then reads only the generations in which the ID
appears. --json writes schema gotrace.goroutine/v1; --ndjson streams the
intervals, one JSON object a line.`),
		Example: `  gotrace goroutine app.trace 1
  gotrace goroutine --full-stacks app.trace 1
  gotrace goroutine --ndjson app.trace 1 | jq -c 'select(.state == "blocked")'`,
		Args: twoArgs("goroutine needs a trace file and a goroutine ID: gotrace goroutine FILE ID[.N]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File, opts.ID = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return runGoroutine(opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.JSON, "json", false, "write JSON (schema gotrace.goroutine/v1)")
	f.BoolVar(&opts.NDJSON, "ndjson", false, "write the intervals as NDJSON, one object a line")
	f.BoolVar(&opts.Markdown, "markdown", false, "write Markdown, for a pull request")
	stackFlags(cmd, &opts.Stacks, &opts.FullStacks)
	return cmd
}

// twoArgs is the argument check of a command that reads a trace file and
// one more argument: msg says what it wants.
func twoArgs(msg string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 2 {
			return usagef("%s", msg)
		}
		return nil
	}
}

// stackFlags adds to cmd the flags that say how much of each stack the
// text shows.
func stackFlags(cmd *cobra.Command, stacks *int, full *bool) {
	f := cmd.Flags()
	f.IntVar(stacks, "stacks", 2, "show `N` innermost frames of each stack in the text, then its first frame in the program's own code")
	f.BoolVar(full, "full-stacks", false, "show every frame of each stack in the text")
}

var goroutineIDRE = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?$`)

// parseGoroutineID reads ID or ID.N: the goroutine ID and the incarnation,
// -1 for all of them.
func parseGoroutineID(s string) (trace.GoID, int, error) {
	m := goroutineIDRE.FindStringSubmatch(s)
	bad := usagef("goroutine ID %q: want a number, or ID.N for the goroutine the ID named Nth (as gotrace goroutines lists them)", s)
	if m == nil {
		return 0, 0, bad
	}
	id, err := strconv.ParseUint(m[1], 10, 63)
	if err != nil {
		return 0, 0, bad
	}
	seq := -1
	if m[2] != "" {
		if seq, err = strconv.Atoi(m[2]); err != nil {
			return 0, 0, bad
		}
	}
	return trace.GoID(id), seq, nil
}

func runGoroutine(opts *goroutineOptions) error {
	if opts.NDJSON && (opts.JSON || opts.Markdown) {
		return usagef("--ndjson is an output of its own: not with --json or --markdown")
	}
	mode, err := outputMode(opts.IO, opts.JSON, opts.Markdown)
	if err != nil {
		return err
	}
	id, seq, err := parseGoroutineID(opts.ID)
	if err != nil {
		return err
	}
	if opts.Stacks < 0 {
		return usagef("--stacks %d: want 0 or more", opts.Stacks)
	}
	in, ix, err := openIndexed(opts.File, drill.IndexOptions{Actors: true})
	if err != nil {
		return err
	}
	defer in.Close()
	ctx, stop := onInterrupt()
	defer stop()
	defer softMemoryLimit(opts.IO, drillMemoryLimit)()
	lives, err := drill.Lives(ctx, in, ix, id, seq)
	if ctx.Err() != nil {
		return interrupted("nothing written")
	}
	if err != nil {
		if errors.Is(err, drill.ErrNoGoroutine) && ix.Err != nil {
			return damagedIndex(opts.File, ix.Err, err)
		}
		return fmt.Errorf("%s: %w", opts.File, err)
	}
	if opts.NDJSON {
		err = report.LivesNDJSON(opts.IO.Out, opts.File, int64(id), lives)
	} else {
		err = report.Lives(opts.IO.Out, opts.File, opts.ID, int64(id), lives, report.Options{Mode: mode, Width: opts.IO.Width},
			report.StackOptions{Frames: opts.Stacks, Full: opts.FullStacks})
	}
	if err != nil {
		return err
	}
	if ix.Err != nil {
		return damagedIndex(opts.File, ix.Err, nil)
	}
	return nil
}

// openIndexed opens the trace at path and maps it (drill.BuildIndex), for
// a command that reads only the parts it needs.
func openIndexed(path string, opts drill.IndexOptions) (*os.File, *drill.Index, error) {
	f, err := openTrace(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, pathError(path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(path, "this command reads the parts of a trace it needs, from a file")
	}
	ix, err := drill.BuildIndex(f, fi.Size(), opts)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, ix, nil
}

// damagedIndex is the error for a trace damaged after its complete
// generations, which were all that was read; what, when not nil, is what
// was not found in them.
func damagedIndex(path string, damage, what error) error {
	if what != nil {
		return fmt.Errorf("%w: %s: %s; %v in the complete generations before it", timeline.ErrDamaged, path, damage, what)
	}
	return fmt.Errorf("%w: %s: %s; the answer holds the complete generations before it", timeline.ErrDamaged, path, damage)
}
