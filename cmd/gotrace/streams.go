package main

import (
	"io"
	"os"
	"runtime/debug"

	"golang.org/x/term"
)

// Streams are the standard streams a command uses, with what is known about
// them. Commands never touch os.Stdout directly, so tests run them with
// buffers and choose whether they look like a terminal.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// OutTTY and ErrTTY report whether Out and ErrOut are terminals.
	OutTTY, ErrTTY bool
	// NoColor is set by the NO_COLOR convention (no-color.org) and TERM=dumb.
	NoColor bool
	// Width is the terminal's width in columns, 0 when unknown.
	Width int
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// Styled reports whether Out should get colour and box drawing.
func (s *Streams) Styled() bool { return s.OutTTY && !s.NoColor }

func systemStreams() *Streams {
	s := &Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Getenv: os.Getenv}
	s.OutTTY = term.IsTerminal(int(os.Stdout.Fd()))
	s.ErrTTY = term.IsTerminal(int(os.Stderr.Fd()))
	// N.B. no-color.org: set and not empty; an empty NO_COLOR is unset.
	s.NoColor = os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb"

	if s.OutTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			s.Width = w
		}
	}
	return s
}

// Soft memory limits while a trace is read. decode holds about one
// generation at a time, stats one per core it reads on; the limit keeps
// the garbage collector from letting the heap double past that on large
// traces. pprof reading a generation per core holds a part Tracker and
// gotrace's ordered reader of that generation on each: at 112 MiB
// --type sched peaked at a median 133 MiB on the stress trace and --type
// cpu at 128 MiB on the service trace, at 100 MiB at 127 and 117 MiB for
// 5-10% more time (four to six runs each; single runs reach 10 MiB more).
// Later, with goroutines carrying their blocked time by category, --type
// sched at 100 MiB peaked at 130 to 156 MB in single runs on the stress
// trace, in 3.6 to 3.8 s; at 90 MiB at 125 to 137 MB, in 4.2 to 5.8 s.
//
// export's ordered pass (a stream, a --gen selection) and pprof's hold
// the generation the decoder reads and x/exp/trace's reading of it (in
// batches split to take about their size); export reads the generation
// waiting for the next one's first timestamp again from the file, pprof
// holds a copy. On the stress trace at 128 MiB the Perfetto export in
// order peaked at 143 MB, the Parquet tables at 145 MB for the CPU time
// they took at 200 MiB, and
// pprof's ordered pass at 150 MB for a fifth more.
//
// export of a file reads a generation per core, each through gotrace's
// ordered reader, while one goroutine takes their records in order: the
// parts hold little beside the reader's generation. Read through
// x/exp/trace, on the stress trace, it peaked at 142 MB at 128 MiB,
// 133 MB at 112 MiB and 121 MB at 100 MiB for the same CPU time; through
// the ordered reader at 100 MiB, at 118 to 125 MB for 20 to 21 s of CPU.
//
// goroutine and at read one generation at a time beside the index: 112 MiB
// keeps their peak under 150 MB on the stress trace. goroutines reads a
// file a generation per core, as pprof does, and keeps only the rows it
// shows, compactly until the end: at 100 MiB it peaked at 125 to 133 MB
// on the stress trace for 6 to 7 s of CPU (once at 149 MB), at pprof's
// 90 MiB at 124 to 130 MB for 6.7 to 6.9 s (read in order at 112 MiB, it
// peaked at 124 MB for 13 s).
const (
	decodeMemoryLimit   = 64 << 20
	statsMemoryLimit    = 112 << 20
	partsMemoryLimit    = 90 << 20
	timelineMemoryLimit = 128 << 20
	exportMemoryLimit   = 100 << 20
	drillMemoryLimit    = 112 << 20
	// view keeps what touches the window of the generations it reads
	// in full beside golang.org/x/exp/trace's reading of them; it
	// follows the goroutine groups over the wire between such reads,
	// never beside them. Zoomed in on the stress trace on a terminal,
	// at the boundary of two generations or in the densest, it peaked
	// at 168 MB at 150 MiB, 138 to 153 MB at 120 MiB, and 129 to 143 MB
	// at 104 MiB for the same CPU time within a tenth.
	viewMemoryLimit = 104 << 20
)

// softMemoryLimit sets the runtime's soft memory limit to n bytes unless the
// user set GOMEMLIMIT, and returns the function that restores it.
func softMemoryLimit(s *Streams, n int64) (restore func()) {
	if s.Getenv != nil && s.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	old := debug.SetMemoryLimit(n)
	return func() { debug.SetMemoryLimit(old) }
}
