package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotrace-cli/gotrace/internal/pprof"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

type pprofOptions struct {
	IO *Streams

	File      string
	Type      string
	Output    string
	Goroutine string
	Region    string
	Task      string
	Time      string
}

func newPprofCmd(io *Streams, runF func(*pprofOptions) error) *cobra.Command {
	opts := &pprofOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "pprof --type TYPE FILE [-o out.pb.gz]",
		Short: "Write a pprof profile of CPU samples, waits or annotations in a trace",
		Long: strings.TrimSpace(`
pprof writes a profile that go tool pprof opens, from an execution trace:

  cpu      the trace's CPU samples (10ms each, the runtime's default rate)
  sched    scheduling latency: time runnable, waiting for a P
  block    blocking on channels, mutexes, select and sync.Cond
  net      waiting for the network
  syscall  time in system calls
  region   wall time of user regions (runtime/trace.WithRegion), by name
  task     wall time of user tasks (runtime/trace.NewTask), by name

sched, block, net and syscall count what go tool trace -pprof=sched|sync|
net|syscall counts: time is charged to the stack that entered the state, and
only from a goroutine's first run to its end. --goroutine, --region, --task
and --time restrict what is counted. The profile is binary: give -o, or
redirect stdout.`),
		Example: `  gotrace pprof --type block testdata/traces/annotated.trace -o block.pb.gz
  gotrace pprof --type sched --time 100ms-2s testdata/traces/annotated.trace -o sched.pb.gz
  gotrace pprof --type cpu --region compute testdata/traces/annotated.trace > cpu.pb.gz`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runPprof(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Type, "type", "t", "", "profile `TYPE`: "+typeNames())
	f.StringVarP(&opts.Output, "output", "o", "", "write the profile to `FILE` (default stdout, never a terminal)")
	f.StringVar(&opts.Goroutine, "goroutine", "", "count only goroutines whose root function is `FUNC`")
	f.StringVar(&opts.Region, "region", "", "count only time inside user regions named `NAME`")
	f.StringVar(&opts.Task, "task", "", "count only time inside regions of user tasks named `NAME`")
	f.StringVar(&opts.Time, "time", "", "count only the window `FROM-TO` (durations from the trace's start, e.g. 100ms-2s)")
	return cmd
}

func runPprof(opts *pprofOptions) error {
	if opts.Type == "" {
		return usagef("--type is required: one of %s", typeNames())
	}
	typ, err := pprof.ParseType(opts.Type)
	if err != nil {
		return usageError{err}
	}
	filter := pprof.Filter{Goroutine: opts.Goroutine, Region: opts.Region, Task: opts.Task}
	if opts.Time != "" {
		w, err := parseWindow(opts.Time)
		if err != nil {
			return err
		}
		filter.From, filter.To = w.From, w.To
	}
	if opts.File == "-" {
		return usagef("pprof reads the trace twice: give a file, not stdin")
	}
	f, err := openTrace(opts.File)
	if err != nil {
		return err
	}
	defer f.Close()
	if !regular(f) {
		return notRegular(opts.File, "pprof reads the trace twice, from a file")
	}
	// Refuse a terminal before the work, not after.
	out, err := createOutput(opts.IO, opts.Output, true, f)
	if err != nil {
		return err
	}
	defer out.Abort()
	ctx, stop := onInterrupt()
	defer stop()
	limit, inOrder := int64(timelineMemoryLimit), func() {}
	if pprof.InParts(typ, filter) {
		limit = partsMemoryLimit
		inOrder = func() { softMemoryLimit(opts.IO, timelineMemoryLimit) }
	}
	defer softMemoryLimit(opts.IO, limit)()
	prog := newProgress(opts.IO, "profiling "+opts.File, f)
	p, err := pprof.BuildWith(ctx, interruptible{ctx, prog}, typ, filter, inOrder)
	prog.done()
	if ctx.Err() != nil {
		return interrupted("nothing written")
	}
	var damage error
	switch {
	case err != nil && errors.Is(err, pprof.ErrNoMatch):
		return fmt.Errorf("%s: %v", opts.File, err)
	case p != nil && errors.Is(err, timeline.ErrDamaged):
		// The complete generations before the damage are profiled, as
		// every command reads them; the run still fails.
		damage = fmt.Errorf("%w: %s: %s; the profile holds the complete generations before it",
			timeline.ErrDamaged, opts.File, strings.TrimPrefix(err.Error(), timeline.ErrDamaged.Error()+": "))
	case err != nil:
		return fmt.Errorf("%s: %w", opts.File, describeDamage(opts.File, err))
	}
	if err := p.Write(out); err != nil {
		return fmt.Errorf("writing %s: %w", outName(opts.Output), err)
	}
	if err := out.Commit(); err != nil {
		return err
	}
	if len(p.Sample) == 0 && !filter.Any() && damage == nil {
		fmt.Fprintf(opts.IO.ErrOut, "gotrace: %s: the %s profile is empty: %s\n", opts.File, typ, emptyWhy(typ))
	}
	return damage
}

// emptyWhy says why an unfiltered profile of type t can be empty, and how
// to get data.
func emptyWhy(t pprof.Type) string {
	switch t {
	case pprof.CPU:
		return "the trace has no CPU samples (record with gotrace record --cpu, or run a CPU profile while tracing)"
	case pprof.Sched:
		return "no goroutine waited for a P after its first run"
	case pprof.Block:
		return "no goroutine blocked on a channel, select or sync primitive"
	case pprof.Net:
		return "no goroutine waited on the network"
	case pprof.Syscall:
		return "no goroutine made a system call"
	case pprof.Region:
		return "the trace has no user regions (runtime/trace.WithRegion)"
	case pprof.Task:
		return "the trace has no user tasks (runtime/trace.NewTask)"
	}
	return "nothing to count"
}

func typeNames() string {
	var names []string
	for _, t := range pprof.Types() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

// outName names an -o value in messages.
func outName(path string) string {
	if path == "" || path == "-" {
		return "stdout"
	}
	return path
}
