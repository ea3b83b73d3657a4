package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/gotrace-cli/gotrace/internal/split"
)

type splitOptions struct {
	IO *Streams

	File    string
	Prefix  string
	Gen     string
	Time    string
	MaxSize string
}

func newSplitCmd(io *Streams, runF func(*splitOptions) error) *cobra.Command {
	opts := &splitOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "split FILE [--gen N-M | --time FROM-TO | --max-size 100MB] -o PREFIX",
		Short: "Cut a trace into smaller traces that open on their own",
		Long: strings.TrimSpace(`
split writes parts of a trace as traces of their own, so go tool trace and
other viewers can open a slice of a trace too big for them. Each part is the
trace's header followed by whole generations copied byte for byte (a
generation holds everything needed to read it).

The parts are named PREFIX.001.trace, PREFIX.002.trace and so on, each
written under a temporary name and renamed into place. With --max-size, a new
part starts before one would grow past the size (a single larger generation
gets a part to itself). With --gen or --time alone, the kept generations go
in one part; with none of the three, every generation gets its own part.
split prints one line per part written. A trace with no generation (its
header alone) gives no part and a line on stderr saying so, unless --gen or
--time asked for generations: then, as when none matches, it fails.`),
		Example: `  gotrace split testdata/traces/annotated.trace --max-size 100MB -o annotated
  gotrace split testdata/traces/annotated.trace --gen 2-3 -o late
  gotrace split testdata/traces/annotated.trace --time 1s-1.5s -o slow`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runSplit(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Prefix, "output", "o", "", "write parts as `PREFIX`.001.trace, PREFIX.002.trace, ... (required)")
	f.StringVar(&opts.Gen, "gen", "", "keep generations `N-M` (numbers as in gotrace decode; N, N-, -M work too)")
	f.StringVar(&opts.Time, "time", "", "keep generations overlapping `FROM-TO` (durations from the trace's start)")
	f.StringVar(&opts.MaxSize, "max-size", "", "start a new part before one would exceed `SIZE` (e.g. 100MB, 512KiB)")
	return cmd
}

func runSplit(opts *splitOptions) error {
	if opts.Prefix == "" || opts.Prefix == "-" {
		return usagef("-o PREFIX is required: parts are written as PREFIX.001.trace, ...")
	}
	var so split.Options
	if opts.Gen != "" {
		g, err := parseGenRange(opts.Gen)
		if err != nil {
			return err
		}
		so.FirstGen, so.LastGen = g.First, g.Last
	}
	if opts.Time != "" {
		w, err := parseWindow(opts.Time)
		if err != nil {
			return err
		}
		so.From, so.To = w.From, w.To
	}
	if opts.MaxSize != "" {
		n, err := parseSize(opts.MaxSize)
		if err != nil {
			return usagef("--max-size %q: %v", opts.MaxSize, err)
		}
		so.MaxSize = n
	}
	so.PerGeneration = opts.Gen == "" && opts.Time == "" && opts.MaxSize == ""
	if opts.File == "-" {
		return usagef("split copies generations by their offsets: give a file, not stdin")
	}

	f, err := openTrace(opts.File)
	if err != nil {
		return err
	}
	defer f.Close()
	if !regular(f) {
		return notRegular(opts.File, "split copies generations by their offsets, from a file")
	}
	src, err := openTrace(opts.File)
	if err != nil {
		return err
	}
	defer src.Close()
	ctx, stop := onInterrupt()
	defer stop()
	parts, err := split.Split(interruptible{ctx, f}, src, so, prefixSink{opts.IO, opts.Prefix, src})
	var listErr error // the list of parts could not be written
	for _, p := range parts {
		_, werr := fmt.Fprintln(opts.IO.Out, report.SplitLine(report.SplitPart{
			Name: partName(opts.Prefix, p.Index), FirstGen: p.FirstGen, LastGen: p.LastGen,
			Size: p.Size, Start: p.Start, End: p.End, Oversized: p.Oversized,
		}))
		listErr = cmp.Or(listErr, werr)
	}
	var werr *writeError
	switch {
	case ctx.Err() != nil:
		return interrupted(report.PartsAbove(len(parts), "holds", "hold") + " whole generations")
	case errors.As(err, &werr):
		return werr.err // names the part, not the input
	case errors.Is(err, split.ErrNoGenerations) && opts.Gen == "" && opts.Time == "":
		// Nothing was asked for but the trace: its parts are none.
		fmt.Fprintf(opts.IO.ErrOut, "gotrace: %s: no parts written: the trace has only its header, no generation (a recording stopped before the runtime wrote any)\n", opts.File)
		return nil
	case errors.Is(err, split.ErrNothingKept):
		// N.B. Naming the selection, as decode and export do.
		switch {
		case opts.Gen != "":
			return fmt.Errorf("%s: --gen %s: %v", opts.File, opts.Gen, err)
		case opts.Time != "":
			return fmt.Errorf("%s: --time %s: %v", opts.File, opts.Time, err)
		}
		return fmt.Errorf("%s: %v", opts.File, err)
	case err != nil:
		if len(parts) > 0 {
			return fmt.Errorf("%s: %w (%s every whole generation before it)", opts.File, err, report.PartsAbove(len(parts), "holds", "hold"))
		}
		return fmt.Errorf("%s: %w", opts.File, err)
	}
	return listErr
}

// writeError marks a failure to write a part, as opposed to damage in the
// input.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// partName is the file name of part index: PREFIX.001.trace.
func partName(prefix string, index int) string { return fmt.Sprintf("%s.%03d.trace", prefix, index) }

// prefixSink writes parts as PREFIX.NNN.trace.
type prefixSink struct {
	io     *Streams
	prefix string
	in     *os.File // the trace being split
}

func (s prefixSink) Create(index int) (io.Writer, func() error, func(), error) {
	name := partName(s.prefix, index)
	out, err := createOutput(s.io, name, true, s.in)
	if err != nil {
		return nil, nil, nil, &writeError{err}
	}
	commit := func() error {
		if err := out.Commit(); err != nil {
			return &writeError{pathError(name, err)}
		}
		return nil
	}
	return &partWriter{out, name}, commit, out.Abort, nil
}

// parseSize reads a byte count with an optional unit: 100MB, 512KiB, 1e6.
func parseSize(s string) (int64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) && r != 'e' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("want a positive size such as 100MB")
	}
	mult := map[string]float64{
		"": 1, "B": 1,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "K": 1e3, "M": 1e6, "G": 1e9,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30,
	}[strings.ToUpper(unit)]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q (want B, KB, MB, GB, KiB, MiB or GiB)", unit)
	}
	if v*mult < 1 || v*mult > 1<<62 {
		return 0, fmt.Errorf("size out of range")
	}
	return int64(v * mult), nil
}

// partWriter marks write errors as the part's.
type partWriter struct {
	out  *output
	name string
}

func (w *partWriter) Write(p []byte) (int, error) {
	n, err := w.out.Write(p)
	if err != nil {
		err = &writeError{pathError(w.name, err)}
	}
	return n, err
}
