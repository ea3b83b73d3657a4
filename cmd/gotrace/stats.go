package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/gotrace-cli/gotrace/internal/split"
	"github.com/gotrace-cli/gotrace/internal/stats"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

type statsOptions struct {
	IO *Streams

	File       string
	Sections   []string
	Top        int
	JSON       bool
	Markdown   bool
	Stacks     int
	FullStacks bool
	Model      modelFlags
}

func newStatsCmd(io *Streams, runF func(*statsOptions) error) *cobra.Command {
	opts := &statsOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "stats [flags] FILE|-",
		Short: "Report what a trace holds: goroutines, scheduling, blocking, GC, syscalls, annotations, CPU",
		Long: strings.TrimSpace(`
stats analyses a trace and reports, section by section:

  findings     what to fix, most severe first, each with the code it points
               at and the next command: hot locks, GC cost and the code that
               allocates, scheduling saturation, leak suspects, network and
               syscall waits, long pauses
  overview     version, size, start, duration, generations, events, GOMAXPROCS,
               threads; bytes by event type; one row per generation
  goroutines   created, ended, peak; time running, runnable, blocked, in
               syscalls; scheduling latency; goroutines by start function
  blocking     blocked time by reason with percentiles and the top stacks
  gc           GC cycles, time in GC, stop-the-world pauses, mark assists,
               heap size and goal, minimum mutator utilization (MMU)
  syscalls     system calls, the blocking ones, the top stacks
  annotations  runtime/trace tasks and regions with percentiles, logs
  cpu          CPU samples, the top functions, the code that allocates

Events are read and validated by golang.org/x/exp/trace; sizes and tables
come from gotrace's own decoder. Traces of Go 1.11 to 1.21 get every section
but the wire tables. A damaged trace gets the sections for its complete
generations, a warning of what was lost, and exit status 1.

Output is styled on a terminal and plain text when piped or with NO_COLOR;
--markdown suits a pull request, --json (schema gotrace.stats/v1) a script.
Goroutines are the program's (user), the runtime's, or the tools' (the
tracer's and profiler's helpers, gotrace's own shim). The scheduling,
blocking and syscall sections count user goroutines and show the others'
time apart on one line; --goroutines all counts every goroutine, and then
those totals match go tool trace -pprof.`),
		Example: `  gotrace stats app.trace
  gotrace stats --section gc,findings app.trace
  gotrace stats --json app.trace | jq .gc.stw
  gotrace stats --markdown --top 5 app.trace > stats.md
  gotrace stats --goroutines all --section blocking app.trace
  cat app.trace | gotrace stats -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runStats(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Sections, "section", nil, "show only section `NAME` (repeat, or a comma list): "+strings.Join(report.StatsSections, ", "))
	f.IntVar(&opts.Top, "top", stats.DefaultTop, "rows in each list (`N`)")
	opts.Model.add(f)
	f.IntVar(&opts.Stacks, "stacks", 2, "show `N` innermost frames of each stack in the text, then its first frame in the program's own code")
	f.BoolVar(&opts.FullStacks, "full-stacks", false, "show every frame of each stack in the text")
	f.BoolVar(&opts.JSON, "json", false, "write JSON (schema gotrace.stats/v1)")
	f.BoolVar(&opts.Markdown, "markdown", false, "write Markdown, for a pull request")
	return cmd
}

func runStats(ctx context.Context, opts *statsOptions) error {
	mode, err := outputMode(opts.IO, opts.JSON, opts.Markdown)
	if err != nil {
		return err
	}
	if opts.Top <= 0 {
		return usagef("--top %d: want a positive number of rows", opts.Top)
	}
	secs, err := parseSections(opts.Sections)
	if err != nil {
		return err
	}
	so, err := opts.Model.options(opts.Top)
	if err != nil {
		return err
	}
	m, err := loadModel(ctx, opts.IO, opts.File, so, opts.Model.window)
	if m == nil {
		return err
	}
	rerr := report.Stats(opts.IO.Out, m, report.StatsOptions{
		Options:  report.Options{Mode: mode, Width: opts.IO.Width},
		Sections: secs,
		Top:      opts.Top,
		Stacks:   stackFrames(opts.Stacks, opts.FullStacks),
	})
	return cmp.Or(err, rerr)
}

// outputMode picks the report mode from the flags and the streams.
func outputMode(io *Streams, json, markdown bool) (report.Mode, error) {
	switch {
	case json && markdown:
		return 0, usagef("--json and --markdown are two different outputs: choose one")
	case json:
		return report.JSON, nil
	case markdown:
		return report.Markdown, nil
	case io.Styled():
		return report.Styled, nil
	}
	return report.Plain, nil
}

func parseSections(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if !slices.Contains(report.StatsSections, n) {
			return nil, usagef("--section %q: no such section (want %s)", n, strings.Join(report.StatsSections, ", "))
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	// Report order, whatever the order on the command line.
	slices.SortFunc(out, func(a, b string) int {
		return slices.Index(report.StatsSections, a) - slices.Index(report.StatsSections, b)
	})
	return out, nil
}

// loadModel analyses the trace named file ("-": standard input). A damaged
// trace returns the model of its complete generations and an error; an
// unreadable one returns no model. SIGINT cancels the analysis.
func loadModel(ctx context.Context, streams *Streams, file string, o stats.Options, sel windowFlags) (*stats.Model, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	defer softMemoryLimit(streams, statsMemoryLimit)()

	var f *os.File
	if file == "-" {
		// The analysis reads twice and in parallel, so standard input is
		// spooled to a temporary file first.
		tmp, err := os.CreateTemp("", "gotrace-stdin-*.trace")
		if err != nil {
			return nil, err
		}
		// N.B. Removed at once where an open file outlives its name
		// (Unix), so that nothing is left even if gotrace is killed.
		if os.Remove(tmp.Name()) != nil {
			defer os.Remove(tmp.Name())
		}
		defer tmp.Close()
		if _, err := io.Copy(tmp, streams.In); err != nil {
			return nil, fmt.Errorf("-: reading standard input: %w", err)
		}
		f = tmp
	} else {
		var err error
		if f, err = openTrace(file); err != nil {
			return nil, err
		}
		defer f.Close()
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(file, "give a file, or - to read standard input")
	}
	so, windowed, err := sel.options()
	if err != nil {
		return nil, err
	}
	var window string
	var windowDamage error
	if windowed {
		if f, window, windowDamage, err = selectWindow(file, f, fi.Size(), so); err != nil {
			return nil, err
		}
		defer f.Close()
		if fi, err = f.Stat(); err != nil {
			return nil, err
		}
	}
	if streams.ErrTTY {
		// Progress on a terminal only, on one line that is cleared at the end.
		o.Progress = func(done, total int64) {
			if total > 0 {
				fmt.Fprintf(streams.ErrOut, "\r\x1b[Kgotrace: reading %s: %d%%", file, 100*done/total)
			}
		}
		defer fmt.Fprint(streams.ErrOut, "\r\x1b[K")
	}
	m, err := stats.Compute(ctx, file, f, fi.Size(), o)
	if errors.Is(err, context.Canceled) {
		return nil, err
	}
	if m != nil && windowed {
		m.Window = window
		if windowDamage != nil && err == nil {
			// The window's generations are whole; the trace after them is not.
			m.Damage.Damaged, m.Damage.Error = true, windowDamage.Error()
			err = fmt.Errorf("%w: %s", stats.ErrDamaged, windowDamage)
		}
	}
	return m, err
}

// windowFlags are --time and --gen: the whole generations to analyse.
type windowFlags struct{ time, gen string }

func (w *windowFlags) add(f *pflag.FlagSet) {
	f.StringVar(&w.time, "time", "", "analyse only the generations that overlap `FROM-TO` (durations from the trace's start, e.g. 1s-2s)")
	f.StringVar(&w.gen, "gen", "", "analyse only generations `N-M` (numbers as in gotrace decode; N, N- and -M work too)")
}

// options turns the flags into a selection of generations, and says
// whether there is one.
func (w windowFlags) options() (split.Options, bool, error) {
	var o split.Options
	if w.time != "" {
		win, err := parseWindow(w.time)
		if err != nil {
			return o, false, err
		}
		o.From, o.To = win.From, win.To
	}
	if w.gen != "" {
		g, err := parseGenRange(w.gen)
		if err != nil {
			return o, false, err
		}
		o.FirstGen, o.LastGen = g.First, g.Last
	}
	return o, w.time != "" || w.gen != "", nil
}

// selectWindow copies the header and the generations so selects of the
// trace in f into an unnamed temporary file, a trace of its own, and
// returns it with the generations it holds. Damage after some whole
// generations comes back as damage, with the file.
func selectWindow(name string, f *os.File, size int64, so split.Options) (*os.File, string, error, error) {
	tmp, err := os.CreateTemp("", "gotrace-window-*.trace")
	if err != nil {
		return nil, "", nil, err
	}
	if os.Remove(tmp.Name()) != nil {
		defer os.Remove(tmp.Name())
	}
	parts, err := split.Split(bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 1<<20), f, so, fileSink{tmp})
	if len(parts) == 0 {
		tmp.Close()
		if errors.Is(err, split.ErrNothingKept) {
			return nil, "", nil, fmt.Errorf("%s: nothing matches: no generation in the window", name)
		}
		return nil, "", nil, fmt.Errorf("%s: %w", name, cmp.Or(err, split.ErrNothingKept))
	}
	p := parts[0]
	window := fmt.Sprintf("generation %d", p.FirstGen)
	if p.LastGen != p.FirstGen {
		window = fmt.Sprintf("generations %d-%d", p.FirstGen, p.LastGen)
	}
	var damage error
	if err != nil {
		damage = fmt.Errorf("%s: %w", name, err)
	}
	return tmp, window, damage, nil
}

// fileSink is a split.Sink writing its one part to a file.
type fileSink struct{ f *os.File }

func (s fileSink) Create(int) (io.Writer, func() error, func(), error) {
	return s.f, func() error { return nil }, func() {}, nil
}

// modelFlags are the flags stats and check share: which goroutines the
// sections count, which the findings leave out, and which generations are
// read.
type modelFlags struct {
	kinds     string
	ignore    ignoreFlags
	window    windowFlags
	goroutine goroutineFilter
}

func (mf *modelFlags) add(f *pflag.FlagSet) {
	f.StringVar(&mf.kinds, "goroutines", "user", "count the time of goroutines of `KINDS` in the scheduling, blocking and syscall sections: all, or a comma list of user, runtime, tooling")
	mf.ignore.add(f)
	mf.window.add(f)
	mf.goroutine.add(f)
}

// options turns the flags into the analysis's options, with top rows in
// each list.
func (mf *modelFlags) options(top int) (stats.Options, error) {
	o := stats.Options{Top: top}
	var err error
	if o.Kinds, err = parseKinds(mf.kinds); err != nil {
		return o, err
	}
	if o.Ignore, err = mf.ignore.compile(); err != nil {
		return o, err
	}
	o.Goroutine, err = mf.goroutine.compile()
	return o, err
}

// goroutineFilter is --goroutine: the goroutines the sections count, by
// start function.
type goroutineFilter struct{ re string }

func (g *goroutineFilter) add(f *pflag.FlagSet) {
	f.StringVar(&g.re, "goroutine", "", "count in the scheduling, blocking and syscall sections only goroutines whose start function matches the regular expression `RE`")
}

func (g goroutineFilter) compile() (*regexp.Regexp, error) {
	if g.re == "" {
		return nil, nil
	}
	re, err := regexp.Compile(g.re)
	if err != nil {
		return nil, usagef("--goroutine %q: %v", g.re, err)
	}
	return re, nil
}

// parseKinds turns a --goroutines value into stats.Options.Kinds.
func parseKinds(v string) (uint8, error) {
	if v == "" {
		return 1 << timeline.User, nil // the flag's default
	}
	var kinds uint8
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "all" {
			return 0, nil
		}
		k, ok := timeline.ParseKind(name)
		if !ok {
			return 0, usagef("--goroutines %q: want all, or a comma list of user, runtime, tooling", v)
		}
		kinds |= 1 << k
	}
	return kinds, nil
}

// stackFrames is report.StatsOptions.Stacks for --stacks and --full-stacks.
func stackFrames(n int, full bool) int {
	if full {
		return -1
	}
	return max(n, 1)
}

// ignoreFlags are --ignore and --ignore-file: goroutines to leave out of
// the leak suspects and the findings.
type ignoreFlags struct {
	patterns []string
	file     string
}

func (ig *ignoreFlags) add(f *pflag.FlagSet) {
	f.StringArrayVar(&ig.patterns, "ignore", nil, "leave goroutines whose start function or stack matches the regular expression `RE` out of leak suspects and findings (repeat for more)")
	f.StringVar(&ig.file, "ignore-file", "", "read --ignore patterns from `FILE`, one a line (# starts a comment)")
}

// compile returns the patterns of --ignore and the lines of --ignore-file.
func (ig *ignoreFlags) compile() ([]*regexp.Regexp, error) {
	pats := slices.Clone(ig.patterns)
	if ig.file != "" {
		b, err := os.ReadFile(ig.file)
		if err != nil {
			return nil, usagef("--ignore-file: %v", err)
		}
		for line := range strings.Lines(string(b)) {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				pats = append(pats, line)
			}
		}
	}
	var out []*regexp.Regexp
	for _, p := range pats {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, usagef("--ignore %q: %v", p, err)
		}
		out = append(out, re)
	}
	return out, nil
}
