package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotrace-cli/gotrace/internal/export"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/split"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

type exportOptions struct {
	IO *Streams

	File   string
	Files  []string // every FILE, for parquet
	Labels []string
	Format string
	Output string
	Gen    string
	Time   string
}

func newExportCmd(io *Streams, runF func(*exportOptions) error) *cobra.Command {
	opts := &exportOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "export --format perfetto|chrome FILE|- [-o out] | --format parquet -o DIR FILE...",
		Short: "Write a trace as a timeline for Perfetto or Chrome's trace viewer, or as Parquet tables",
		Long: strings.TrimSpace(`
export writes a timeline that opens in ui.perfetto.dev (drag the file in; no
server needed): a track per P showing the goroutine it runs, a track per
goroutine showing it running, runnable, blocked (with the reason) or in a
system call, user regions, logs and tasks as nested slices, garbage
collections and stop-the-world pauses, the heap in use and the heap goal as
counters, goroutine creation and unblocking as flows, and CPU samples as
instant events with their stacks.

  perfetto  Perfetto's protobuf trace format: compact, for big traces (binary:
            give -o, or redirect stdout)
  chrome    the Chrome JSON trace event format, also read by chrome://tracing
  parquet   tables for SQL engines (DuckDB, ClickHouse, Spark, ...): for each
            FILE, a directory DIR/NAME (NAME the file's name without its
            extension) holding goroutines.parquet, intervals.parquet,
            stacks, frames, tasks, regions, logs, gc, metrics, cpu_samples
            and traces; every row carries the trace's ID and a column per
            --label KEY=VALUE. Many files are read at once, one per core.

--gen keeps whole generations (numbers as in gotrace decode); --time keeps a
window, in durations from the start of what is read, cutting the slices that
cross its edges. The export streams: memory follows the largest generation,
not the file, and - reads the trace from stdin. When a whole trace would make
more than 1 GB of trace events, more than ui.perfetto.dev opens, a line on
stderr says so and suggests windows, and the export goes ahead.`),
		Example: `  gotrace export --format perfetto testdata/traces/annotated.trace -o annotated.perfetto-trace
  gotrace export --format chrome --time 1s-1.5s testdata/traces/annotated.trace -o slow.json
  gotrace export --format perfetto --gen 2-3 testdata/traces/annotated.trace -o late.perfetto-trace
  gotrace export --format parquet --label service=api --label release=v1.2.3 -o tables testdata/traces/*.trace`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File, opts.Files = args[0], args
			if opts.Format != "parquet" && len(args) > 1 {
				return usagef("--format %s exports one trace; --format parquet takes several", opts.Format)
			}
			if runF != nil {
				return runF(opts)
			}
			return runExport(opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "f", "perfetto", "output `FORMAT`: perfetto, chrome or parquet")
	f.StringVarP(&opts.Output, "output", "o", "", "write to `FILE` (default stdout; perfetto never to a terminal); for parquet, the directory")
	f.StringArrayVar(&opts.Labels, "label", nil, "parquet: add the column `KEY=VALUE` to every row (repeatable)")
	f.StringVar(&opts.Gen, "gen", "", "export only generations `N-M` (N, N- and -M work too)")
	f.StringVar(&opts.Time, "time", "", "export only the window `FROM-TO` (durations, e.g. 100ms-2s)")
	return cmd
}

func runExport(opts *exportOptions) error {
	if opts.Format == "parquet" {
		return runExportParquet(opts)
	}
	if len(opts.Labels) > 0 {
		return usagef("--label is for --format parquet")
	}
	format, err := export.ParseFormat(opts.Format)
	if err != nil {
		return usagef("unknown format %q (want perfetto, chrome or parquet)", opts.Format)
	}
	eo := export.Options{Format: format, Name: filepath.Base(opts.File)}
	var gens genRange
	if opts.Gen != "" {
		if gens, err = parseGenRange(opts.Gen); err != nil {
			return err
		}
	}
	if opts.Time != "" {
		w, err := parseWindow(opts.Time)
		if err != nil {
			return err
		}
		eo.From, eo.To = w.From, w.To
	}
	ctx, stop := onInterrupt()
	defer stop()
	limit := int64(timelineMemoryLimit)
	if opts.File != "-" && opts.Gen == "" {
		limit = exportMemoryLimit // N.B. read a generation per core
	}
	defer softMemoryLimit(opts.IO, limit)()
	var in io.Reader
	var selected <-chan error
	var src *os.File // the trace file, nil for stdin
	if opts.File == "-" {
		// N.B. the export streams, so a pipe will do; --gen copies
		// generations by their offsets, which takes a file.
		if opts.Gen != "" {
			return usagef("--gen reads a file, not stdin")
		}
		eo.Name = "stdin"
		in = interruptible{ctx, opts.IO.In}
	} else {
		f, err := openTrace(opts.File)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
		file := regular(f)
		if !file && opts.Gen != "" {
			return notRegular(opts.File, "--gen copies generations by their offsets, from a file")
		}
		if file && opts.Gen == "" && opts.Time == "" {
			warnSize(opts.IO, opts.File, f, format)
		}
		prog := newProgress(opts.IO, "exporting "+opts.File, f)
		if (opts.Output == "" || opts.Output == "-") && opts.IO.OutTTY {
			prog.active = false // N.B. the timeline itself is on the terminal
		}
		defer prog.done()
		in = interruptible{ctx, prog}
		switch {
		case opts.Gen != "":
			in, selected = selectGenerations(in, f, gens)
		case file:
			// N.B. Read a generation per worker, through f, the trace
			// shows how far the export is as the generations come in.
			eo.At, eo.Progress = f, prog.reached
		}
		// N.B. A pipe streams, as - does.
	}
	out, err := createOutput(opts.IO, opts.Output, format == export.Perfetto, src)
	if err != nil {
		return err
	}
	defer out.Abort()

	_, err = export.Export(ctx, in, out, eo)
	if selected != nil {
		// An export that stops early (at the end of a --time window)
		// leaves the selection nobody to write to: closing the pipe ends it.
		in.(io.Closer).Close()
		// The selection's error says more than the export's, which only
		// saw its input end; a closed pipe only means the export was done.
		if serr := <-selected; serr != nil && !errors.Is(serr, io.ErrClosedPipe) {
			var damage *export.DamageError
			if errors.As(err, &damage) {
				serr = &export.DamageError{Err: serr} // N.B. the generations before it were exported
			}
			err = serr
		}
	}
	if ctx.Err() != nil {
		return interrupted("nothing written")
	}
	var damage *export.DamageError
	if errors.As(err, &damage) {
		// Like a cut-short trace in go tool trace: keep what was read.
		if cerr := out.Commit(); cerr != nil {
			return cerr
		}
		err = describeDamage(opts.File, err)
		return fmt.Errorf("%s: %w; %s holds the timeline up to the damage", opts.File, err, outName(opts.Output))
	}
	if err != nil {
		err = describeDamage(opts.File, err)
		return fmt.Errorf("%s: %w", opts.File, err)
	}
	return out.Commit()
}

// warnSize says, before the export, when the whole trace in f would make
// more trace events than ui.perfetto.dev opens, and how to cut it into
// windows that it does open. The export goes ahead: trace_processor opens
// it all.
func warnSize(streams *Streams, path string, f *os.File, out export.Format) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	// N.B. only a trace: what is not one gets its error, not a warning.
	var h [format.HeaderSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return
	}
	if _, err := format.ParseHeader(h[:]); err != nil {
		return
	}
	file, loaded := export.Estimate(out, fi.Size())
	if loaded <= export.BrowserLimit {
		return
	}
	size := ""
	if file != loaded {
		size = fmt.Sprintf(" (in a file of about %s)", stats.ByteCount(file))
	}
	fmt.Fprintf(streams.ErrOut, "gotrace: %s: a %s trace makes about %s of trace events%s, more than ui.perfetto.dev opens; export windows of it with --time FROM-TO or --gen N-M\n",
		path, stats.ByteCount(fi.Size()), stats.ByteCount(loaded), size)
}

// selectGenerations streams the header and generations gens of the trace
// read from r through a pipe, as split writes them (copying the bytes from
// f, the same file), so the export reads a valid trace of those generations
// alone. The channel yields the selection's error when it ends.
func selectGenerations(r io.Reader, f io.ReaderAt, gens genRange) (*io.PipeReader, <-chan error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := split.Split(r, f, split.Options{FirstGen: gens.First, LastGen: gens.Last}, pipeSink{pw})
		if errors.Is(err, split.ErrNothingKept) {
			err = fmt.Errorf("--gen %s: %w", gens, err)
		}
		pw.CloseWithError(err)
		done <- err
	}()
	return pr, done
}

// pipeSink hands the one part of a selection to a pipe.
type pipeSink struct{ w *io.PipeWriter }

func (s pipeSink) Create(int) (io.Writer, func() error, func(), error) {
	return s.w, func() error { return nil }, func() {}, nil
}

func (g genRange) String() string {
	switch {
	case g.Last == 0:
		return fmt.Sprintf("%d-", g.First)
	case g.First == g.Last:
		return fmt.Sprint(g.First)
	}
	return fmt.Sprintf("%d-%d", g.First, g.Last)
}
