package tables

import (
	"io"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// batchRows is how many rows a table builds before handing them to the
// Parquet writer, which encodes them into the open row group.
const batchRows = 512

// codec compresses the pages of every table: one pool of encoders, each
// with its history, for all of them.
var codec = &zstd.Codec{Level: zstd.SpeedFastest}

// pageBuffer is the size of a column's buffer for the page being built.
// An export writes some 200 columns at once: at the default 256 KiB these
// buffers alone took 40 MB.
const pageBuffer = 64 << 10

// tableWriter writes one table's file: rows go into the open row group,
// and cut ends it. Rows are kept column by column and handed to the
// writer's columns a batch at a time: assembling rows for the writer to
// take apart again cost more than the rest of the export.
type tableWriter struct {
	t *Table
	//lint:ignore SA1019 the export builds columns of parquet.Values in place and hands them to this writer's column writers; GenericWriter takes rows of Go values
	w      *parquet.Writer
	labels []string // the label values, appended to every row
	id     string
	cols   [][]parquet.Value
	n      int   // rows in cols
	total  int64 // rows written
	open   bool  // the row group has rows
	err    error
	closed bool
	b      rowBuilder
}

func newTableWriter(out io.Writer, t *Table, id string, keys, values []string, pageDir string) *tableWriter {
	opts := []parquet.WriterOption{
		parquet.Compression(codec),
		parquet.PageBufferSize(pageBuffer),
		parquet.CreatedBy("gotrace", Version, ""),
		parquet.KeyValueMetadata("gotrace.schema", Version),
		parquet.KeyValueMetadata("gotrace.table", t.Name),
	}
	if pageDir != "" {
		// N.B. A column's pages are written together, after the row
		// group's last row: until then they wait on disk, not in memory.
		opts = append(opts, parquet.ColumnPageBuffers(parquet.NewFileBufferPool(pageDir, ".gotrace-pages-*")))
	}
	w := parquet.NewWriter(out, append(opts, t.schema(keys))...)
	tw := &tableWriter{t: t, w: w, labels: values, id: id, cols: make([][]parquet.Value, len(t.Columns)+len(keys))}
	return tw
}

// row starts a row, its trace ID in place; the caller adds the table's
// columns in order, then calls done.
func (tw *tableWriter) row() *rowBuilder {
	if tw.cols[0] == nil {
		// N.B. On the first row: a small trace's tables are mostly
		// empty, and a fleet's snapshots are mostly small.
		for i := range tw.cols {
			tw.cols[i] = make([]parquet.Value, batchRows)
		}
	}
	tw.b = rowBuilder{cols: tw.cols, row: tw.n}
	tw.b.str(tw.id)
	return &tw.b
}

// done adds the labels to the row begun last and keeps it.
func (tw *tableWriter) done(b *rowBuilder) {
	for _, v := range tw.labels {
		b.str(v)
	}
	tw.n++
	tw.open = true
	if tw.n == batchRows {
		tw.flushRows()
	}
}

func (tw *tableWriter) flushRows() {
	if tw.n == 0 {
		return
	}
	cws := tw.w.ColumnWriters()
	for i, c := range tw.cols {
		if tw.err == nil {
			_, tw.err = cws[i].WriteRowValues(c[:tw.n])
		}
	}
	tw.total += int64(tw.n)
	tw.n = 0
}

// cut ends the open row group, if it has rows.
func (tw *tableWriter) cut() {
	tw.flushRows()
	if tw.open && tw.err == nil {
		tw.err = tw.w.Flush()
	}
	tw.open = false
}

// close writes what is left and the file's footer; closed again, it
// returns what it did the first time.
func (tw *tableWriter) close() error {
	if tw.closed {
		return tw.err
	}
	tw.closed = true
	tw.cut()
	if err := tw.w.Close(); tw.err == nil {
		tw.err = err
	}
	return tw.err
}

// rowBuilder appends the values of one flat row, column by column.
type rowBuilder struct {
	cols [][]parquet.Value // a column each, batchRows long
	row  int
	col  int
}

func (b *rowBuilder) add(v parquet.Value, def int) {
	// N.B. Level copies v twice and is not inlined: at tens of millions
	// of values it was a seventh of the export.
	p := &b.cols[b.col][b.row]
	*p = v
	p.SetDefinitionLevel(def)
	p.SetColumnIndex(b.col)
	b.col++
}

func (b *rowBuilder) i64(v int64) { b.add(parquet.Int64Value(v), 0) }
func (b *rowBuilder) boolean(v bool) {
	b.add(parquet.BooleanValue(v), 0)
}

// str adds s without copying it: the writer copies the bytes as it
// takes the batch, before s could go.
func (b *rowBuilder) str(s string) {
	b.add(parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s))), 0)
}

// nullable values: a definition level of 1 is a value, 0 a null.
func (b *rowBuilder) nullI64(v int64, ok bool) {
	if !ok {
		b.add(parquet.NullValue(), 0)
		return
	}
	b.add(parquet.Int64Value(v), 1)
}

func (b *rowBuilder) nullStr(s string, ok bool) {
	if !ok {
		b.add(parquet.NullValue(), 0)
		return
	}
	b.add(parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s))), 1)
}
