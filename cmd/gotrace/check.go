package main

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

type checkOptions struct {
	IO *Streams

	File     string
	Baseline string
	Asserts  []string
	List     bool
	JSON     bool
	Markdown bool
	Model    modelFlags
}

func newCheckCmd(io *Streams, runF func(*checkOptions) error) *cobra.Command {
	opts := &checkOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "check FILE|- --assert 'PATH OP VALUE' ...",
		Short: "Assert on a trace's stats in CI: exit 3 when an assertion fails",
		Long: strings.TrimSpace(`
check analyses a trace as gotrace stats does and tests assertions against
the result. Each assertion is a path into the stats model, a comparison
(< <= > >= == !=) and a value with a unit:

  durations  ns us µs ms s m        sizes   B KiB MiB GiB KB MB GB
  ratios     0.5 or 50%             others  plain numbers

Tasks and regions are reached by name, quoted as in Go, with count, total,
p50, p90, p99 or max: annotations.regions["load"].p99 < 5ms.
gotrace check --list prints every path with its unit and meaning. check
prints each assertion with the measured value and pass, FAIL or no data.

An assertion has no data when the trace holds no value for its path: a
task or region of that name did not end in the trace, or nothing was
analysed because the trace holds no complete generation (a header alone,
or a recording cut inside its first generation). No data never passes.

Exit status: 0 when every assertion holds, 3 when one fails or has no
data, 1 when the trace cannot be read (or is damaged), 2 for a malformed
assertion or an unknown path. --json writes schema gotrace.check/v1.

With --baseline BASE, check reads the baseline trace too, shows its value,
the measured one and the change beside each assertion, and takes values
made from the baseline's: +20% or -5% (a change from it), base*1.1 (a
multiple of it), base+5ms or base-1MiB, and base itself.`),
		Example: `  gotrace check app.trace --assert 'gc.stw.max < 5ms' --assert 'goroutines.leaked == 0'
  gotrace check app.trace --assert 'sched.latency.p99 <= 200us' --assert 'heap.max < 512MiB'
  gotrace check app.trace --assert 'annotations.regions["square"].p99 < 5ms' --assert 'annotations.tasks["demo"].count == 1'
  gotrace check app.trace --assert 'gc.mmu.10ms >= 50%' --json
  gotrace check new.trace --baseline old.trace --assert 'sched.latency.p99 < +20%' --assert 'gc.time_ns <= base*1.1' --assert 'goroutines.leaked <= base'
  gotrace check --list`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.List {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				opts.File = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runCheck(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Asserts, "assert", nil, "an assertion `'PATH OP VALUE'` (repeat for more)")
	f.StringVar(&opts.Baseline, "baseline", "", "compare with the trace `BASE`: values may be +20%, base*1.1, base+5ms or base")
	f.BoolVar(&opts.List, "list", false, "print every path with its unit and meaning")
	f.BoolVar(&opts.JSON, "json", false, "write JSON (schema gotrace.check/v1)")
	f.BoolVar(&opts.Markdown, "markdown", false, "write Markdown, for a pull request")
	opts.Model.add(f)
	return cmd
}

func runCheck(ctx context.Context, opts *checkOptions) error {
	mode, err := outputMode(opts.IO, opts.JSON, opts.Markdown)
	if err != nil {
		return err
	}
	ro := report.Options{Mode: mode, Width: opts.IO.Width}
	if opts.List {
		if len(opts.Asserts) > 0 {
			return usagef("--list prints the paths; it takes no --assert")
		}
		return report.CheckList(opts.IO.Out, ro)
	}
	if len(opts.Asserts) == 0 {
		return usagef("no assertions: give at least one --assert 'PATH OP VALUE', e.g. --assert 'gc.stw.max < 5ms'")
	}
	var as []stats.Assertion
	for _, e := range opts.Asserts {
		a, err := stats.ParseAssertion(e)
		if err != nil {
			return usageError{err}
		}
		if a.NeedsBaseline() && opts.Baseline == "" {
			return usagef("%q compares with a baseline: give --baseline BASE", a.Expr)
		}
		as = append(as, a)
	}
	so, err := opts.Model.options(stats.DefaultTop)
	if err != nil {
		return err
	}
	var base *stats.Model
	var baseErr error
	if opts.Baseline != "" {
		if base, baseErr = loadModel(ctx, opts.IO, opts.Baseline, so, opts.Model.window); base == nil {
			return baseErr
		}
	}
	m, err := loadModel(ctx, opts.IO, opts.File, so, opts.Model.window)
	if m == nil {
		return err
	}
	err = cmp.Or(err, baseErr)
	r := report.NewCheckResult(opts.File, m, opts.Baseline, base, as)
	if rerr := report.Check(opts.IO.Out, r, ro); rerr != nil {
		return rerr
	}
	if err != nil {
		return err // damaged: the assertions saw only part of the trace
	}
	if !r.Passed {
		// The summary, as a line on stderr: "gotrace: the assertion failed".
		msg := r.Summary()
		msg = strings.ToLower(msg[:1]) + msg[1:]
		return &exitCodeError{code: exitAssertion, err: errors.New(msg)}
	}
	return nil
}
