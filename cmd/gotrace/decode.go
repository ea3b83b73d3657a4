package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/gotrace-cli/gotrace/internal/split"
)

type decodeOptions struct {
	IO *Streams

	File    string
	Summary bool
	Tables  bool
	Events  bool
	Gen     string
	Types   []string
	JSON    bool
}

func newDecodeCmd(io *Streams, runF func(*decodeOptions) error) *cobra.Command {
	opts := &decodeOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "decode [flags] FILE|-",
		Short: "Print a trace's wire format, generation by generation",
		Long: strings.TrimSpace(`
decode prints what a trace file holds on the wire, one generation at a time:
a summary of each generation, its tables (frequency, clock snapshot, strings,
stacks with their frames, AllocFree types, CPU samples), then its batches and
their events with named arguments, string and stack arguments resolved.

It reads Go 1.22 and later traces ("-" reads stdin) and streams: memory grows
with the largest generation, not with the file. A damaged or cut-short trace
still prints every complete generation, then one error line naming the byte
offset, and exits 1. Traces of Go 1.11 to 1.21 use an older format that
gotrace stats, check, diff, pprof, export, goroutines, tasks, why and view
read.

--json writes NDJSON: one object per line, each with a "kind", the first a
header with "schema": "gotrace.decode/v1".`),
		Example: `  gotrace decode --summary app.trace
  gotrace decode --tables --gen 2 app.trace
  gotrace decode --events --type GoBlock,GoUnblock app.trace
  gotrace decode --json app.trace | jq -c 'select(.kind == "event" and .name == "GoCreate")'
  cat app.trace | gotrace decode --summary -`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runDecode(opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Summary, "summary", false, "one line per generation, then the totals")
	f.BoolVar(&opts.Tables, "tables", false, "show each generation's tables only")
	f.BoolVar(&opts.Events, "events", false, "show each generation's batches and events only")
	f.StringVar(&opts.Gen, "gen", "", "show only generation `N`, or a range N-M (N- and -M leave a side open)")
	f.StringSliceVar(&opts.Types, "type", nil, "show only events of type `NAME` (repeat, or a comma list)")
	f.BoolVar(&opts.JSON, "json", false, "write NDJSON (schema gotrace.decode/v1)")
	return cmd
}

// eventTypeNames is every event name some trace version knows, lower-case.
func eventTypeNames() map[string]bool {
	names := map[string]bool{}
	for _, v := range format.Versions() {
		for t := range 256 {
			if s := v.Spec(format.EventType(t)); s != nil {
				names[strings.ToLower(s.Name)] = true
			}
		}
	}
	return names
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func runDecode(opts *decodeOptions) error {
	if opts.Summary && (opts.Tables || opts.Events || len(opts.Types) > 0) {
		return usagef("--summary shows neither tables nor events: drop --tables, --events and --type")
	}
	gens := genRange{First: 1}
	if opts.Gen != "" {
		var err error
		if gens, err = parseGenRange(opts.Gen); err != nil {
			return err
		}
	}
	if len(opts.Types) > 0 {
		known := eventTypeNames()
		for _, t := range opts.Types {
			if !known[strings.ToLower(t)] {
				return usagef("--type %q: no such event type (names as go tool trace -d=wire prints them, e.g. GoCreate)", t)
			}
		}
	}

	defer softMemoryLimit(opts.IO, decodeMemoryLimit)()

	var in io.Reader
	size := int64(-1)
	var file *os.File
	if opts.File == "-" {
		in = opts.IO.In
	} else {
		f, err := openTrace(opts.File)
		if err != nil {
			return err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
			file = f
		}
		in = f
	}
	ngen := -1
	if file != nil && !opts.Summary && opts.Gen == "" {
		// A first pass over a regular file counts the generations for the
		// header; it frames batches and reads only the tables.
		ngen = countGenerations(file)
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("%s: %w", opts.File, err)
		}
	}
	// --summary frames the batches and reads the tables, which keeps up
	// with the disk; it walks the events too, to count them and to find
	// damage in them as the other modes do: of a file, a generation per
	// core first, of a stream, as it frames.
	var counted map[uint64]*genCount
	var countErr error
	if opts.Summary && file != nil {
		counted, countErr = countEvents(file)
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("%s: %w", opts.File, err)
		}
	}
	cr := &countingReader{r: in}
	dr, err := decode.NewReader(cr)
	if err != nil {
		return fmt.Errorf("%s: %w", opts.File, err)
	}
	mode := report.Plain
	switch {
	case opts.JSON:
		mode = report.JSON
	case opts.IO.Styled():
		mode = report.Styled
	}
	w := report.NewDecodeWriter(opts.IO.Out, report.DecodeOptions{
		Options: report.Options{Mode: mode, Width: opts.IO.Width},
		Summary: opts.Summary, Tables: opts.Tables, Events: opts.Events, Types: opts.Types,
	})
	if err := w.Header(report.DecodeInput{File: opts.File, Version: dr.Version(), Size: size, Generations: ngen}); err != nil {
		return err
	}
	// --summary of a file only frames the batches here, its events
	// counted above; the other modes count events first (for each
	// generation's summary line), then decode them one at a time as they
	// are printed, never holding a generation's events.
	detail := decode.Counts
	if counted != nil {
		detail = decode.Frames
	}
	dr.SetDetail(detail)

	var end report.DecodeEnd
	var derr error
	stop := int64(-1) // where the count stopped, if it did
	for {
		g, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			derr = err
			break
		}
		if counted != nil {
			n, ok := counted[g.Num]
			if !ok {
				// N.B. The count stopped at damage in the events, which
				// framing does not see.
				derr, stop = countErr, g.Offset
				break
			}
			g.Events, g.MaxTime, g.Counts = n.events, n.maxTime, n.counts
		}
		if g.Num < gens.First {
			// Generation numbers go up by one: only frame the ones
			// before the range.
			if g.Num+1 < gens.First {
				dr.SetDetail(decode.Frames)
			} else {
				dr.SetDetail(detail)
			}
			continue
		}
		if gens.Last != 0 && g.Num > gens.Last {
			break
		}
		end.Generations++
		end.Batches += len(g.Batches)
		if g.Events < 0 || end.Events < 0 {
			end.Events = -1
		} else {
			end.Events += int64(g.Events)
		}
		events := func(i int, fn func(*decode.Event) error) error { return dr.EachEvent(g, i, fn) }
		if err := w.Generation(g, events); err != nil {
			return err
		}
	}
	end.Bytes = dr.Offset()
	if stop >= 0 {
		end.Bytes = stop
	}
	if derr != nil {
		// Read the rest to know how much of the input was lost.
		if size < 0 {
			io.Copy(io.Discard, cr)
			end.Size = cr.n
		} else {
			end.Size = size
		}
		end.Err = derr
	} else {
		end.Size = max(size, end.Bytes)
	}
	if err := w.End(end); err != nil {
		return err
	}
	if derr == nil && end.Generations == 0 && opts.Gen != "" {
		return fmt.Errorf("%s: --gen %s: %w", opts.File, gens, split.ErrNothingKept)
	}
	if derr != nil {
		pct := 0.0
		if end.Size > 0 {
			pct = float64(end.Lost()) * 100 / float64(end.Size)
		}
		return fmt.Errorf("%s: %w; lost %d bytes (%s%% of the file)", opts.File, derr, end.Lost(), strconv.FormatFloat(pct, 'f', 2, 64))
	}
	return nil
}

// genCount is what walking a generation's events adds to framing it.
type genCount struct {
	events  int
	maxTime uint64
	counts  [256]decode.EventCount
}

// countEvents walks the events of each complete generation of a file,
// decoding generations on every core, and returns the damage that ended
// the walk, if any.
func countEvents(f *os.File) (map[uint64]*genCount, error) {
	dr, err := decode.NewReader(f)
	if err != nil {
		return map[uint64]*genCount{}, err
	}
	dr.SetDetail(decode.Counts)
	var mu sync.Mutex
	counted := map[uint64]*genCount{}
	err = dr.Parallel(0, func(_ *decode.GenReader, g *decode.Generation) error {
		c := &genCount{events: g.Events, maxTime: g.MaxTime, counts: g.Counts}
		mu.Lock()
		counted[g.Num] = c
		mu.Unlock()
		return nil
	})
	return counted, err
}

// countGenerations counts the complete generations of a file.
func countGenerations(f *os.File) int {
	dr, err := decode.NewReader(f)
	if err != nil {
		return -1
	}
	dr.SetDetail(decode.Frames)
	n := 0
	for {
		if _, err := dr.Next(); err != nil {
			return n // complete generations only, whatever ended the read
		}
		n++
	}
}
