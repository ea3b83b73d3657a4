package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotrace-cli/gotrace/internal/diff"
	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

type diffOptions struct {
	IO *Streams

	Base, New []string
	Threshold string
	Alpha     float64
	FailOn    string
	Top       int
	All       bool
	JSON      bool
	Markdown  bool
	Model     modelFlags
}

func newDiffCmd(io *Streams, runF func(*diffOptions) error) *cobra.Command {
	opts := &diffOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "diff [flags] BASE NEW | --base FILE|DIR... --new FILE|DIR...",
		Short: "Compare the stats of two traces, or two sets of traces: what got worse, and where",
		Long: strings.TrimSpace(`
diff analyses each trace as gotrace stats does and compares the base with
the new, metric by metric: every number of the stats model (overview,
goroutines, scheduling latency, blocking, GC, heap, syscalls, CPU), and
the rows of its lists matched by meaning: goroutine groups by start
function, blocking and syscall stacks by the program's own frames, tasks
and regions by name, CPU functions, leak suspects and findings. Function
names are matched with closure numbers, generic type arguments and
addresses left out, so builds by two Go releases match. A row found on
one side only is new or gone.

Numbers that add up over time (totals, counts) are also taken per second
of wall time, and have changed only when both the values and the rates
have, the same way: a longer or a faster run is not a regression by
itself. Each metric knows its bad direction: a change past --threshold
that way is worse.

With several traces a side (--base and --new each take files or
directories of .trace files), each metric's values are compared with the
Mann-Whitney U test as benchstat does, using its own statistics package,
and a change whose p-value is over --alpha is ~: noise. Five traces a side
can tell a change at alpha 0.05; with one a side no significance can be
judged, and diff says so.

The report lists the regressions first, largest first, each with the
function of the program's own code it lives in; then improvements and
other changes. --json writes schema gotrace.diff/v1 with every metric.
--fail-on regression exits with status 3 when a significant regression
passes the threshold (it needs four traces a side or more).`),
		Example: `  gotrace diff old.trace new.trace
  gotrace diff --base old/ --new new/ --fail-on regression
  gotrace diff --base old/*.trace --new new/*.trace --all
  gotrace diff --markdown --top 5 old.trace new.trace > diff.md
  gotrace diff --json old.trace new.trace | jq '.rows[] | select(.verdict == "worse")'`,
		// N.B. --base and --new each take the files after them, up to the
		// next flag, which pflag cannot do: the arguments are split first.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			help, err := splitDiffArgs(cmd, args, opts)
			if err != nil {
				return err
			}
			if help {
				return cmd.Help()
			}
			if runF != nil {
				return runF(opts)
			}
			return runDiff(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Base, "base", nil, "the base traces up to the next flag: files, or directories of .trace files (`FILE|DIR...`)")
	f.StringArrayVar(&opts.New, "new", nil, "the new traces up to the next flag: files, or directories of .trace files (`FILE|DIR...`)")
	f.StringVar(&opts.Threshold, "threshold", "5%", "call a change worse or better from `PCT` on (5% or 0.05)")
	f.Float64Var(&opts.Alpha, "alpha", 0.05, "call a change significant when its p-value is `P` or less")
	f.StringVar(&opts.FailOn, "fail-on", "", "exit with status 3 on a `regression`: a metric significantly worse, past the threshold")
	f.IntVar(&opts.Top, "top", 20, "rows in each list of changes (`N`; 0 for all)")
	f.BoolVar(&opts.All, "all", false, "list the metrics that did not change too")
	f.BoolVar(&opts.JSON, "json", false, "write JSON (schema gotrace.diff/v1)")
	f.BoolVar(&opts.Markdown, "markdown", false, "write Markdown, for a pull request")
	opts.Model.add(f)
	f.BoolP("help", "h", false, "help for diff")
	return cmd
}

// splitDiffArgs parses args into opts: the files after --base go to the
// base, those after --new to the new side, up to the next flag; two
// files alone are BASE NEW. It reports whether help was asked for.
func splitDiffArgs(cmd *cobra.Command, args []string, opts *diffOptions) (bool, error) {
	var side *[]string
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case a == "--base" || a == "--new":
			side = &opts.Base
			if a == "--new" {
				side = &opts.New
			}
		case strings.HasPrefix(a, "-") && a != "-":
			side = nil
			flags = append(flags, a)
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			var fl = cmd.Flags().Lookup(name)
			if len(a) == 2 {
				fl = cmd.Flags().ShorthandLookup(name)
			}
			if fl != nil && fl.NoOptDefVal == "" && fl.Value.Type() != "bool" && !hasValue && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		case side != nil:
			*side = append(*side, a)
		default:
			positional = append(positional, a)
		}
	}
	if err := cmd.Flags().Parse(flags); err != nil {
		return false, usageError{err}
	}
	if h, _ := cmd.Flags().GetBool("help"); h {
		return true, nil
	}
	switch {
	case len(opts.Base) == 0 && len(opts.New) == 0:
		if len(positional) != 2 {
			return false, usagef("want BASE NEW, or --base FILE... --new FILE...; got %d %s", len(positional), plural(len(positional), "file", "files"))
		}
		opts.Base, opts.New = positional[:1], positional[1:]
	case len(positional) > 0:
		return false, usagef("%q: files go after --base or --new", positional[0])
	case len(opts.Base) == 0:
		return false, usagef("--new without --base: give the base traces too")
	case len(opts.New) == 0:
		return false, usagef("--base without --new: give the new traces too")
	}
	return false, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func runDiff(ctx context.Context, opts *diffOptions) error {
	mode, err := outputMode(opts.IO, opts.JSON, opts.Markdown)
	if err != nil {
		return err
	}
	threshold, err := parsePercent(opts.Threshold)
	if err != nil {
		return usagef("--threshold %q: %v", opts.Threshold, err)
	}
	if opts.Alpha <= 0 || opts.Alpha >= 1 {
		return usagef("--alpha %g: want a p-value between 0 and 1", opts.Alpha)
	}
	if opts.FailOn != "" && opts.FailOn != "regression" {
		return usagef("--fail-on %q: want regression", opts.FailOn)
	}
	if opts.Top < 0 {
		return usagef("--top %d: want 0 (all) or more", opts.Top)
	}
	baseFiles, err := expandTraces(opts.Base)
	if err != nil {
		return err
	}
	newFiles, err := expandTraces(opts.New)
	if err != nil {
		return err
	}
	all := append(slices.Clone(baseFiles), newFiles...)
	if i := slices.Index(all, "-"); i >= 0 && slices.Contains(all[i+1:], "-") {
		return usagef("standard input (-) can stand for one trace only")
	}
	if opts.FailOn != "" && (len(baseFiles) < 4 || len(newFiles) < 4) {
		return usagef("--fail-on regression needs four traces a side or more to call a change significant (five are better); got %d and %d",
			len(baseFiles), len(newFiles))
	}
	so, err := opts.Model.options(diff.Top)
	if err != nil {
		return err
	}
	var damage error
	load := func(files []string) ([]*stats.Model, error) {
		var out []*stats.Model
		for _, f := range files {
			m, err := loadModel(ctx, opts.IO, f, so, opts.Model.window)
			if m == nil {
				return nil, err
			}
			if why := stats.NothingAnalysed(m); why != "" {
				// Its numbers would be zeros that were never measured.
				if err != nil {
					return nil, fmt.Errorf("%w; %s, so there is nothing to compare", err, why)
				}
				return nil, fmt.Errorf("%s: %s, so there is nothing to compare", f, why)
			}
			damage = cmp.Or(damage, err)
			out = append(out, m)
		}
		return out, nil
	}
	base, err := load(baseFiles)
	if err != nil {
		return err
	}
	news, err := load(newFiles)
	if err != nil {
		return err
	}
	d := diff.Compare(baseFiles, newFiles, base, news, diff.Options{Alpha: opts.Alpha, Threshold: threshold})
	if err := report.Diff(opts.IO.Out, d, report.DiffOptions{Options: report.Options{Mode: mode, Width: opts.IO.Width}, Top: opts.Top, All: opts.All}); err != nil {
		return err
	}
	if damage != nil {
		return damage // damaged: the comparison saw only part of a trace
	}
	if opts.FailOn != "" && d.Worse > 0 {
		return &exitCodeError{code: exitAssertion, err: fmt.Errorf("%d %s worse", d.Worse, plural(d.Worse, "metric", "metrics"))}
	}
	return nil
}

// expandTraces returns the files named, each directory replaced by the
// .trace files in it, in name order.
func expandTraces(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		fi, err := os.Stat(n)
		if err != nil || !fi.IsDir() {
			out = append(out, n) // loading says what is wrong with it
			continue
		}
		m, err := filepath.Glob(filepath.Join(n, "*.trace"))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no .trace files in the directory", n)
		}
		slices.Sort(m)
		out = append(out, m...)
	}
	return out, nil
}

// parsePercent reads "5%" or "0.05" as a ratio.
func parsePercent(s string) (float64, error) {
	v, err := stats.ParseRatio(s)
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return 0, errors.New("want a change of 0% or more")
	}
	return v, nil
}
