package main

import (
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/spf13/cobra"
)

type goroutinesOptions struct {
	IO *Streams

	File       string
	Sort       string
	Name       string
	StateAtEnd string
	MinBlocked time.Duration
	Time       string
	Top        int
	JSON       bool
	Markdown   bool
}

func newGoroutinesCmd(io *Streams, runF func(*goroutinesOptions) error) *cobra.Command {
	opts := &goroutinesOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "goroutines [flags] FILE",
		Short: "List the goroutines of a trace, one row each, with their time in each state",
		Long: strings.TrimSpace(`
goroutines lists every goroutine of the trace, one row each: its ID, its
start function (as go tool trace names goroutines), whose it is (user,
runtime, tooling), when and by which goroutine it was created, when it
ended or the state it was in at the end, and its time running, runnable
(waiting for a P), blocked and in system calls. A goroutine that existed
before the trace is in the state its first status gives from the trace's
start. A goroutine ID the runtime reused names a new goroutine: its rows
are ID.1, ID.2 and so on. --json has the blocked time by category too
(schema gotrace.goroutines/v1).

The totals of a goroutine are those of go tool trace's goroutine pages
(/goroutine?name=), except that gotrace goes on counting a goroutine
blocked forever in select{} or on a nil channel.`),
		Example: `  gotrace goroutines app.trace
  gotrace goroutines --name 'main\.pipeline' --sort runnable app.trace
  gotrace goroutines --state-at-end blocked --min-blocked 1s app.trace
  gotrace goroutines --json --top 0 app.trace | jq '.goroutines[] | select(.kind == "user")'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runGoroutines(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Sort, "sort", drill.Sorts[0], "order by `KEY`: "+strings.Join(drill.Sorts, ", "))
	f.StringVar(&opts.Name, "name", "", "only goroutines whose start function matches the regular expression `RE`")
	f.StringVar(&opts.StateAtEnd, "state-at-end", "", "only goroutines in `STATE` at the end: "+strings.Join(drill.States, ", "))
	f.DurationVar(&opts.MinBlocked, "min-blocked", 0, "only goroutines blocked for `D` or more in all")
	f.StringVar(&opts.Time, "time", "", "only goroutines alive in the window `FROM-TO` (durations from the trace's start)")
	f.IntVar(&opts.Top, "top", 20, "rows to show (`N`; 0 for all)")
	f.BoolVar(&opts.JSON, "json", false, "write JSON (schema gotrace.goroutines/v1)")
	f.BoolVar(&opts.Markdown, "markdown", false, "write Markdown, for a pull request")
	cmd.RegisterFlagCompletionFunc("sort", cobra.FixedCompletions(drill.Sorts, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("state-at-end", cobra.FixedCompletions(drill.States, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runGoroutines(opts *goroutinesOptions) error {
	mode, err := outputMode(opts.IO, opts.JSON, opts.Markdown)
	if err != nil {
		return err
	}
	f := drill.Filter{Sort: opts.Sort, StateAtEnd: opts.StateAtEnd, MinBlocked: opts.MinBlocked}
	if !slices.Contains(drill.Sorts, opts.Sort) {
		return usagef("--sort %q: want one of %s", opts.Sort, strings.Join(drill.Sorts, ", "))
	}
	if f.StateAtEnd != "" && !slices.Contains(drill.States, f.StateAtEnd) {
		return usagef("--state-at-end %q: want one of %s", f.StateAtEnd, strings.Join(drill.States, ", "))
	}
	if opts.Top < 0 {
		return usagef("--top %d: want 0 (all) or more", opts.Top)
	}
	if opts.Name != "" {
		if f.Name, err = regexp.Compile(opts.Name); err != nil {
			return usagef("--name %q: %v", opts.Name, err)
		}
	}
	if opts.Time != "" {
		w, err := parseWindow(opts.Time)
		if err != nil {
			return err
		}
		f.From, f.To = w.From, w.To
	}
	// N.B. The limit holds while the list is written too: the garbage of
	// reading is still there as the writing begins, and a list of every
	// goroutine is read back and drawn for seconds.
	defer softMemoryLimit(opts.IO, partsMemoryLimit)()
	l, damage, err := readDrill(opts.IO, opts.File, "the list holds", func(ctx context.Context, r io.Reader, at io.ReaderAt) (*drill.GoroutineList, error) {
		return drill.GoroutinesAt(ctx, r, at, f, opts.Top)
	})
	if err != nil {
		return err
	}
	defer l.Close()
	if err := report.Goroutines(opts.IO.Out, opts.File, l, report.Options{Mode: mode, Width: opts.IO.Width}); err != nil {
		return err
	}
	return damage
}
