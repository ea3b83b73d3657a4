package drill

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline"
	"golang.org/x/exp/trace"
)

// Index is a map of a trace drawn by one cheap pass: where each complete
// generation lies in the file and what time it covers, and, when asked
// for, in which generations each goroutine and each task appears. A
// generation is self-contained (its own tables, and a status for every
// goroutine and P at its start), so an answer about one instant or one
// goroutine needs golang.org/x/exp/trace only over the generations the
// index names.
type Index struct {
	Version format.Version
	// Gens are the complete generations, in order.
	Gens []GenSpan
	// Size is the input's size in bytes.
	Size int64
	// Err is the damage found after the last complete generation, nil
	// when the input ended cleanly: an *decode.Error.
	Err error

	actors *actorWalk // nil unless goroutines and tasks were recorded
}

// GenSpan is one generation's place in the file and in time.
type GenSpan struct {
	Num uint64
	// Offset and End delimit its bytes: [Offset, End).
	Offset, End int64
	// MinTicks is its first timestamp, the earliest batch base time;
	// MaxTicks its last, the latest timed event (only the latest batch
	// base time, but for the last generation, when the index was drawn
	// without walking events). A batch no thread wrote counts at most
	// up to the next generation's first timestamp, where the statuses
	// the runtime writes late belong (see timeline.Restamps).
	MinTicks, MaxTicks uint64
	late               uint64 // the latest time of the batches no thread wrote
	exact              bool   // MaxTicks is the latest event's time
	// Frequency is its timestamp frequency in ticks per second (the
	// first generation's, when the index did not decode this one: the
	// runtime fixes it once per process).
	Frequency uint64
	// From is when it starts on golang.org/x/exp/trace's clock: the time
	// of the Sync event that opens it, which comes after the last event
	// of the generation before. An index drawn without walking events
	// does not know that event: past the first generation, From is then
	// the generation's earliest batch, which may be earlier, until
	// Locate settles it. To is when the next one starts, or for the last,
	// its last timestamp.
	From, To trace.Time
	// Clock is its clock snapshot (Go 1.25 and later), nil before.
	Clock *decode.ClockSnapshot
}

// GenRange is the generations, by index in Index.Gens, from the first to
// the last in which something appears.
type GenRange struct{ First, Last int }

// IndexOptions choose what the index pass records.
type IndexOptions struct {
	// Actors walks every event to record in which generations each
	// goroutine and each task appears; without it the pass reads only
	// the batch headers, and decodes the first generation (for the
	// frequency and the clock) and the last (for its end).
	Actors bool
}

// ErrNotIndexable marks a trace the index cannot map: one in the old
// (Go 1.11–1.21) format, which has no generations.
var ErrNotIndexable = errors.New("trace has no generations to index")

// BuildIndex reads the trace in r, size bytes long, once and maps it. A
// trace damaged after some complete generations gives the index of those,
// with the damage in Index.Err; damage before any gives an error.
//
// Without IndexOptions.Actors it reads only batch headers, a few dozen
// bytes per batch, and decodes two generations: the first, for the
// frequency and the clock snapshot, and the last, for its end.
func BuildIndex(r io.ReaderAt, size int64, opts IndexOptions) (*Index, error) {
	dr, err := decode.NewReader(io.NewSectionReader(r, 0, size))
	if err != nil {
		if errors.Is(err, decode.ErrOldFormat) {
			return nil, fmt.Errorf("%w: %w", ErrNotIndexable, err)
		}
		return nil, err
	}
	ix := &Index{Version: dr.Version(), Size: size}
	if opts.Actors {
		err = ix.walk(dr)
	} else {
		err = ix.frame(r)
	}
	if err != nil {
		return nil, err
	}
	if len(ix.Gens) == 0 {
		if ix.Err != nil {
			return nil, ix.Err
		}
		return ix, nil
	}
	// N.B. golang.org/x/exp/trace never lets time go back: a Sync (like
	// any event) earlier than the last event before it comes a nanosecond
	// after it.
	var prev trace.Time
	for i := range ix.Gens {
		s := &ix.Gens[i]
		if i+1 < len(ix.Gens) {
			s.late = min(s.late, ix.Gens[i+1].MinTicks-1)
		}
		s.MaxTicks = max(s.MaxTicks, s.late)
		s.From = xexpTime(s.MinTicks, s.Frequency)
		if s.From <= prev {
			s.From = prev + 1
		}
		if i > 0 {
			ix.Gens[i-1].To = s.From
		}
		prev = max(s.From, xexpTime(s.MaxTicks, s.Frequency))
	}
	ix.Gens[len(ix.Gens)-1].To = prev
	return ix, nil
}

// walk indexes the generations dr reads, walking every event to record the
// goroutines and tasks in each.
func (ix *Index) walk(dr *decode.Reader) error {
	dr.SetDetail(decode.Frames)
	w := newActorWalk(ix.Version)
	ix.actors = w
	for {
		g, err := dr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			ix.Err = err
			return nil
		}
		s := GenSpan{Num: g.Num, Offset: g.Offset, End: g.End, MinTicks: g.MinTime, Frequency: g.Frequency, Clock: g.Clock, exact: true}
		if s.MaxTicks, s.late, err = w.gen(dr, g, len(ix.Gens)); err != nil {
			ix.Err = err
			return nil
		}
		ix.Gens = append(ix.Gens, s)
	}
}

// frame indexes the generations of the trace in r by their batch headers
// alone, with the frame rule every reader follows (decode.Framer), and
// decodes the first generation and the last.
func (ix *Index) frame(r io.ReaderAt) error {
	fr := decode.NewFramer(&atSource{r: r, off: format.HeaderSize, size: ix.Size}, ix.Version, format.HeaderSize)
	var s GenSpan
	batch := func(b *decode.FramedBatch) {
		if b.Header == format.EvEndOfGeneration {
			return
		}
		s.MinTicks = min(s.MinTicks, b.Time)
		if b.M == format.NoThread {
			s.late = max(s.late, b.Time)
		} else {
			s.MaxTicks = max(s.MaxTicks, b.Time)
		}
	}
	for {
		s = GenSpan{MinTicks: ^uint64(0)}
		sp, err := fr.Next(batch)
		if err == io.EOF {
			break
		}
		if err != nil {
			ix.Err = err
			break
		}
		s.Num, s.Offset, s.End = sp.Gen, sp.Offset, sp.End
		ix.Gens = append(ix.Gens, s)
	}
	if len(ix.Gens) == 0 {
		return nil
	}
	// N.B. The runtime fixes the trace clock's frequency once per
	// process: every generation has the first one's. A generation read
	// later gets its own (see Index.load).
	first, err := ix.load(r, 0, decode.Frames)
	if err != nil {
		return err
	}
	for i := range ix.Gens {
		ix.Gens[i].Frequency = first.Frequency
	}
	// N.B. The frame rule sees only batch headers: damage inside the
	// last generation's events shows here first. The generations before
	// it stand, as a walk would leave them (see walk).
	for len(ix.Gens) > 0 {
		_, err := ix.load(r, len(ix.Gens)-1, decode.Counts)
		var de *decode.Error
		if err == nil || !errors.As(err, &de) {
			return err
		}
		ix.Err = err
		ix.Gens = ix.Gens[:len(ix.Gens)-1]
	}
	return nil
}

// load decodes generation i of the trace in r at the detail given and
// sets what it learns in Gens[i]: the frequency, the clock snapshot and,
// when it walked the events, the last times.
func (ix *Index) load(r io.ReaderAt, i int, d decode.Detail) (*decode.Generation, error) {
	s := &ix.Gens[i]
	dr, err := decode.NewReader(genReader(r, ix.Version, s.Offset, s.End))
	if err != nil {
		return nil, err
	}
	dr.SetDetail(d)
	g, err := dr.Next()
	if err != nil {
		return nil, relocate(err, s.Offset)
	}
	s.Frequency, s.Clock = g.Frequency, g.Clock
	if d != decode.Frames {
		s.MaxTicks, s.late = eventTicks(g)
		s.exact = true
	}
	return g, nil
}

// settle makes Gens[i].MaxTicks, and so Gens[i+1].From, exact for an index
// drawn without walking events. Each thread writes its batches in order,
// so its latest event is in its last batch: only those are walked.
func (ix *Index) settle(r io.ReaderAt, i int) error {
	s := &ix.Gens[i]
	if s.exact {
		return nil
	}
	dr, err := decode.NewReader(genReader(r, ix.Version, s.Offset, s.End))
	if err != nil {
		return err
	}
	dr.SetDetail(decode.Frames)
	g, err := dr.Next()
	if err != nil {
		return relocate(err, s.Offset)
	}
	lastOf := make(map[uint64]int) // thread → its last batch
	for j := range g.Batches {
		b := &g.Batches[j]
		if b.Header == format.EvEventBatch && b.Events == nil {
			lastOf[b.M] = j
		}
	}
	var threaded, late uint64
	for j := range g.Batches {
		b := &g.Batches[j]
		if b.Header != format.EvEventBatch || b.Events != nil || b.M != format.NoThread && lastOf[b.M] != j {
			continue
		}
		last := b.Time
		if err := dr.EachEvent(g, j, func(ev *decode.Event) error {
			last = max(last, ev.Time)
			return nil
		}); err != nil {
			return relocate(err, s.Offset)
		}
		if b.M == format.NoThread {
			late = max(late, last)
		} else {
			threaded = max(threaded, last)
		}
	}
	if i+1 < len(ix.Gens) {
		late = min(late, ix.Gens[i+1].MinTicks-1)
	}
	s.MaxTicks, s.late, s.exact = max(threaded, late), late, true
	end := max(s.From, xexpTime(s.MaxTicks, s.Frequency))
	if i+1 < len(ix.Gens) {
		next := &ix.Gens[i+1]
		next.From = max(next.From, end+1)
		s.To = next.From
	} else {
		s.To = end
	}
	return nil
}

// Locate is GenAt made exact: the generation golang.org/x/exp/trace
// delivers instant t in, settling the generations before it as needed.
func (ix *Index) Locate(r io.ReaderAt, t trace.Time) (int, bool, error) {
	k, ok := ix.GenAt(t)
	if !ok {
		return 0, false, nil
	}
	for k > 0 {
		if err := ix.settle(r, k-1); err != nil {
			return 0, false, err
		}
		if t >= ix.Gens[k].From {
			break
		}
		k--
	}
	return k, true, nil
}

// atSource is the FrameSource of a trace read at an offset: a Framer
// reads batch headers through it and skips the batches' bytes unread.
type atSource struct {
	r         io.ReaderAt
	off, size int64
	buf       []byte // the bytes from off on, as far as read
}

// peekAhead is how much Peek reads at once: a batch header and the
// first bytes after it.
const peekAhead = 64

func (s *atSource) Peek(n int) ([]byte, error) {
	if n <= len(s.buf) {
		return s.buf[:n], nil
	}
	want := min(int64(max(n, peekAhead)), s.size-s.off)
	if cap(s.buf) < int(want) {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	m, err := s.r.ReadAt(s.buf, s.off)
	s.buf = s.buf[:m]
	if m >= n {
		return s.buf[:n], nil
	}
	switch {
	case s.off+int64(m) >= s.size:
		err = io.EOF // the input ends here
	case err == nil || err == io.EOF:
		err = io.ErrUnexpectedEOF // the file is shorter than it was
	}
	return s.buf, err
}

func (s *atSource) Discard(n int) (int, error) {
	d := int(min(int64(n), s.size-s.off))
	s.off += int64(d)
	if d <= len(s.buf) {
		s.buf = s.buf[d:]
	} else {
		s.buf = s.buf[:0]
	}
	if d < n {
		return d, io.EOF
	}
	return d, nil
}

// xexpTime is ticks on golang.org/x/exp/trace's clock, converted as it
// converts them (in floating point, so that the times agree to the
// nanosecond with those of its events).
func xexpTime(ticks, freq uint64) trace.Time {
	if freq == 0 {
		return 0
	}
	return trace.Time(float64(ticks) * (1.0 / (float64(freq) / 1e9)))
}

// genReader reads the header of a version v trace, then the bytes
// [off, end) of r. It says how long it is (a Spliced), so the decoder
// takes a buffer of that size at once instead of growing one by copies.
func genReader(r io.ReaderAt, v format.Version, off, end int64) io.Reader {
	return newSpliced([]readerAt{bytes.NewReader(format.AppendHeader(nil, v)), io.NewSectionReader(r, off, end-off)})
}

// relocate moves the offset of a *decode.Error found reading a stream
// that begins with a header and then the file's bytes from off on, to
// where it is in the file.
func relocate(err error, off int64) error {
	var de *decode.Error
	if errors.As(err, &de) && de.Offset >= format.HeaderSize {
		c := *de
		c.Offset += off - format.HeaderSize
		return &c
	}
	return err
}

// Start is the trace's start on golang.org/x/exp/trace's clock: the first
// generation's. The commands give times as durations from it.
func (ix *Index) Start() trace.Time {
	if len(ix.Gens) == 0 {
		return 0
	}
	return ix.Gens[0].From
}

// End is the trace's last timestamp on golang.org/x/exp/trace's clock.
func (ix *Index) End() trace.Time {
	if len(ix.Gens) == 0 {
		return 0
	}
	return ix.Gens[len(ix.Gens)-1].To
}

// Duration is the time from the trace's start to its end.
func (ix *Index) Duration() time.Duration { return time.Duration(ix.End() - ix.Start()) }

// GenAt is the index in Gens of the generation holding instant t: the last
// that starts at or before it (see GenSpan.From: without walking events,
// an instant just after it may be in the one before). ok is false for a
// time outside the trace.
func (ix *Index) GenAt(t trace.Time) (int, bool) {
	if len(ix.Gens) == 0 || t < ix.Start() || t > ix.End() {
		return 0, false
	}
	i := sort.Search(len(ix.Gens), func(i int) bool { return ix.Gens[i].From > t })
	return i - 1, true
}

// Goroutine is the generations in which goroutine id appears, for every
// goroutine that had the ID; ok is false when none did, or when the index
// was drawn without IndexOptions.Actors.
func (ix *Index) Goroutine(id trace.GoID) (GenRange, bool) {
	if ix.actors == nil {
		return GenRange{}, false
	}
	return ix.actors.gs.get(uint64(id), len(ix.Gens))
}

// Task is the generations in which task id appears (begins, ends, or has
// a region or log); ok is false as for Goroutine.
func (ix *Index) Task(id trace.TaskID) (GenRange, bool) {
	if ix.actors == nil {
		return GenRange{}, false
	}
	return ix.actors.tasks.get(uint64(id), len(ix.Gens))
}

// HasActors says whether the index records goroutines and tasks.
func (ix *Index) HasActors() bool { return ix.actors != nil }

// NumGoroutineIDs is how many distinct goroutine IDs appear in the trace
// (0 when the index does not record them).
func (ix *Index) NumGoroutineIDs() int {
	if ix.actors == nil {
		return 0
	}
	return ix.actors.gs.len(len(ix.Gens))
}

// Clock is the first clock snapshot of the trace, nil when it has none
// (before Go 1.25): what ties its times to the wall clock.
func (ix *Index) Clock() (*decode.ClockSnapshot, uint64) {
	for _, g := range ix.Gens {
		if g.Clock != nil {
			return g.Clock, g.Frequency
		}
	}
	return nil, 0
}

// Open returns the generations lo to hi (indexes in Gens, inclusive) of
// the trace in r as a trace of their own: the header and their bytes,
// with the statuses the runtime wrote late at the end of generation hi
// moved back by the first time of the one after it, as a read of the
// whole trace moves them (see timeline.Restamps). A timeline.Source moves
// those of the generations before hi, which it reads ahead. What it
// returns reads at its offsets too (an io.ReaderAt), so that a
// timeline.ReadAt of it holds no copy of a generation.
func (ix *Index) Open(r io.ReaderAt, lo, hi int) (*Spliced, error) {
	last := &ix.Gens[hi]
	parts := []readerAt{bytes.NewReader(format.AppendHeader(nil, ix.Version)),
		io.NewSectionReader(r, ix.Gens[lo].Offset, last.Offset-ix.Gens[lo].Offset)}
	if hi+1 == len(ix.Gens) {
		return newSpliced(append(parts, io.NewSectionReader(r, last.Offset, last.End-last.Offset))), nil
	}
	dr, err := decode.NewReader(genReader(r, ix.Version, last.Offset, last.End))
	if err != nil {
		return nil, err
	}
	dr.SetDetail(decode.Frames)
	g, err := dr.Next()
	if err != nil {
		return nil, relocate(err, last.Offset)
	}
	// Restamps needs the last time of each batch no thread wrote; the
	// Frames detail walks none.
	for i := range g.Batches {
		b := &g.Batches[i]
		if b.Header != format.EvEventBatch || b.M != format.NoThread || b.Events != nil {
			continue
		}
		if err := dr.EachEvent(g, i, func(ev *decode.Event) error {
			b.Last = max(b.Last, ev.Time)
			return nil
		}); err != nil {
			return nil, relocate(err, last.Offset)
		}
	}
	// Offsets in g less delta are offsets in r.
	delta := int64(format.HeaderSize) - last.Offset
	pos := last.Offset
	for _, rs := range timeline.Restamps(g, ix.Gens[hi+1].MinTicks) {
		parts = append(parts, io.NewSectionReader(r, pos, rs.Offset-delta-pos), bytes.NewReader(rs.Header()))
		pos = rs.Data - delta
	}
	return newSpliced(append(parts, io.NewSectionReader(r, pos, last.End-pos))), nil
}

// readerAt is a part of a Spliced input: it knows its size.
type readerAt interface {
	io.ReaderAt
	Size() int64
}

// Spliced is parts read one after the other, as one input: read in order,
// or at its offsets.
type Spliced struct {
	parts []readerAt
	ends  []int64 // the offset after each part
	off   int64   // where Read reads next
}

func newSpliced(parts []readerAt) *Spliced {
	s := &Spliced{parts: parts}
	var n int64
	for _, p := range parts {
		n += p.Size()
		s.ends = append(s.ends, n)
	}
	return s
}

// ReadAt reads len(p) bytes from offset off, across the parts.
func (s *Spliced) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	i := sort.Search(len(s.ends), func(i int) bool { return s.ends[i] > off })
	for ; len(p) > 0 && i < len(s.parts); i++ {
		start := s.ends[i] - s.parts[i].Size()
		want := min(int64(len(p)), s.ends[i]-off)
		m, err := s.parts[i].ReadAt(p[:want], off-start)
		n, off, p = n+m, off+int64(m), p[m:]
		if int64(m) < want {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF // the file is shorter than it was
			}
			return n, err
		}
	}
	if len(p) > 0 {
		return n, io.EOF
	}
	return n, nil
}

// Len is how many bytes Read has left to read.
func (s *Spliced) Len() int {
	if len(s.ends) == 0 {
		return 0
	}
	return int(s.ends[len(s.ends)-1] - s.off)
}

// Read reads on from where the last Read stopped.
func (s *Spliced) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(s.ends) == 0 || s.off >= s.ends[len(s.ends)-1] {
		return 0, io.EOF
	}
	// N.B. Within one part at a time, as io.MultiReader reads.
	i := sort.Search(len(s.ends), func(i int) bool { return s.ends[i] > s.off })
	n, err := s.ReadAt(p[:min(int64(len(p)), s.ends[i]-s.off)], s.off)
	s.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// actorWalk records, generation by generation, which goroutines and tasks
// appear in events.
type actorWalk struct {
	gs, tasks rangeTable
	// For each event type, the indexes in its Args of the goroutine and
	// task arguments, -1 when it has none.
	goArg, goArg2, taskArg [256]int8
}

func newActorWalk(v format.Version) *actorWalk {
	w := &actorWalk{}
	for t := range 256 {
		w.goArg[t], w.goArg2[t], w.taskArg[t] = -1, -1, -1
		s := v.Spec(format.EventType(t))
		if s == nil {
			continue
		}
		w.goArg[t] = int8(s.ArgIndex("g"))
		w.goArg2[t] = int8(s.ArgIndex("new_g"))
		w.taskArg[t] = int8(s.ArgIndex("task"))
		if format.EventType(t) == format.EvCPUSample {
			w.goArg[t] = -1 // a sample names the goroutine it caught, not one the generation tracks
		}
	}
	return w
}

// gen records the goroutines and tasks of generation g, number n in the
// index, and returns its latest timestamps, as eventTicks.
func (w *actorWalk) gen(dr *decode.Reader, g *decode.Generation, n int) (threaded, late uint64, err error) {
	var last uint64
	fn := func(ev *decode.Event) error {
		last = max(last, ev.Time)
		t := ev.Type
		if i := w.goArg[t]; i >= 0 && int(i) < len(ev.Args) {
			w.gs.mark(ev.Args[i], n)
		}
		if i := w.goArg2[t]; i >= 0 && int(i) < len(ev.Args) {
			w.gs.mark(ev.Args[i], n)
		}
		if i := w.taskArg[t]; i >= 0 && int(i) < len(ev.Args) && ev.Args[i] != 0 {
			w.tasks.mark(ev.Args[i], n)
		}
		return nil
	}
	for i := range g.Batches {
		b := &g.Batches[i]
		if b.Header != format.EvEventBatch || b.Events != nil {
			continue // tables, experiments
		}
		last = b.Time
		if err := dr.EachEvent(g, i, fn); err != nil {
			return 0, 0, err
		}
		if b.M == format.NoThread {
			late = max(late, last)
		} else {
			threaded = max(threaded, last)
		}
	}
	return threaded, late, nil
}

// rangeTable records the generations in which each ID appears: in slices
// for the small IDs the runtime hands out (a map update at every event
// took most of the walk's time), in a map for the rest, and for an ID met
// in a generation past what the slices hold. The slices hold 16 bits an
// ID and grow by a quarter: a trace has as many task IDs as it has tasks
// (1.3 million in the stress trace).
type rangeTable struct {
	first, last []uint16 // generation index plus one; 0 where the ID was not seen
	sparse      map[uint64]GenRange
}

// maxDenseID bounds the IDs kept in the slices.
const maxDenseID = 1 << 22

// maxDenseGen bounds the generations the slices hold.
const maxDenseGen = math.MaxUint16 - 1

func (t *rangeTable) mark(id uint64, n int) {
	if id >= maxDenseID || n >= maxDenseGen {
		if t.sparse == nil {
			t.sparse = make(map[uint64]GenRange)
		}
		r, ok := t.sparse[id]
		if !ok {
			if r, ok = t.dense(id); !ok {
				r.First = n
			}
		}
		r.Last = n
		t.sparse[id] = r
		return
	}
	if int(id) >= len(t.first) {
		size := max(int(id)+1, len(t.first)+len(t.first)/4)
		t.first = append(t.first, make([]uint16, size-len(t.first))...)
		t.last = append(t.last, make([]uint16, size-len(t.last))...)
	}
	if t.first[id] == 0 {
		t.first[id] = uint16(n + 1)
	}
	t.last[id] = uint16(n + 1)
}

// dense is what the slices hold of id.
func (t *rangeTable) dense(id uint64) (GenRange, bool) {
	if id < uint64(len(t.first)) && t.first[id] != 0 {
		return GenRange{int(t.first[id]) - 1, int(t.last[id]) - 1}, true
	}
	return GenRange{}, false
}

// get is the generations among the first gens (the complete ones: a
// walk that met damage marked some IDs in the generation it could not
// finish) in which id appears.
func (t *rangeTable) get(id uint64, gens int) (GenRange, bool) {
	r, ok := t.sparse[id]
	if !ok {
		r, ok = t.dense(id)
	}
	if !ok || r.First >= gens {
		return GenRange{}, false
	}
	r.Last = min(r.Last, gens-1)
	return r, true
}

// len is how many IDs appear in the first gens generations.
func (t *rangeTable) len(gens int) int {
	n := 0
	for id, r := range t.sparse {
		if d, ok := t.dense(id); ok {
			r.First = min(r.First, d.First)
		}
		if r.First < gens {
			n++
		}
	}
	for id, f := range t.first {
		if f != 0 && int(f)-1 < gens {
			if _, ok := t.sparse[uint64(id)]; !ok {
				n++
			}
		}
	}
	return n
}

// ReadGens reads generations lo to hi of the trace in r with
// golang.org/x/exp/trace, through timeline.Read, and calls fn with each of
// their events in order until it returns false. Damage found in them is a
// *decode.Error placed in the file.
func (ix *Index) ReadGens(r io.ReaderAt, lo, hi int, fn func(*trace.Event) bool) error {
	in, err := ix.Open(r, lo, hi)
	if err != nil {
		return err
	}
	if _, err := timeline.ReadAt(in, in, fn); err != nil {
		return relocate(err, ix.Gens[lo].Offset)
	}
	return nil
}

// eventTicks is the latest time in g's batches of events, those a thread
// wrote and the others, as far as g says (under decode.Frames, only the
// batches' base times).
func eventTicks(g *decode.Generation) (threaded, late uint64) {
	for i := range g.Batches {
		b := &g.Batches[i]
		if b.Header != format.EvEventBatch || b.Events != nil {
			continue // tables, experiments
		}
		if b.M == format.NoThread {
			late = max(late, b.Last)
		} else {
			threaded = max(threaded, b.Last)
		}
	}
	return threaded, late
}
