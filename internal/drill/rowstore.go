package drill

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"time"

	"golang.org/x/exp/trace"

	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// spillRows is how many rows a list keeping every goroutine holds in
// memory before it moves them to a temporary file. A row takes about 170
// bytes: the 435 k goroutines of the bench's stress trace would hold 74 MB
// of them beside the generation being read (and more while the slice
// grows), where the file leaves 24 bytes a row to sort by.
var spillRows = 1 << 16

// rowStore keeps every row passed to add, in memory until spillRows,
// then in an unnamed temporary file, with what sorts them in memory.
type rowStore struct {
	by   string
	mem  []goRow
	refs []rowRef // once spilled: a row's sort key and place in the file
	file *os.File
	w    *bufio.Writer
	buf  []byte
	err  error // the first error writing or reading the file
}

// rowRef is a spilled row's sort key (as compareRows orders) and its
// number in the file.
type rowRef struct {
	key time.Duration
	id  int64
	seq int32
	at  uint32
}

// rowSize is the size of a row in the file.
const rowSize = 4*8 + (int(timeline.NumStates)+int(timeline.NumCategories))*8 + 3*4 + 2 + 2

func (s *rowStore) add(g goRow) {
	if s.err != nil {
		return
	}
	if s.file == nil {
		if len(s.mem) < spillRows {
			s.mem = append(s.mem, g)
			return
		}
		if s.err = s.spill(); s.err != nil {
			return
		}
	}
	s.write(&g)
}

// spill moves the rows in memory to a new temporary file, removed from
// its directory at once, so nothing is left behind whatever happens.
func (s *rowStore) spill() error {
	f, err := os.CreateTemp("", "gotrace-rows-*")
	if err != nil {
		return fmt.Errorf("a temporary file for the goroutines' rows: %w", err)
	}
	os.Remove(f.Name())
	s.file, s.w = f, bufio.NewWriterSize(f, 64<<10)
	for i := range s.mem {
		s.write(&s.mem[i])
	}
	s.mem = nil
	return s.err
}

func (s *rowStore) write(g *goRow) {
	s.refs = append(s.refs, rowRef{key: rowKey(g, s.by), id: g.id, seq: g.seq, at: uint32(len(s.refs))})
	s.buf = g.appendTo(s.buf[:0])
	if _, err := s.w.Write(s.buf); err != nil && s.err == nil {
		s.err = fmt.Errorf("writing the goroutines' rows to a temporary file: %w", err)
	}
}

// finish sorts the rows and keeps the first top (all for 0).
func (s *rowStore) finish(top int) error {
	if s.file == nil {
		slices.SortFunc(s.mem, func(x, y goRow) int { return compareRows(&x, &y, s.by) })
		if top > 0 && len(s.mem) > top {
			s.mem = s.mem[:top:top]
		}
		return nil
	}
	if s.err == nil {
		if err := s.w.Flush(); err != nil {
			s.err = fmt.Errorf("writing the goroutines' rows to a temporary file: %w", err)
		}
	}
	slices.SortFunc(s.refs, func(x, y rowRef) int {
		return cmp.Or(cmp.Compare(y.key, x.key), cmp.Compare(x.id, y.id), cmp.Compare(x.seq, y.seq))
	})
	if top > 0 && len(s.refs) > top {
		s.refs = s.refs[:top:top]
	}
	return s.err
}

func (s *rowStore) len() int {
	if s.file == nil {
		return len(s.mem)
	}
	return len(s.refs)
}

// row is the i-th row in order, read from the file when spilled.
func (s *rowStore) row(i int) goRow {
	if s.file == nil {
		return s.mem[i]
	}
	var g goRow
	if cap(s.buf) < rowSize {
		s.buf = make([]byte, rowSize)
	}
	b := s.buf[:rowSize]
	if _, err := s.file.ReadAt(b, int64(s.refs[i].at)*int64(rowSize)); err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("reading the goroutines' rows back from a temporary file: %w", err)
		}
		return g
	}
	g.decode(b)
	return g
}

func (s *rowStore) close() {
	if s.file != nil {
		s.file.Close()
	}
}

// appendTo appends g as rowSize bytes.
func (g *goRow) appendTo(b []byte) []byte {
	le := binary.LittleEndian
	for _, v := range [4]int64{g.id, g.creator, int64(g.created), int64(g.ended)} {
		b = le.AppendUint64(b, uint64(v))
	}
	for _, d := range g.totals {
		b = le.AppendUint64(b, uint64(d))
	}
	for _, d := range g.byCat {
		b = le.AppendUint64(b, uint64(d))
	}
	b = le.AppendUint32(b, uint32(g.seq))
	b = le.AppendUint32(b, g.name)
	b = le.AppendUint32(b, g.reason)
	b = le.AppendUint16(b, g.cats)
	existed := byte(0)
	if g.existed {
		existed = 1
	}
	return append(b, byte(g.state), existed)
}

// decode sets g from the rowSize bytes appendTo made.
func (g *goRow) decode(b []byte) {
	le := binary.LittleEndian
	next := func() int64 {
		v := int64(le.Uint64(b))
		b = b[8:]
		return v
	}
	g.id, g.creator, g.created, g.ended = next(), next(), time.Duration(next()), time.Duration(next())
	for i := range g.totals {
		g.totals[i] = time.Duration(next())
	}
	for i := range g.byCat {
		g.byCat[i] = time.Duration(next())
	}
	g.seq, g.name, g.reason = int32(le.Uint32(b)), le.Uint32(b[4:]), le.Uint32(b[8:])
	g.cats = le.Uint16(b[12:])
	g.state, g.existed = trace.GoState(b[14]), b[15] == 1
}
