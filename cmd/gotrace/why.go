package main

import (
	"context"
	"io"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/spf13/cobra"
)

type whyOptions struct {
	IO *Streams

	File     string
	Task     string
	Slowest  string
	N        int
	Segments int
	Top      int
	JSON     bool
	Markdown bool
}

func newWhyCmd(io *Streams, runF func(*whyOptions) error) *cobra.Command {
	opts := &whyOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "why [flags] FILE (--task ID | --slowest TYPE)",
		Short: "Explain where a task's time went: its critical path",
		Long: strings.TrimSpace(`
why walks a task's critical path back from its end to its start and says
where its wall time went. While the task's goroutine ran, that is running
time (split by function where the trace has CPU samples, from gotrace record
--cpu); while it was runnable, scheduling wait; in a system call, the call.
When it waited on a channel, a select, a WaitGroup or a Cond and another
goroutine woke it, the wait is explained by what that goroutine did
meanwhile, and so on back: a request waiting on a channel fed by a worker
that waited for a mutex shows the mutex, in the worker's code. Mutex waits,
sleeps, network and the runtime's own waits are parts of their own. GC
assists and stop-the-world pauses are named. The parts add up to the task's
wall time to the nanosecond.

The output is a breakdown (category, what, time, share, and the user frame
where it happened) and the path itself as time-ordered segments. With
--slowest TYPE, the slowest task of that type, then the breakdown summed
over the --slowest-n slowest. --json writes schema gotrace.why/v1.`),
		Example: `  gotrace why --task 1 app.trace
  gotrace why --slowest demo --slowest-n 5 app.trace
  gotrace why --json --task 1 app.trace | jq '.breakdown[0]'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runWhy(opts, cmd.Flags().Changed("slowest-n"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Task, "task", "", "explain the task with `ID`")
	f.StringVar(&opts.Slowest, "slowest", "", "explain the slowest task of type `TYPE`")
	f.IntVar(&opts.N, "slowest-n", 10, "with --slowest, sum the breakdown over the `N` slowest")
	f.IntVar(&opts.Top, "top", 10, "breakdown rows to show (`N`; 0 for all); JSON has all")
	f.IntVar(&opts.Segments, "segments", 20, "path segments to show, the longest (`N`; 0 for all); JSON has all")
	f.BoolVar(&opts.JSON, "json", false, "write JSON (schema gotrace.why/v1)")
	f.BoolVar(&opts.Markdown, "markdown", false, "write Markdown, for a pull request")
	return cmd
}

func runWhy(opts *whyOptions, nSet bool) error {
	mode, err := outputMode(opts.IO, opts.JSON, opts.Markdown)
	if err != nil {
		return err
	}
	var q drill.WhyQuery
	switch {
	case opts.Task == "" && opts.Slowest == "":
		return usagef("why needs a task: --task ID or --slowest TYPE")
	case opts.Task != "" && opts.Slowest != "":
		return usagef("--task and --slowest each choose a task: give one")
	case nSet && opts.Slowest == "":
		return usagef("--slowest-n goes with --slowest TYPE")
	case opts.N < 1:
		return usagef("--slowest-n %d: want 1 or more", opts.N)
	case opts.Segments < 0:
		return usagef("--segments %d: want 0 (all) or more", opts.Segments)
	case opts.Top < 0:
		return usagef("--top %d: want 0 (all) or more", opts.Top)
	case opts.Task != "":
		if q.Task, err = parseTaskID("--task", opts.Task); err != nil {
			return err
		}
	default:
		q.Slowest, q.N = opts.Slowest, opts.N
	}
	res, damage, err := readIndexed(opts.IO, opts.File, func(ctx context.Context, r io.ReaderAt, ix *drill.Index) (*drill.WhyResult, error) {
		return drill.WhyTask(ctx, r, ix, q)
	})
	if err != nil {
		return err
	}
	if err := report.Why(opts.IO.Out, opts.File, res, report.WhyOptions{Options: report.Options{Mode: mode, Width: opts.IO.Width},
		Slowest: opts.Slowest, Segments: opts.Segments, Top: opts.Top}); err != nil {
		return err
	}
	return damage
}
