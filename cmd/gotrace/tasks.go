package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gotrace-cli/gotrace/internal/drill"
	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/spf13/cobra"
)

type tasksOptions struct {
	IO *Streams

	File     string
	ID       string // "" for the list
	Type     string
	Min      time.Duration
	Top      int
	JSON     bool
	Markdown bool
}

func newTasksCmd(io *Streams, runF func(*tasksOptions) error) *cobra.Command {
	opts := &tasksOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "tasks [flags] FILE [ID]",
		Short: "List the task instances of a trace, slowest first, or show one task",
		Long: strings.TrimSpace(`
tasks lists every task instance of the trace (each runtime/trace.NewTask and
its End), slowest first: its ID, type, parent, start, duration, and how many
goroutines, regions and logs it has. A task still open when the trace ended
lasts to the end and says so; one begun before the trace starts with it,
its type and parent unknown. The goroutines of a task are those that began
or ended it, or ran a region or wrote a log in it.

With an ID, tasks shows that one task: its begin, regions, logs, child tasks
and end in time order, each with its goroutine and the user frame it
happened in, then its goroutines. --json writes schema gotrace.tasks/v1.`),
		Example: `  gotrace tasks app.trace
  gotrace tasks --min 10ms --top 5 app.trace
  gotrace tasks app.trace 1
  gotrace tasks --json app.trace | jq '.tasks[] | select(.open)'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || len(args) > 2 {
				return usagef("tasks needs a trace file and at most a task ID: gotrace tasks FILE [ID]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if len(args) == 2 {
				opts.ID = args[1]
			}
			if runF != nil {
				return runF(opts)
			}
			return runTasks(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Type, "type", "", "only tasks of type `NAME`")
	f.DurationVar(&opts.Min, "min", 0, "only tasks lasting `D` or more")
	f.IntVar(&opts.Top, "top", 20, "rows to show (`N`; 0 for all)")
	f.BoolVar(&opts.JSON, "json", false, "write JSON (schema gotrace.tasks/v1)")
	f.BoolVar(&opts.Markdown, "markdown", false, "write Markdown, for a pull request")
	return cmd
}

// parseTaskID reads a task ID given on the command line.
func parseTaskID(what, s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, usagef("%s %q: want a task ID, a number from 1 up", what, s)
	}
	return id, nil
}

func runTasks(opts *tasksOptions) error {
	mode, err := outputMode(opts.IO, opts.JSON, opts.Markdown)
	if err != nil {
		return err
	}
	f := drill.TaskFilter{Type: opts.Type, Min: opts.Min, Top: opts.Top}
	if opts.Top < 0 {
		return usagef("--top %d: want 0 (all) or more", opts.Top)
	}
	if opts.Min < 0 {
		return usagef("--min %v: want 0 or more", opts.Min)
	}
	if opts.ID != "" {
		if f.ID, err = parseTaskID("task ID", opts.ID); err != nil {
			return err
		}
		f.HasID = true
	}
	ro := report.Options{Mode: mode, Width: opts.IO.Width}
	if f.HasID {
		l, damage, err := readIndexed(opts.IO, opts.File, func(ctx context.Context, r io.ReaderAt, ix *drill.Index) (*drill.TaskList, error) {
			return drill.TaskByID(ctx, r, ix, f.ID)
		})
		if err != nil {
			return err
		}
		if err := report.Task(opts.IO.Out, opts.File, l.Tasks[0], l.Events, ro); err != nil {
			return err
		}
		return damage
	}
	l, damage, err := readDrill(opts.IO, opts.File, "the list holds", func(ctx context.Context, r io.Reader) (*drill.TaskList, error) {
		return drill.Tasks(ctx, r, f)
	})
	if err != nil {
		return err
	}
	if err := report.Tasks(opts.IO.Out, opts.File, l.Tasks, l.Total, ro); err != nil {
		return err
	}
	return damage
}
